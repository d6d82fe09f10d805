#!/usr/bin/env bash
# Runs checkov (the security scanner the chart, Dockerfile and workflow checks use), installing
# the pinned version from PyPI first when no checkov is on the PATH.
#
#   scripts/checkov.sh --file Dockerfile --framework dockerfile     # any checkov arguments
set -euo pipefail
CHECKOV_VERSION="3.3.30"
if ! command -v checkov >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "checkov==$CHECKOV_VERSION" >&2
  hash -r
fi
exec checkov "$@"
