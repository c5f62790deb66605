#!/usr/bin/env bash
# Real CommonLit runs (background). Baseline: 5 folds, 256 tokens, 1 epoch. Study: every variant, fold 0, 128 tokens, 1 epoch.
set -e
. .venv/bin/activate  # params files made by: python scripts/make_real_params.py params.baseline.yaml 1 256 40 (and params.study.yaml 1 128 30 with cv.folds [0])
export PYTHONUNBUFFERED=1
python stages/split.py --params params.baseline.yaml --out data/folds.csv
for f in 0 1 2 3 4; do
  python stages/train.py --params params.baseline.yaml --variant baseline --fold $f --seed 42 --runs runs_baseline
done
python stages/evaluate.py --params params.baseline.yaml --variant baseline --runs runs_baseline --metrics metrics/baseline_5fold.json --out evaluation_baseline
for v in baseline max mean mean_max conv1d lstm concat4 weighted_layers attention llrd reinit1; do
  python stages/train.py --params params.study.yaml --variant $v --fold 0 --seed 42 --runs runs_study
done
echo ALL DONE
