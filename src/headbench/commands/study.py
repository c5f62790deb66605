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
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from headbench.config import load_params
from headbench.errors import StudyError
from headbench.study.rounds import add_round, next_round, open_variants
from headbench.study.workers import launch


def start_mlflow_server(root: Path, port: int) -> tuple[subprocess.Popen, str]:
    uri = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(["mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
                             "--artifacts-destination", str(root / "mlartifacts"), "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            urllib.request.urlopen(uri + "/health", timeout=1).read()
            return proc, uri
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    proc.terminate()
    raise StudyError(f"the MLflow server on port {port} did not start")


def repro(root: Path, tracking_uri: str | None = None) -> None:
    """`dvc repro` in the checkout: the train stages come from the run-cache, evaluate and aggregate run. With a
    server, the aggregate logs there too: the experiment it made stores artifacts only through the server."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri} if tracking_uri else None
    out = subprocess.run(["dvc", "repro"], cwd=root, capture_output=True, text=True, env=env)
    sys.stdout.write(out.stdout)
    if out.returncode:
        sys.stderr.write(out.stderr)
        sys.exit(out.returncode)
    trained = re.findall(r"Running stage 'train(?:_more)?@", out.stdout)
    print(f"dvc repro: {len(trained)} train stages ran in the main checkout, the rest came from the run-cache", flush=True)


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
        while True:
            params = load_params(root / "params.yaml")
            rnd, _ = next_round(params)
            t0 = time.perf_counter()
            workers = launch(root, args.workers, args.devices, tracking_uri=uri)
            print(f"round {rnd}: workers finished in {time.perf_counter() - t0:.0f} s", flush=True)
            failed = [(stage, w) for w in workers for stage in w.failed]
            for stage, w in failed:
                print(f"FAILED {stage} (worker {w.k}; log: {w.log})", file=sys.stderr)
            if failed:
                sys.exit(1)
            if args.no_repro:
                return
            repro(root, uri)
            if not args.rounds:
                return
            still_open = open_variants(root / params.paths.detail)
            seed = add_round(root / "params.yaml", still_open)
            if seed is None:
                print(f"round {rnd}: no variant open" if not still_open else f"round {rnd}: budget spent; open: {still_open}")
                return
            print(f"round {rnd + 1}: partition of split seed {seed} for {', '.join(still_open)} and the baseline "
                  "(params.yaml study.more)", flush=True)
    finally:
        if server:
            server.terminate()

