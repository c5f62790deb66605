#!/bin/bash
# A committed study's runs of some variants on one partition, trained again with checkpoints in a clone at the study's
# design commit (its own src on the import path), checked against the committed runs, then `headbench predict` timed
# on the data's texts (target columns dropped), the partition's fold models averaged:
#   git clone -q . CLONE && git -C CLONE checkout -q <the commit that froze the study's design>
#   cp STUDY/params.yaml CLONE/params.yaml            # and the data file where its data.path points
#   scripts/results/retrain_with_checkpoints.sh CLONE STUDY SPLIT VARIANT [VARIANT ...]
# Writes STUDY/retrained/: the comparison with the committed runs (retrained.json), predict's log and its time and
# peak memory (predict_time.txt, GNU time -v). Two one-thread runs side by side (train.num_threads of the study).
set -euo pipefail
clone=$(cd "$1" && pwd)
study=$(cd "$2" && pwd)
split=$3
shift 3
here=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH=$clone/src HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false HEADBENCH_TRACKING=0
cd "$clone"
python -c "import headbench; print('headbench from', headbench.__file__)"
python - <<'EOF'
import yaml
p = yaml.safe_load(open("params.yaml"))
p["train"]["save_checkpoint"] = True
yaml.safe_dump(p, open("params.yaml", "w"), sort_keys=False)
EOF
python stages/split.py --split "$split"
read -r folds seeds < <(python -c "
import yaml; p = yaml.safe_load(open('params.yaml'))
print(p['cv']['n_folds'], ','.join(map(str, p['seeds'])))")
for v in "$@"; do for k in $(seq 0 $((folds - 1))); do for s in ${seeds//,/ }; do
  echo "$v $k $s"
done; done; done | xargs -P 2 -L 1 sh -c 'python stages/train.py --variant $0 --split '"$split"' --fold $1 --seed $2 > retrain_$0_$1_$2.log 2>&1 && echo "trained $0 fold $1 seed $2"'
mkdir -p "$study/retrained"
python "$here/scripts/results/retrained_vs_study.py" runs "$study" "$study/retrained/retrained.json"
python -c "
import pandas as pd, yaml
d = yaml.safe_load(open('params.yaml'))['data']
rows = pd.read_csv(d['path'], dtype=str, keep_default_na=False)
rows.drop(columns=d.get('target_cols') or [d['target_col']]).to_csv('excerpts.csv', index=False)
print(len(rows), 'texts in excerpts.csv')"
/usr/bin/time -v headbench predict excerpts.csv --variants "$@" --output predictions.csv 2> "$study/retrained/predict_time.txt"
wc -l predictions.csv
grep -E "Elapsed|Maximum resident" "$study/retrained/predict_time.txt"
