# wall time of a small study (2 variants x 3 folds, packaged MiniLM, demo data) with 1 and 2 workers
set -e
for n in 1 2; do
  rm -rf /work/wt$n && git clone -q /work/main /work/wt$n && cd /work/wt$n
  /work/main/.venv/bin/python - <<'PY'
from ruamel.yaml import YAML
y = YAML(); raw = y.load(open("params.yaml"))
raw["variants"] = {"baseline": raw["variants"]["baseline"], "mean": raw["variants"]["mean"]}
raw["train"]["save_checkpoint"] = False
y.dump(raw, open("params.yaml", "w"))
PY
  git -c user.email=t@t -c user.name=t commit -qam "2 variants" 
  export PATH=/work/main/.venv/bin:$PATH PYTHONPATH=src
  python -c "from headbench.tracking import init_store; init_store()" > /dev/null 2>&1
  dvc repro -q split > /dev/null
  s=$(date +%s.%N)
  python scripts/study.py --workers $n > /work/wt$n.log 2>&1
  e=$(date +%s.%N)
  echo "workers=$n wall_s=$(echo "$e - $s" | bc) $(grep -o 'dvc repro: [0-9]* train stages ran' /work/wt$n.log)"
done
