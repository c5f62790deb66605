"""MLflow tracking: one run per (variant, fold, seed), nested under one parent run per variant."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import urllib.error
import urllib.request
import warnings
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
    """{"mean": {"delta": x}} -> {"mean.delta": x}: the names `dvc exp show` gives the same figures."""
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
    """Context manager around one training run. Ends the run FINISHED, KILLED (Ctrl-C, SIGTERM)
    or FAILED, so no run stays RUNNING after the process is gone."""

    def __init__(self, experiment: str, variant: str, fold: int, seed: int, params: dict, parent_params: dict):
        import mlflow

        self.mlflow = mlflow
        self.uri = tracking_uri()
        check_reachable(self.uri)
        mlflow.set_tracking_uri(self.uri)
        self.experiment, self.variant, self.fold, self.seed = experiment, variant, fold, seed
        self.params, self.parent_params = params, parent_params
        self.root = project_root()
        self.run = None

    def _tags(self) -> dict:
        tags = {"headbench.variant": self.variant, "mlflow.source.git.commit": git_commit(self.root)}
        tags.update(dvc_tags())
        return tags

    def _parent_id(self, experiment_id: str) -> str:
        """One parent per (variant, its settings, DVC experiment): re-runs reuse it instead of adding another."""
        key = parent_key(self.variant, self.parent_params)
        client = self.mlflow.MlflowClient()
        if (found := find_parent(client, experiment_id, key)) is not None:
            return found
        pause_point(f"parent {self.variant}")
        run = client.create_run(experiment_id, run_name=self.variant, tags={**self._tags(), "headbench.parent_key": key})
        client.log_batch(run.info.run_id, params=[self.mlflow.entities.Param(k, str(v)[:6000]) for k, v in flatten(self.parent_params).items()])
        client.set_terminated(run.info.run_id, "FINISHED")
        # Another worker may have created the same parent meanwhile: each keeps the oldest and deletes its own if
        # that is newer, so a study has one parent per variant however its workers interleave.
        chosen = find_parent(client, experiment_id, key)
        if chosen != run.info.run_id:
            client.delete_run(run.info.run_id)
        return chosen

    def __enter__(self):
        try:
            exp = self.mlflow.set_experiment(self.experiment)
            parent = self._parent_id(exp.experiment_id)
            tags = {**self._tags(), "headbench.fold": str(self.fold), "headbench.seed": str(self.seed)}
            self.run = self.mlflow.start_run(run_name=f"{self.variant}-fold{self.fold}-seed{self.seed}", parent_run_id=parent, tags=tags)
            self.mlflow.log_params({k: str(v)[:6000] for k, v in flatten(self.params).items()})
        except TrackingError:
            raise
        except Exception as exc:  # any store failure, before training starts
            raise TrackingError(f"MLflow tracking at {self.uri} failed: {type(exc).__name__}: {exc}") from None
        return self

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        self.mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        self.mlflow.end_run(status=status)
        return False


class NullTracker:
    def __enter__(self):
        return self

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        pass

    def __exit__(self, *exc):
        return False


def log_report(experiment: str, summary: dict, files: list[str], plots_dir: str, params: Params | None = None) -> None:
    """The aggregate stage's own MLflow run: metrics/summary.json under the names `dvc exp show` gives them
    (numbers as metrics, verdicts as tags), and the table, the detail and the plots as artifacts. With ``params``,
    each variant's parent run also gets its own figures (rmse, delta, pm as metrics; verdict as a tag), so the
    UI's run table compares the variants without expanding anything."""
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
    if params is not None:
        client, exp = mlflow.MlflowClient(), mlflow.get_experiment_by_name(experiment)
        for name in params.variants:
            parent = find_parent(client, exp.experiment_id, parent_key(name, variant_params(params, name)))
            if parent is not None:
                numbers, labels = numbers_and_labels(summary[name])
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
