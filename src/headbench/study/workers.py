"""Run a study's train stages in N parallel workers through DVC's own cache.

DVC cannot run stages of one repository in parallel (one repo lock). Each worker therefore gets its own
git worktree of the project that shares the main checkout's cache directory, and reproduces its share of
the `train@...` stages there. Their outputs land in the shared cache and in DVC's run-cache, so `dvc repro`
in the main checkout then restores every finished train stage ("is cached - skipping run") and runs only
evaluate and aggregate. A worker that fails or is killed loses nothing finished: launching again skips
what the run-cache already holds.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from headbench.config import load_params
from headbench.engine.placement import placement, visible_gpus
from headbench.errors import StudyError
from headbench.tracking.store import local_store

WORKTREES = Path(".dvc") / "tmp" / "workers"  # inside .dvc/tmp: DVC and git ignore it


def _run(cmd: list[str], cwd: Path, **kw) -> str:
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise StudyError(f"`{' '.join(cmd)}` failed in {cwd}:\n{res.stderr.strip()[-2000:]}")
    return res.stdout


def train_stages(root: Path) -> list[str]:
    """Every train stage of the study (round 1's `train@`, later rounds' `train_more@`), in dvc.yaml's order."""
    return [s for s in _run(["dvc", "stage", "list", "--name-only"], root).split() if s.startswith(("train@", "train_more@"))]


def upstream_stages(root: Path, stages: list[str]) -> list[str]:
    """The stages that ``stages`` depend on (the data and its partitions), sorted by name."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        graph = repo.index.graph  # an edge runs from a stage to a stage it depends on
        by_name = {stage.addressing: stage for stage in graph}
        return sorted({up.addressing for s in stages for up in nx.descendants(graph, by_name[s])} - set(stages))


def split(stages: list[str], n: int) -> list[list[str]]:
    """Round-robin: each worker gets every n-th stage, so all workers move through the variants together."""
    return [stages[k::n] for k in range(n)]


def prepare_worktree(root: Path, k: int) -> Path:
    """A git worktree of HEAD with the main checkout's uncommitted files, data file and DVC cache."""
    wt = root / WORKTREES / f"w{k}"
    if not wt.exists():
        wt.parent.mkdir(parents=True, exist_ok=True)
        _run(["git", "worktree", "add", "--detach", "--force", str(wt), "HEAD"], root)
    else:
        _run(["git", "checkout", "--detach", "--force", _run(["git", "rev-parse", "HEAD"], root).strip()], wt)
    # the working tree as the user has it: modified and untracked (not ignored) files, params.yaml included
    changed = _run(["git", "ls-files", "-m", "-o", "--exclude-standard", "-z"], root).split("\0")
    for rel in filter(None, changed):
        src = root / rel
        if src.is_file() and not str(rel).startswith(str(WORKTREES)):
            (wt / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, wt / rel)
    data = Path(load_params(root / "params.yaml").data.path)
    if not data.is_absolute() and not (wt / data).exists() and (root / data).exists():
        (wt / data).parent.mkdir(parents=True, exist_ok=True)
        (wt / data).symlink_to((root / data).resolve())  # an ignored data file: one copy, the user's
    cache = _run(["dvc", "cache", "dir"], root).strip()
    _run(["dvc", "config", "--local", "cache.dir", cache], wt)
    _run(["dvc", "config", "--local", "cache.type", "hardlink,symlink,copy"], wt)
    return wt


@dataclass
class Worker:
    k: int
    stages: list[str]
    cwd: Path
    env: dict
    cpus: set[int] | None
    log: Path
    failed: dict[str, str] = field(default_factory=dict)  # each failed stage: its last lines in the log
    proc: subprocess.Popen | None = None

    def run(self, stop: threading.Event) -> None:
        for stage in self.stages:
            if stop.is_set():
                return
            self.repro([stage])

    def repro(self, targets: list[str]) -> bool:
        """`dvc repro targets` in this worker's worktree, its output appended to the log; whether it succeeded."""
        name = " ".join(targets)
        with open(self.log, "a") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} {name}\n")
            log.flush()
            start = log.tell()
            pin = (lambda: os.sched_setaffinity(0, self.cpus)) if self.cpus else None
            self.proc = subprocess.Popen(["dvc", "repro", *targets], cwd=self.cwd, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=pin)
            ok = self.proc.wait() == 0
        if not ok:
            self.failed[name] = last_lines(self.log, start)
        return ok


def last_lines(path: Path, start: int, n: int = 8) -> str:
    """The last ``n`` non-empty lines written to ``path`` after byte ``start`` (progress bars cut to their last update)."""
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    lines = [line.rstrip("\r").rsplit("\r", 1)[-1].rstrip() for line in text.split("\n")]
    return "\n".join([line for line in lines if line.strip()][-n:])


def launch(root: Path, n_workers: int, devices: str = "cpu", tracking_uri: str | None = None, log_dir: Path | None = None,
           stages: list[str] | None = None) -> list[Worker]:
    """Run the train stages across ``n_workers`` worktrees; return the workers (``failed``: each stage that did not
    finish, with its last lines in the log).

    devices: ``cpu`` pins worker k to its own share of the cores (1 thread each on 2 cores); ``cuda`` also gives
    worker k GPU k mod (visible GPUs) through CUDA_VISIBLE_DEVICES (see ``placement``).
    """
    root = root.resolve()
    stages = stages if stages is not None else train_stages(root)
    log_dir = (log_dir or root / WORKTREES / "logs").resolve()
    log_dir.mkdir(parents=True, exist_ok=True)
    places = placement(n_workers, devices, sorted(os.sched_getaffinity(0)), visible_gpus() if devices == "cuda" else 0)
    workers = []
    for k, (share, place) in enumerate(zip(split(stages, n_workers), places)):
        wt = prepare_worktree(root, k)
        env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
        env["MLFLOW_TRACKING_URI"] = tracking_uri or env.get("MLFLOW_TRACKING_URI") or local_store(root)
        if place.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(place.gpu)
        workers.append(Worker(k, share, wt, env, set(place.cpus), log_dir / f"worker{k}.log"))
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]

    def terminate(signum, frame):
        stop.set()
        for w in workers:
            if w.proc and w.proc.poll() is None:
                os.killpg(w.proc.pid, signal.SIGTERM)

    old = {s: signal.signal(s, terminate) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        # What every train stage reads (the data, the partitions) is made once, so that no two workers write the
        # same outputs into the shared cache at once; the others then restore it from the run-cache.
        first = upstream_stages(root, stages)
        if first and not workers[0].repro(first) and not stop.is_set():
            name = " ".join(first)
            raise StudyError(f"`dvc repro {name}` failed in worker 0 (log: {workers[0].log}):\n{workers[0].failed[name]}")
        for t in threads if not stop.is_set() else []:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if stop.is_set():  # headbench.cli.main reports it and exits 130
        raise KeyboardInterrupt("workers stopped; finished stages are in the run-cache")
    return workers
