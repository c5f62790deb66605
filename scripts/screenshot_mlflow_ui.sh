#!/usr/bin/env bash
# The MLflow UI on this checkout's store, opened in headless Chromium (every host name but localhost unresolvable):
# the experiment's run table, one parent run per variant with its figures, saved as a PNG.
# Usage: scripts/screenshot_mlflow_ui.sh OUT.png [EXPERIMENT]   (default experiment: headbench)
set -euo pipefail
OUT=$(realpath -m "$1"); EXPERIMENT=${2:-headbench}
STORE=${MLFLOW_TRACKING_URI:-sqlite:///$PWD/mlflow.db}
PORT=$(python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
mlflow ui --backend-store-uri "$STORE" --host 127.0.0.1 --port "$PORT" > /dev/null 2>&1 &
UI=$!; trap 'kill $UI 2> /dev/null' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break; sleep 0.5; done
ID=$(MLFLOW_TRACKING_URI=$STORE python -c "import mlflow, sys; print(mlflow.get_experiment_by_name(sys.argv[1]).experiment_id)" "$EXPERIMENT")
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
  --virtual-time-budget=20000 --window-size=1600,1000 --screenshot="$OUT" \
  "http://127.0.0.1:$PORT/#/experiments/$ID/runs" 2> /dev/null
echo "wrote $OUT"
