"""A study split across parallel workers (worktrees sharing the DVC cache) equals the sequential study."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from ruamel.yaml import YAML

from conftest import copy_repo, tiny_params
from headbench.workers import split

BIN = Path(sys.executable).parent


def sh(cmd, cwd):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1"}
    res = subprocess.run(cmd, cwd=cwd, shell=True, capture_output=True, text=True, env=env, timeout=900)
    assert res.returncode == 0, f"{cmd} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


def tiny_study(root: Path, model_dir: str) -> Path:
    copy_repo(root)
    raw = tiny_params(model_dir, "data/demo/train.csv", save_checkpoint=False)
    raw["demo"]["rows"] = 45
    raw["variants"] = {"baseline": {"head": "cls"}, "mean": {"head": "mean"}}
    YAML().dump(raw, root / "params.yaml")
    sh("git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init", root)
    return root


def test_split_gives_every_stage_to_exactly_one_worker():
    stages = [f"train@v-{f}-42" for f in range(7)]
    parts = split(stages, 3)
    assert sorted(sum(parts, [])) == sorted(stages) and [len(p) for p in parts] == [3, 2, 2]


@pytest.mark.slow
def test_two_workers_then_repro_trains_nothing_and_matches_the_sequential_study(tmp_path, tiny_models):
    model = tiny_models("bert")
    seq = tiny_study(tmp_path / "seq", model)
    sh("dvc repro", seq)
    par = tiny_study(tmp_path / "par", model)
    out = sh("python scripts/study.py --workers 2", par)
    assert "dvc repro: 0 train stages ran in the main checkout" in out, out[-3000:]
    assert "is cached - skipping run" in out
    read = lambda root: json.loads((root / "metrics/summary.json").read_text())
    assert read(par) == read(seq)
    detail = lambda root: pd.read_csv(root / "reports/comparison.csv").drop(columns="train_seconds")
    pd.testing.assert_frame_equal(detail(par), detail(seq))
    logs = [(par / ".dvc/tmp/workers/logs" / f"worker{k}.log").read_text() for k in (0, 1)]
    assert all("Running stage 'train@" in log for log in logs)  # both workers trained
    # launching again finds everything in the run-cache
    again = sh("python scripts/study.py --workers 2", par)
    assert "Running stage 'train@" not in "".join((par / ".dvc/tmp/workers/logs" / f"worker{k}.log").read_text().split("===")[-1] for k in (0, 1))
    assert "0 train stages ran" in again
