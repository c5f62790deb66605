"""`headbench study`: workers train a round, `dvc repro` judges it, and with adaptive rounds the open variants get the
next partition, until none is open or the rounds are spent."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from headbench.config import load_params
from headbench.errors import CommandFailed
from headbench.study.rounds import add_round, next_round, open_variants
from headbench.study.workers import launch


def repro(root: Path, tracking_uri: str | None = None) -> None:
    """`dvc repro` in the checkout: the train stages come from the run-cache, evaluate and aggregate run. With a
    server, the aggregate logs there too: the experiment it made stores artifacts only through the server."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri} if tracking_uri else None
    out = subprocess.run(["dvc", "repro"], cwd=root, capture_output=True, text=True, env=env)
    sys.stdout.write(out.stdout)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise CommandFailed("dvc repro failed (its output is above)", out.returncode)
    trained = re.findall(r"Running stage 'train(?:_more)?@", out.stdout)
    print(f"dvc repro: {len(trained)} train stages ran in the main checkout, the rest came from the run-cache", flush=True)


def run_study(root: Path, workers: int, devices: str, tracking_uri: str | None, rounds: bool, judge: bool = True) -> None:
    """Train what params.yaml plans in ``workers`` workers, then (``judge``) `dvc repro`; with ``rounds``, repeat on
    the next partition for the variants still open."""
    while True:
        params = load_params(root / "params.yaml")
        rnd, _ = next_round(params)
        t0 = time.perf_counter()
        done = launch(root, workers, devices, tracking_uri=tracking_uri)
        print(f"round {rnd}: workers finished in {time.perf_counter() - t0:.0f} s", flush=True)
        failed = [(stage, w) for w in done for stage in w.failed]
        for stage, w in failed:
            print(f"FAILED {stage} (worker {w.k}; log: {w.log}); its last lines:", file=sys.stderr)
            print("    " + w.failed[stage].replace("\n", "\n    "), file=sys.stderr)
        if failed:
            raise CommandFailed(f"{len(failed)} train stage(s) failed; launching again skips every finished one", 1)
        if not judge:
            return
        repro(root, tracking_uri)
        if not rounds:
            return
        still_open = open_variants(root / params.paths.detail)
        seed = add_round(root / "params.yaml", still_open)
        if seed is None:
            print(f"round {rnd}: no variant open" if not still_open else f"round {rnd}: budget spent; open: {still_open}")
            return
        print(f"round {rnd + 1}: partition of split seed {seed} for {', '.join(still_open)} and the baseline "
              "(params.yaml study.more)", flush=True)
