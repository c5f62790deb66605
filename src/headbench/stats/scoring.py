"""The task's score: kept apart from the statistics so that editing a test does not make every train stage stale."""
from __future__ import annotations

import numpy as np


def rmse(pred, target) -> float:
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    return float(np.sqrt(np.mean((pred - target) ** 2)))


def regression_scores(pred, target, names: list[str]) -> dict:
    """RMSE per target (``rmse_<name>``) and the primary metric: ``rmse`` for one target, ``mcrmse`` (the mean
    column-wise RMSE) for several. Lower is better. ``pred`` and ``target`` are [rows] or [rows, targets]."""
    from sklearn.metrics import mean_squared_error

    pred = np.asarray(pred, dtype=np.float64).reshape(len(pred), -1)
    target = np.asarray(target, dtype=np.float64).reshape(len(target), -1)
    per_target = np.sqrt(mean_squared_error(target, pred, multioutput="raw_values"))
    primary = "rmse" if len(names) == 1 else "mcrmse"
    return {primary: float(per_target.mean()), **{f"rmse_{n}": float(v) for n, v in zip(names, per_target, strict=True)}}


def class_log_loss(proba, labels) -> float:
    """scikit-learn's log-loss of class probabilities [rows, classes] against class indices 0..classes-1."""
    from sklearn.metrics import log_loss

    proba = np.asarray(proba, dtype=np.float64)
    return float(log_loss(np.asarray(labels), proba, labels=list(range(proba.shape[1]))))


def classification_scores(proba, labels) -> dict:
    """The primary metric ``log_loss`` (lower is better), with ``accuracy`` and ``macro_f1`` (higher is better).
    ``proba`` is [rows, classes] (rows sum to 1); ``labels`` are class indices 0..classes-1."""
    from sklearn.metrics import accuracy_score, f1_score

    proba, labels = np.asarray(proba, dtype=np.float64), np.asarray(labels)
    classes = list(range(proba.shape[1]))
    predicted = proba.argmax(axis=1)
    return {"log_loss": class_log_loss(proba, labels),
            "accuracy": float(accuracy_score(labels, predicted)),
            "macro_f1": float(f1_score(labels, predicted, labels=classes, average="macro", zero_division=0))}


def row_log_loss(proba, labels) -> np.ndarray:
    """Each row's log-loss, −log p(true class), clipped as scikit-learn clips it: its mean is `log_loss`."""
    proba = np.asarray(proba, dtype=np.float64)
    eps = np.finfo(proba.dtype).eps
    p = np.clip(proba[np.arange(len(proba)), np.asarray(labels)], eps, 1 - eps)
    return -np.log(p)


def oof_task(oof) -> tuple[str, list[str]]:
    """A run's task from its out-of-fold columns: classification (a ``proba.<class>`` per class) with its classes, or
    regression with its targets (``target.<name>`` per target; one ``target`` column)."""
    classes = [c.removeprefix("proba.") for c in oof.columns if c.startswith("proba.")]
    if classes:
        return "classification", classes
    targets = [c.removeprefix("target.") for c in oof.columns if c.startswith("target.")]
    return "regression", targets or ["target"]


def row_losses(oof) -> np.ndarray:
    """What each row adds to the primary metric: squared errors [targets, rows] (regression) or the log-loss [rows]."""
    task, names = oof_task(oof)
    if task == "classification":
        index = {c: i for i, c in enumerate(names)}
        labels = oof["target"].astype(str).map(index).to_numpy()
        return row_log_loss(oof[[f"proba.{c}" for c in names]].to_numpy(), labels)
    cols = [("target", "prediction")] if names == ["target"] else [(f"target.{n}", f"prediction.{n}") for n in names]
    return np.stack([(oof[p].to_numpy(np.float64) - oof[t].to_numpy(np.float64)) ** 2 for t, p in cols])


def score_rows(losses: np.ndarray) -> float:
    """The primary metric from row_losses: RMSE, MCRMSE (the mean of the targets' RMSE) or the mean log-loss."""
    return float(np.sqrt(losses.mean(-1)).mean()) if losses.ndim == 2 else float(losses.mean())


def side_figures(oof) -> dict:
    """The figures reported beside the primary metric: each target's RMSE, ``rmse_<name>`` (several targets), or
    ``accuracy`` and ``macro_f1`` (classification); none for one target."""
    task, names = oof_task(oof)
    if task == "classification":
        labels = oof["target"].astype(str).map({c: i for i, c in enumerate(names)}).to_numpy()
        scores = classification_scores(oof[[f"proba.{c}" for c in names]].to_numpy(), labels)
        return {k: scores[k] for k in ("accuracy", "macro_f1")}
    if names == ["target"]:
        return {}
    scores = regression_scores(oof[[f"prediction.{n}" for n in names]].to_numpy(), oof[[f"target.{n}" for n in names]].to_numpy(), names)
    return {f"rmse_{n}": scores[f"rmse_{n}"] for n in names}


def oof_score(oof) -> float:
    """The primary metric of out-of-fold rows (lower is better)."""
    return score_rows(row_losses(oof))
