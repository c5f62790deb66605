#!/bin/bash
# A committed study in its own pinned clone, with that clone's own src on the import path. Continues from the runs
# committed under STUDY/runs (restored first), then trains what is missing with `headbench study OPTIONS...`.
#   git clone -q . CLONE && git -C CLONE checkout -q <the commit that froze the study's design>
#   cp STUDY/params.yaml CLONE/params.yaml          # and the data file where its data.path points
#   nohup scripts/results/run_study.sh CLONE STUDY --workers 2 --rounds > study.log 2>&1 &
#   python scripts/collect_runs.py STUDY CLONE CLONE/.dvc/tmp/workers/w*   # as runs finish; commit STUDY
# CLONE's params.yaml must equal STUDY's (restore_runs.py checks it). With --rounds the driver extends study.more in
# CLONE's params.yaml after each round: copy it back to STUDY, it is the study's plan. Uses the python and dvc on PATH
# (the project's venv).
set -euo pipefail
clone=$(cd "$1" && pwd)
study=$(cd "$2" && pwd)
shift 2
here=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH=$clone/src HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cd "$clone"
python -c "import headbench; print('headbench from', headbench.__file__)"
dvc repro split split_more
env -u PYTHONPATH python "$here/scripts/restore_runs.py" "$study" "$clone"   # this checkout's code
exec headbench study "$@"
