#!/bin/bash
# study6 in its own pinned clone: two one-thread workers (headbench study --rounds), that clone's own src on the
# import path. Continues from the runs committed under docs/results/study6/runs (restored first).
#   git clone -q . ../study6 && git -C ../study6 checkout -q <the design commit>
#   cp docs/results/study6/params.yaml ../study6/params.yaml
#   nohup scripts/results/study6_run.sh ../study6 > study6.log 2>&1 &
#   python scripts/collect_runs.py docs/results/study6 ../study6 ../study6/.dvc/tmp/workers/w*   # as runs finish
# The clone's params.yaml must equal the committed one (restore_runs.py checks it); the driver extends study.more
# after each round: copy it back here when it does, it is the study's plan. Uses the python/dvc on PATH (the project's venv).
set -euo pipefail
clone=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH=$clone/src HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cd "$clone"
python -c "import headbench; print('headbench from', headbench.__file__)"
dvc repro split split_more
env -u PYTHONPATH python "$here/scripts/restore_runs.py" "$here/docs/results/study6" "$clone"   # this checkout's code
exec headbench study --workers 2 --rounds --mlflow-server --port 5077
