#!/usr/bin/env bash
# `dvc plots diff` rendered offline in headless Chromium (every host name unresolvable), saved as a PNG.
# Usage: scripts/screenshot_plots.sh OUT.png [REV ...]   e.g. scripts/screenshot_plots.sh shot.png HEAD my-exp
set -euo pipefail
OUT=$(realpath -m "$1"); shift
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
dvc plots diff "$@" --targets reports/plots/delta_vs_baseline.csv reports/plots/learning_curves.csv -o "$DIR" > /dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --host-resolver-rules="MAP * ~NOTFOUND" \
  --virtual-time-budget=10000 --window-size=1250,900 --screenshot="$OUT" "file://$DIR/index.html" 2> /dev/null
echo "wrote $OUT"
