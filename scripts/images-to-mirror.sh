#!/usr/bin/env bash
# Prints every image an air-gapped cluster needs, one reference a line: the operator's (from the
# chart's default values and appVersion) and each non-withdrawn Big Peer release of the catalogue
# the operator is built with (crates/smbp-core/data/releases.yaml), by tag and digest.
# docs/install.md shows this list; scripts/check-chart.sh fails when it is stale.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
python3 - "$ROOT/charts/smbp-operator" "$ROOT/crates/smbp-core/data/releases.yaml" <<'PY'
import re, sys
chart, catalogue = sys.argv[1], open(sys.argv[2]).read()
def scalar(text, key, indent=""):
    match = re.search(rf"^{indent}{key}: \"?([^\"\n#]*?)\"?\s*(#.*)?$", text, re.M)
    return match.group(1) if match else ""
values, chart_yaml = open(f"{chart}/values.yaml").read(), open(f"{chart}/Chart.yaml").read()
image = values.split("\nimage:\n", 1)[1]
tag = scalar(image, "tag", "  ") or scalar(chart_yaml, "appVersion")
print(f"{scalar(image, 'registry', '  ')}/{scalar(image, 'repository', '  ')}:{tag}")
repository = scalar(catalogue, "repository")
for release in re.split(r"^  - ", catalogue, flags=re.M)[1:]:
    if "withdrawn:" not in release:
        print(f"{repository}:{scalar(release, 'tag', '    ')}@{scalar(release, 'digest', '    ')}")
PY
