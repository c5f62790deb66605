#!/usr/bin/env bash
# Real CommonLit technique study, reduced for a 2-core CPU (run it in the background; ~1 h there):
#   1. every default variant on fold 0 of the 5-fold split, 128 tokens, 1 epoch, seed 42;
#   2. seeds 43 and 44 for the baseline and the two variants with the lowest fold-0 RMSE in step 1;
#   3. the baseline with every encoder dropout off (`encoder_dropout: 0`), seeds 42-44, against the baseline.
# Each step ends with evaluate + aggregate (table, plots) under $OUT/study, $OUT/seeds and $OUT/nodrop.
# Usage: scripts/real_study.sh [path/to/commonlit/train.csv] [out dir]; finished runs are kept and skipped.
set -euo pipefail
DATA=${1:-../shared/data/commonlit/train.csv}
OUT=${2:-real}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"

train_all() {  # params file
  local v s
  for v in $(python -c "from headbench.config import load_params; print(*load_params('$1').variants)"); do
    for s in $(python -c "from headbench.config import load_params; print(*load_params('$1').seeds)"); do
      [ -f "$OUT/runs/$v/fold0-seed$s/metrics.json" ] ||
        python stages/train.py --params "$1" --variant "$v" --fold 0 --seed "$s" --folds "$OUT/folds.csv" --runs "$OUT/runs"
    done
  done
}

report() {  # params file, report dir
  local v
  for v in $(python -c "from headbench.config import load_params; print(*load_params('$1').variants)"); do
    python stages/evaluate.py --params "$1" --variant "$v" --runs "$OUT/runs" --metrics "$2/metrics/$v.json" --out "$2/evaluation/$v"
  done
  python stages/aggregate.py --params "$1" --metrics-dir "$2/metrics" --eval-dir "$2/evaluation" \
    --summary "$2/summary.json" --report "$2/comparison.md" --plots "$2/plots"
}

python scripts/make_real_params.py "$OUT/params.study.yaml" --data "$DATA" --epochs 1 --max-length 128 --eval-every 30 --folds 0 --seeds 42
python stages/split.py --params "$OUT/params.study.yaml" --out "$OUT/folds.csv"
train_all "$OUT/params.study.yaml"
report "$OUT/params.study.yaml" "$OUT/study"

TOP2=$(python - "$OUT/runs" "$OUT/params.study.yaml" <<'PY'
import json, pathlib, sys
from headbench.config import load_params
study = set(load_params(sys.argv[2]).variants) - {"baseline"}
rmse = {v: json.loads((pathlib.Path(sys.argv[1]) / v / "fold0-seed42" / "metrics.json").read_text())["best_valid_rmse"] for v in study}
print(*sorted(rmse, key=rmse.get)[:2])
PY
)
echo "seeds study: baseline $TOP2"
python scripts/make_real_params.py "$OUT/params.seeds.yaml" --data "$DATA" --epochs 1 --max-length 128 --eval-every 30 --folds 0 --seeds 42 43 44 --variants baseline $TOP2
train_all "$OUT/params.seeds.yaml"
report "$OUT/params.seeds.yaml" "$OUT/seeds"

python scripts/make_real_params.py "$OUT/params.nodrop.yaml" --data "$DATA" --epochs 1 --max-length 128 --eval-every 30 --folds 0 --seeds 42 43 44 --variants baseline --add nodrop '{head: cls, encoder_dropout: 0}'
train_all "$OUT/params.nodrop.yaml"
report "$OUT/params.nodrop.yaml" "$OUT/nodrop"
echo ALL DONE
