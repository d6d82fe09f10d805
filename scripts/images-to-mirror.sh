#!/usr/bin/env bash
# Prints every image an air-gapped cluster needs, one reference a line: the operator's (from the
# chart's default values and appVersion) and each non-withdrawn Big Peer release of the catalogue
# the operator is built with, by tag and digest — what `smbp-operator images` prints.
# docs/install.md shows this list; scripts/check-chart.sh fails when it is stale.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
operator_image="$(python3 - "$ROOT/charts/smbp-operator" <<'PY'
import re, sys
chart = sys.argv[1]
def scalar(text, key, indent=""):
    match = re.search(rf"^{indent}{key}: \"?([^\"\n#]*?)\"?\s*(#.*)?$", text, re.M)
    return match.group(1) if match else ""
values, chart_yaml = open(f"{chart}/values.yaml").read(), open(f"{chart}/Chart.yaml").read()
image = values.split("\nimage:\n", 1)[1]
tag = scalar(image, "tag", "  ") or scalar(chart_yaml, "appVersion")
print(f"{scalar(image, 'registry', '  ')}/{scalar(image, 'repository', '  ')}:{tag}")
PY
)"
cd "$ROOT"
cargo run --locked -q -p smbp-operator -- images --operator-image "$operator_image"
