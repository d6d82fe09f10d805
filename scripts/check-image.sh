#!/usr/bin/env bash
# CI check of the operator image, from a fresh machine (CI=true, no standard input), without a
# container daemon or any registry but crates.io and PyPI:
#   1. `cargo xtask image build` builds the release binary and packs the OCI archive
#      (target/oci/smbp-operator.oci.tar, its layout and its digest);
#   2. `cargo xtask image verify` checks digests, user 65532, entrypoint, labels, no shell and no
#      other program, and runs `smbp-operator --version` from the extracted root filesystem;
#   3. the same binary packed again gives the same bytes and digest (reproducible packing);
#   4. checkov scans the Dockerfile (python3 with pip; installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "--> build"
cargo xtask image build
echo "--> verify"
cargo xtask image verify target/oci/smbp-operator.oci.tar
echo "--> pack again from the same binary: same digest"
cargo xtask image build --binary target/image/smbp-operator --out target/oci-again >/dev/null
if ! cmp -s target/oci/smbp-operator.oci.tar target/oci-again/smbp-operator.oci.tar; then
  echo "two packs of one binary differ: $(cat target/oci/smbp-operator.digest target/oci-again/smbp-operator.digest | tr '\n' ' ')" >&2
  exit 1
fi
echo "    $(cat target/oci/smbp-operator.digest), archive $(stat -c %s target/oci/smbp-operator.oci.tar) bytes"
echo "--> checkov: Dockerfile"
scripts/checkov.sh --file Dockerfile --framework dockerfile --compact --quiet --skip-download
echo "image checks passed"
