#!/usr/bin/env bash
# Real CommonLit baseline (run it in the background; ~45 min on a 2-core CPU): 5 folds, 256 tokens, 1 epoch, seed 42.
# Usage: scripts/real_commonlit.sh [path/to/commonlit/train.csv] [out dir]
set -euo pipefail
DATA=${1:-../shared/data/commonlit/train.csv}
OUT=${2:-real}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
python scripts/make_real_params.py "$OUT/params.baseline.yaml" --data "$DATA" --epochs 1 --max-length 256 --eval-every 40 --variants baseline
python stages/split.py --params "$OUT/params.baseline.yaml" --out "$OUT/folds.csv"
for f in 0 1 2 3 4; do
  python stages/train.py --params "$OUT/params.baseline.yaml" --variant baseline --fold $f --seed 42 --folds "$OUT/folds.csv" --runs "$OUT/runs_baseline"
done
python stages/evaluate.py --params "$OUT/params.baseline.yaml" --variant baseline --runs "$OUT/runs_baseline" \
  --out "$OUT/evaluation_baseline"  # summary.json there: OOF and per-fold RMSE
