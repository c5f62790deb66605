#!/bin/bash
# One arm of the recipe trial in its own pinned clone, on one core, with that clone's own src on the import path.
#   scripts/results/trial_arm.sh plain 0 /work/trial_plain    # then: ... ema 1 /work/trial_ema
# The clone must be a checkout of the trial's frozen commit (f54a615) with the arm's params.yaml as its params.yaml;
# runs already committed under docs/results/recipe_trial/<arm>/runs are restored first (scripts/restore_runs.py),
# so a trial that outlived a machine continues where it stopped. Uses the python/dvc on PATH (the project's venv).
set -euo pipefail
arm=$1; core=$2; clone=$(cd "$3" && pwd)
here=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH=$clone/src HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cd "$clone"
cmp -s params.yaml "$here/docs/results/recipe_trial/$arm/params.yaml" || { echo "$clone/params.yaml is not the $arm arm's" >&2; exit 2; }
python -c "import headbench; print('headbench from', headbench.__file__)"
dvc repro split split_more
python "$here/scripts/restore_runs.py" "$here/docs/results/recipe_trial/$arm" "$clone"
exec taskset -c "$core" dvc repro
