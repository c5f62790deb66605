#!/bin/bash
# study6 in its own pinned clone: two one-thread workers (headbench study --rounds) and one MLflow server.
#   git clone -q . ../study6 && git -C ../study6 checkout -q <the design commit>
#   cp docs/results/study6/params.yaml ../study6/params.yaml
#   nohup scripts/results/study6_run.sh ../study6 > study6.log 2>&1 &
#   python scripts/collect_runs.py docs/results/study6 ../study6 ../study6/.dvc/tmp/workers/w*   # as runs finish
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/run_study.sh" "$1" "$here/../../docs/results/study6" --workers 2 --rounds --mlflow-server --port 5077
