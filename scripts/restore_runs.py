"""Put a study's committed runs back into a checkout, so the study continues on a machine whose DVC run-cache never
saw them (the run-cache is local to one machine).

    python scripts/restore_runs.py docs/results/study6 CLONE

CLONE is a checkout of the study's pinned commit with the study's params.yaml, its data file in place and
`dvc repro split` done. Each committed run (collect_runs.py: metrics.json, history.csv, model.json, oof.csv without
the target) is written into CLONE's runs/ with the target rejoined by id, exactly as the train stage writes it.
Then `dvc commit -f` records each restored train stage in dvc.lock and the run-cache, so `dvc repro` and the study's
workers skip them ("is cached - skipping run") and train only what is missing. A later round's run is the stage
`train_more@run<i>-<fold>-<seed>`, i being its (variant, split) entry in params.yaml's `study.more`, which the study
driver wrote: the committed params.yaml carries it. Studies before the partition design (study5 and older) restore
with this script at their own commit.
"""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from headbench.config import load_params
from headbench.data.table import load_dataset
from headbench.io import write_csv
from collect_runs import targets_as_written, with_targets

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("dest", type=Path, help="the committed study (params.yaml, runs/)")
ap.add_argument("clone", type=Path, help="the checkout to restore the runs into")
args = ap.parse_args()

params = load_params(args.dest / "params.yaml")
clone_params = load_params(args.clone / "params.yaml")
if clone_params != params:
    sys.exit(f"error: {args.clone / 'params.yaml'} differs from {args.dest / 'params.yaml'}: restore into a checkout of the study")
if not (args.clone / params.paths.folds).is_dir():
    sys.exit(f"error: {args.clone / params.paths.folds} is missing: run `dvc repro split split_more` in {args.clone} first")
data = load_dataset(params.data, path=args.clone / params.data.path, task=params.task.type)
targets = targets_as_written(data, params.task.type)

stages = []
for run in sorted((args.dest / "runs").glob("*/split*-fold*-seed*")):
    split, fold, seed = (int(x) for x in run.name.removeprefix("split").replace("-fold", " ").replace("-seed", " ").split())
    variant = run.parent.name
    if split == params.cv.seed:
        stage = f"train@{variant}-{fold}-{seed}"
    elif (variant, split) in params.study.more:
        stage = f"train_more@run{params.study.more.index((variant, split))}-{fold}-{seed}"
    else:
        sys.exit(f"error: {run}: split {split} is neither cv.seed nor planned for {variant} in study.more")
    out = args.clone / params.paths.runs / variant / run.name
    if out.exists():
        continue
    oof = pd.read_csv(run / "oof.csv", dtype={"id": str}, keep_default_na=False)
    out.mkdir(parents=True)
    write_csv(out / "oof.csv", with_targets(oof, targets))
    for name in ("metrics.json", "history.csv", "model.json"):
        shutil.copy(run / name, out / name)
    stages.append(stage)

print(f"restored {len(stages)} runs into {args.clone / params.paths.runs}")
if stages:
    subprocess.run(["dvc", "commit", "-f", *stages], cwd=args.clone, check=True)
    print(f"dvc commit: {len(stages)} train stages recorded in dvc.lock and the run-cache")
