"""Run the study's train stages in N parallel workers, then `dvc repro` restores them and aggregates.

    headbench study                             # CPU: one 1-thread worker per core (the measured best layout)
    headbench study --workers 8 --devices cuda  # worker k on GPU k mod (visible GPUs): 8 concurrent runs on one GPU
    headbench study --workers 2 --mlflow-server # one local MLflow server for every worker's runs
    headbench study --workers 2 --rounds        # adaptive: after each round, the open variants get a fresh partition

With --rounds, each round trains what params.yaml plans, then `dvc repro` judges it; variants still open (undecided,
budget left) and the baseline get the next partition of `study.split_seeds`, written to `study.more` in params.yaml, until
none is open or the budget is spent. Commit params.yaml and dvc.lock afterwards: they are the study's plan and record.

Each worker is a git worktree under .dvc/tmp/workers/ sharing this checkout's DVC cache; see
src/headbench/study/workers.py. Launching again after a failure or Ctrl-C skips every finished stage.
"""
import os
import subprocess
from pathlib import Path

from headbench.errors import StudyError
from headbench.study.driver import run_study
from headbench.tracking.server import start_mlflow_server


def add_arguments(ap) -> None:
    ap.add_argument("--workers", type=int, default=None,
                    help="parallel runs (default on the CPU: one per core, each pinned to it with one thread; "
                         "two 1-thread workers train 1.33x the steps/s of one 2-thread process on 2 cores)")
    ap.add_argument("--devices", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--mlflow-server", action="store_true", help="start a local MLflow server for the workers")
    ap.add_argument("--port", type=int, default=5055)
    ap.add_argument("--no-repro", action="store_true", help="train only; skip the final `dvc repro`")
    ap.add_argument("--rounds", action="store_true", help="adaptive: add rounds for the open variants (study.split_seeds)")


def run(args) -> None:
    if args.workers is None:
        if args.devices == "cuda":
            raise StudyError("--devices cuda needs --workers N (concurrent runs, placed round-robin on the visible GPUs)")
        args.workers = len(os.sched_getaffinity(0))
    if args.workers < 1:
        raise StudyError(f"--workers must be >= 1, got {args.workers}")
    root = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip())
    server, uri = start_mlflow_server(root, args.port) if args.mlflow_server else (None, None)
    try:
        run_study(root, args.workers, args.devices, uri, args.rounds, judge=not args.no_repro)
    finally:
        if server:
            server.terminate()
