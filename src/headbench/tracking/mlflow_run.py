"""MLflow tracking of training runs: one run per (variant, fold, seed), nested under one parent run per variant."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import weakref
from dataclasses import asdict

from headbench.config import Params
from headbench.errors import TrackingError
from headbench.tracking.store import check_reachable, dvc_tags, flatten, git_commit, project_root, tracking_uri


def variant_params(params: Params, variant: str) -> dict:
    """Everything that defines a variant's runs but the fold and seed: its parent run's params."""
    return {"variant": asdict(params.variant(variant)), "model": asdict(params.model), "train": asdict(params.train),
            "data": asdict(params.data), "cv": asdict(params.cv)}


def parent_key(variant: str, parent_params: dict) -> str:
    """Names a variant's parent run: its settings and the DVC experiment it belongs to."""
    return hashlib.sha256(
        json.dumps([variant, parent_params, os.environ.get("DVC_EXP_NAME", "")], sort_keys=True).encode()
    ).hexdigest()[:16]


def find_parent(client, experiment_id: str, key: str) -> str | None:
    """The run id of the parent run named by ``key`` (see parent_key), if it exists. Should concurrent workers have
    created several, the oldest (start time, then run id): every worker picks the same one."""
    found = client.search_runs([experiment_id], filter_string=f"tags.`headbench.parent_key` = '{key}'", max_results=100)
    return min(found, key=lambda r: (r.info.start_time, r.info.run_id)).info.run_id if found else None


