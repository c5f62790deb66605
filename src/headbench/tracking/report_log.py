"""The aggregate stage's MLflow run, and the figures it adds to each variant's parent run."""
from __future__ import annotations

import os

from headbench.config import Params
from headbench.tracking.mlflow_run import find_parent, parent_key, variant_params
from headbench.tracking.store import check_reachable, dvc_tags, flatten, git_commit, project_root, tracking_uri


def numbers_and_labels(figures: dict) -> tuple[dict, dict]:
    """Split flat figures into MLflow metrics (numbers) and tags (strings such as verdicts); None is dropped."""
    numbers = {k: v for k, v in figures.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return numbers, {k: v for k, v in figures.items() if isinstance(v, str)}


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
