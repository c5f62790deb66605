"""Wall time of one small study under two versions of headbench, run through DVC as a user would, alternating.

Each arm is a clone of this repository at its commit with the same edited params.yaml (CommonLit, 3 variants,
folds 0-2, 128 tokens, 1 epoch, no checkpoints; each version's own default evaluation schedule). The arms take
turns stage by stage (order A B, then B A, ...), so drift in the machine's speed falls on both alike:
`dvc repro split`, then each `dvc repro --single-item train@<stage>`, then `dvc repro` (evaluate, aggregate).
A study's wall time is the sum of its commands' wall times. Usage:
    python scripts/results/study_speed_alternating.py OUT.jsonl BEFORE_CLONE AFTER_CLONE
(each clone's own src/ is put first on PYTHONPATH, so one virtual environment serves both)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

out, arms = Path(sys.argv[1]), {"before": Path(sys.argv[2]).resolve(), "after": Path(sys.argv[3]).resolve()}


def dvc(arm: str, *args: str) -> None:
    root = arms[arm]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    t0 = time.perf_counter()
    proc = subprocess.run(["dvc", *args], cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    (root / "study_speed.log").open("a").write(proc.stdout + proc.stderr)
    if proc.returncode:
        sys.exit(f"{arm}: dvc {' '.join(args)} failed ({proc.returncode}); see {root / 'study_speed.log'}")
    row = {"arm": arm, "command": "dvc " + " ".join(args), "wall_s": round(wall, 2), "at": time.strftime("%H:%M:%S")}
    out.open("a").write(json.dumps(row) + "\n")
    print(row, flush=True)


def train_stages(arm: str) -> list[str]:
    listing = subprocess.run(["dvc", "stage", "list", "--name-only"], cwd=arms[arm], capture_output=True, text=True, check=True)
    return [s for s in listing.stdout.split() if s.startswith("train@")]


stages = train_stages("after")
assert stages == train_stages("before"), "the two arms must train the same stages"
steps = [("repro", "split")] + [("repro", "--single-item", s) for s in stages] + [("repro",)]
for i, args in enumerate(steps):
    for arm in (("before", "after") if i % 2 == 0 else ("after", "before")):
        dvc(arm, *args)