class MlflowTracker:
    """Context manager around one training run. Ends the run FINISHED, KILLED (Ctrl-C, SIGTERM, or the stage
    process gone without a word) or FAILED, so no run stays RUNNING after the process is gone.

    MLflow lives in a side process (`serve`), started when the tracker is made: importing MLflow and opening its
    SQL store takes ~2 s, which it spends on the second core while the stage imports torch and loads the model.
    Nothing is written to the store before `__enter__`, so a stage that fails on its input leaves no run.
    Metrics go to the side process without waiting. If tracking fails mid-run (the side process dies, the store
    refuses a write), training goes on and writes its outputs: the tracker warns, and the run is marked FAILED
    from here where the store can still be reached."""

    def __init__(self, experiment: str, variant: str, fold: int, seed: int, params: dict, parent_params: dict):
        self.uri = tracking_uri()
        check_reachable(self.uri)
        root = project_root()
        tags = {"headbench.variant": variant, "mlflow.source.git.commit": git_commit(root), **dvc_tags()}
        self.request = {"experiment": experiment, "variant": variant, "fold": fold, "seed": seed,
                        "params": flatten(params), "parent_params": flatten(parent_params), "tags": tags,
                        "parent_key": parent_key(variant, parent_params)}
        self.proc = subprocess.Popen([sys.executable, "-c", "from headbench.tracking.mlflow_run import serve; serve()", self.uri],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root)
        self.lost: str | None = None  # why tracking stopped mid-run
        weakref.finalize(self, _stop_unused, self.proc)

    def _send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {"error": f"the MLflow process ended (exit code {self.proc.wait()})"}

    def __enter__(self):
        self._send(self.request)
        answer = self._answer()
        if "error" in answer:
            self.proc.wait()
            raise TrackingError(f"MLflow tracking at {self.uri} failed: {answer['error']}")
        self.run_id = answer["run_id"]
        return self

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        if self.lost:
            return
        try:
            self._send({"metrics": {k: float(v) for k, v in metrics.items()}, "step": step})
        except OSError as exc:  # BrokenPipeError: the side process is gone
            self._lose(f"the MLflow process ended (exit code {self.proc.poll()}; {type(exc).__name__})")

    def _lose(self, why: str) -> None:
        self.lost = why
        print(f"warning: MLflow tracking at {self.uri} stopped mid-run: {why}. Training goes on and writes its "
              "outputs; this run will be marked FAILED in MLflow.", file=sys.stderr, flush=True)

    def _mark_failed(self) -> None:
        try:
            import mlflow

            mlflow.MlflowClient(self.uri).set_terminated(self.run_id, "FAILED")
        except Exception as exc:  # the store itself may be what failed
            print(f"warning: could not mark MLflow run {self.run_id} FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        answer = {"error": self.lost} if self.lost else None
        if answer is None:
            try:
                self._send({"end": status})
                self.proc.stdin.close()
                answer = self._answer()
                self.proc.wait()
            except OSError:
                answer = {"error": f"the MLflow process ended (exit code {self.proc.wait()})"}
        if "error" in answer:
            if not self.lost:
                self._lose(answer["error"])
            self._mark_failed()
        return False


def _stop_unused(proc: subprocess.Popen) -> None:
    """A tracker never entered (the stage failed before training) stops its side process; it wrote nothing."""
    if proc.poll() is None:
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _open_run(mlflow, request: dict) -> str:
    """Set up one training run as the request says: the variant's parent (found or made), the run under it, its params."""
    client = mlflow.MlflowClient()
    experiment_id = mlflow.set_experiment(request["experiment"]).experiment_id
    key, variant = request["parent_key"], request["variant"]
    parent = find_parent(client, experiment_id, key)
    if parent is None:
        run = client.create_run(experiment_id, run_name=variant, tags={**request["tags"], "headbench.parent_key": key})
        client.log_batch(run.info.run_id, params=[mlflow.entities.Param(k, str(v)[:6000]) for k, v in request["parent_params"].items()])
        client.set_terminated(run.info.run_id, "FINISHED")
        # Another worker may have created the same parent meanwhile: each keeps the oldest and deletes its own if
        # that is newer, so a study has one parent per variant however its workers interleave.
        parent = find_parent(client, experiment_id, key)
        if parent != run.info.run_id:
            client.delete_run(run.info.run_id)
    tags = {**request["tags"], "headbench.fold": str(request["fold"]), "headbench.seed": str(request["seed"])}
    run = mlflow.start_run(run_name=f"{variant}-fold{request['fold']}-seed{request['seed']}", parent_run_id=parent, tags=tags,
                           experiment_id=experiment_id)
    mlflow.log_params({k: str(v)[:6000] for k, v in request["params"].items()})
    return run.info.run_id


def serve() -> None:
    """The side process of an MlflowTracker: one JSON request per line on stdin, answers on stdout. It ignores SIGINT
    and SIGTERM (they reach the whole process group) and ends its run as the stage says, or KILLED at end of input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out = sys.stdout
    sys.stdout = sys.stderr  # MLflow's own prints must not mix with the answers
    import mlflow

    uri = sys.argv[1]
    mlflow.set_tracking_uri(uri)
    try:
        mlflow.MlflowClient(uri).search_experiments(max_results=1)  # the store's import and connection, ahead of time
    except Exception as exc:
        early_failure = f"{type(exc).__name__}: {exc}"
    else:
        early_failure = None

    def answer(message: dict) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    line = sys.stdin.readline()
    if not line:
        return  # the stage stopped before training (bad input): nothing was written
    request = json.loads(line)
    if early_failure:
        answer({"error": early_failure})
        return
    try:
        run_id = _open_run(mlflow, request)
    except Exception as exc:  # any store failure, before training starts
        answer({"error": f"{type(exc).__name__}: {exc}"})
        return
    answer({"run_id": run_id})
    status, failure = "KILLED", None
    for line in sys.stdin:
        message = json.loads(line)
        if "end" in message:
            status = message["end"]
            break
        try:
            mlflow.log_metrics(message["metrics"], step=message["step"])
        except Exception as exc:
            failure = failure or f"{type(exc).__name__}: {exc}"
    mlflow.end_run(status=status if failure is None else "FAILED")
    answer({"error": failure} if failure else {"ended": status})
    sys.stderr.flush()
    os._exit(0)  # the run is ended and stored; the stage waits for this exit, so skip MLflow's interpreter teardown


