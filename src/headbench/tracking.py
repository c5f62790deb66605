"""MLflow tracking: one run per (variant, fold, seed), nested under one parent run per variant."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import warnings
import weakref
from dataclasses import asdict
from pathlib import Path

from headbench.config import Params
from headbench.errors import TrackingError
from headbench.pause import pause_point

DISABLE_ENV = "HEADBENCH_TRACKING"
DVC_TAGS = ("DVC_EXP_NAME", "DVC_EXP_BASELINE_REV", "DVC_STAGE")
_warned = False




def project_root(start: str | Path | None = None) -> Path:
    """The repository the user works in, also when `dvc exp run --queue` runs in a temp copy
    under `<repo>/.dvc/tmp/exps/...` (whose DVC_ROOT is the temp copy)."""
    root = Path(os.environ.get("DVC_ROOT") or start or os.getcwd()).resolve()
    parts = root.parts
    for i in range(len(parts) - 3):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return root


def local_store(root: Path) -> str:
    """The default MLflow store: a SQLite file at the project root (git-ignored)."""
    return f"sqlite:///{Path(root) / 'mlflow.db'}"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or local_store(project_root())


def tracking_enabled(enabled_in_params: bool) -> bool:
    global _warned
    env_off = os.environ.get(DISABLE_ENV, "").strip().lower() in ("0", "false", "off", "no")
    if enabled_in_params and not env_off:
        return True
    if not _warned:
        why = f"{DISABLE_ENV}={os.environ.get(DISABLE_ENV)}" if env_off else "tracking.enabled is false in params.yaml"
        warnings.warn(f"MLflow tracking is disabled ({why}): this run is not logged to MLflow", stacklevel=2)
        _warned = True
    return False


def check_reachable(uri: str, timeout: float = 5.0) -> None:
    """Fail fast, before training, when a tracking server does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout).read()
    except (urllib.error.URLError, OSError) as exc:
        raise TrackingError(
            f"MLflow tracking server {uri} cannot be reached ({exc}). Start it, fix MLFLOW_TRACKING_URI, "
            f"or disable tracking (tracking.enabled: false in params.yaml, or {DISABLE_ENV}=0)."
        ) from None


def git_commit(root: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def dvc_tags() -> dict:
    """DVC_EXP_NAME, DVC_EXP_BASELINE_REV, DVC_STAGE as tags `dvc.exp_name` etc., where DVC set them."""
    return {f"dvc.{k[4:].lower()}": os.environ[k] for k in DVC_TAGS if os.environ.get(k)}


def flatten(d: dict, prefix: str = "") -> dict:
    """{"delta": {"mean": x}} -> {"delta.mean": x}: the names `dvc exp show` gives the same figures."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = json.dumps(v) if isinstance(v, (list, tuple)) else v
    return out


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


def numbers_and_labels(figures: dict) -> tuple[dict, dict]:
    """Split flat figures into MLflow metrics (numbers) and tags (strings such as verdicts); None is dropped."""
    numbers = {k: v for k, v in figures.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return numbers, {k: v for k, v in figures.items() if isinstance(v, str)}


class RunTracker:
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
        self.proc = subprocess.Popen([sys.executable, "-c", "from headbench.tracking import serve; serve()", self.uri],
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
        pause_point(f"parent {variant}")
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
    """The side process of a RunTracker: one JSON request per line on stdin, answers on stdout. It ignores SIGINT
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


class NullTracker:
    def __enter__(self):
        return self

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        pass

    def __exit__(self, *exc):
        return False


def log_report(experiment: str, summary: dict, files: list[str], plots_dir: str, params: Params | None = None,
               figures: dict[str, dict] | None = None) -> None:
    """The aggregate stage's own MLflow run: metrics/summary.json under the names `dvc exp show` gives them
    (numbers as metrics, verdicts as tags), and the table, the detail and the plots as artifacts. With ``params``
    and ``figures`` (report.variant_figures), each variant's parent run also gets its own figures (rmse, delta, pm
    as metrics; verdict as a tag), so the UI's run table compares the variants without expanding anything."""
    import mlflow

    uri = tracking_uri()
    check_reachable(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    tags = {"headbench.stage": "aggregate", "mlflow.source.git.commit": git_commit(project_root())}
    tags.update(dvc_tags())
    with mlflow.start_run(run_name=f"aggregate {os.environ.get('DVC_EXP_NAME', 'workspace')}", tags=tags):
        numbers, labels = numbers_and_labels(flatten(summary))
        mlflow.log_metrics(numbers)
        mlflow.set_tags(labels)
        for f in files:
            mlflow.log_artifact(f)
        mlflow.log_artifacts(plots_dir, artifact_path="plots")
    if params is not None and figures is not None:
        client, exp = mlflow.MlflowClient(), mlflow.get_experiment_by_name(experiment)
        for name in params.variants:
            parent = find_parent(client, exp.experiment_id, parent_key(name, variant_params(params, name)))
            if parent is not None:
                numbers, labels = numbers_and_labels(figures[name])
                for k, v in numbers.items():
                    client.log_metric(parent, k, v)
                for k, v in labels.items():
                    client.set_tag(parent, k, v)


def init_store() -> str:
    """Create the default SQLite store (schema migrations run once, here, not in the first training run)."""
    import mlflow

    uri = tracking_uri()
    check_reachable(uri)
    mlflow.MlflowClient(uri).search_experiments(max_results=1)
    return uri
