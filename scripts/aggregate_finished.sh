#!/usr/bin/env bash
# Evaluate + aggregate the variants of a study whose runs have all finished, while others are still training:
# the train outputs may be spread over a checkout and its worker worktrees. Writes a results folder with the
# table, summary, plots, and each run's metrics.json and history.csv (no predictions: they hold the targets).
# Usage: scripts/aggregate_finished.sh PARAMS OUT RUNS_DIR [RUNS_DIR ...]
#   e.g. scripts/aggregate_finished.sh ../study/params.yaml docs/results/runlevel ../study/runs ../study/.dvc/tmp/workers/w*/runs
set -euo pipefail
PARAMS=$1; OUT=$2; shift 2
export HEADBENCH_TRACKING=0
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/runs"
for d in "$@"; do
  for r in "$d"/*/*/; do
    [ -f "$r/metrics.json" ] || continue
    v=$(basename "$(dirname "$r")"); mkdir -p "$TMP/runs/$v"; cp -rL "$r" "$TMP/runs/$v/"
  done
done
python - "$PARAMS" "$TMP" <<'PY'
import sys
from pathlib import Path
from ruamel.yaml import YAML
y = YAML(); p = y.load(open(sys.argv[1])); runs = Path(sys.argv[2]) / "runs"
done = [v for v in p["variants"] if all((runs / v / f"fold{f}-seed{s}" / "metrics.json").is_file()
                                        for f in p["cv"]["folds"] for s in p["seeds"])]
for v in list(p["variants"]):
    if v not in done:
        del p["variants"][v]
y.dump(p, open(Path(sys.argv[2]) / "params.yaml", "w"))
print("variants with every run finished:", done)
PY
rm -rf "$OUT"; mkdir -p "$OUT/evaluation" "$OUT/runs"
for v in $(python -c "from headbench.config import load_params; print(*load_params('$TMP/params.yaml').variants)"); do
  python stages/evaluate.py --params "$TMP/params.yaml" --variant "$v" --runs "$TMP/runs" --out "$TMP/evaluation/$v" > /dev/null
  cp "$TMP/evaluation/$v/summary.json" "$OUT/evaluation/$v.json"
  for r in "$TMP/runs/$v"/*/; do mkdir -p "$OUT/runs/$v/$(basename "$r")"; cp "$r/metrics.json" "$r/history.csv" "$OUT/runs/$v/$(basename "$r")/"; done
done
cp "$TMP/params.yaml" "$OUT/params.yaml"
python stages/aggregate.py --params "$TMP/params.yaml" --evaluation "$TMP/evaluation" \
  --summary "$OUT/summary.json" --report "$OUT/comparison.md" --detail "$OUT/comparison.csv" --plots "$OUT/plots"
rm -f "$OUT/plots/pred_vs_true.csv"  # CommonLit targets: not committed
