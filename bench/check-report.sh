#!/usr/bin/env bash
# The report script still reads the committed benchmark JSON and writes the
# tables and plots (into a scratch folder). Skips (exit 77) without a python3
# that has matplotlib.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import matplotlib' 2>/dev/null; then python=$candidate; break; fi
done
[ -n "$python" ] || { echo "skipped: no python3 with matplotlib"; exit 77; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The run behind docs/results.md (e558c49): stage_bench's JSON and moegate.bench's (the Triton router beside the
# presets and beside the wide top-k shapes and GLM-4.5), both from one scripts/results-run on one card.
json=$root/docs/results/h200-e558c49.json
results=$root/docs/results
"$python" "$root/scripts/report" "$json" "${json%.json}-peers.json" "${json%.json}-peers-wide.json" --docs "$scratch"
grep -q '^## kimi-k2' "$scratch/results.md"
grep -q 'speedup over s00_naive' "$scratch/results.md"
grep -q "^## Issue #14's goals in this run" "$scratch/results.md"
grep -q "^## Issue #16's goals in this run" "$scratch/results.md"
grep -q '| SGLang Triton' "$scratch/results.md"
# Regenerating gives back the committed tables (the plots are not compared).
diff -u "$root/docs/results.md" "$scratch/results.md"
[ -s "$scratch/results/kimi-k2-time.png" ]
echo "report regenerated from $(basename "$json")"
