"""What a run minimises and how it is scored, from the task: the training loss, and the primary metric (lower is better)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from headbench.config import primary_metric
from headbench.stats.scoring import class_log_loss, regression_scores, rmse


@dataclass(frozen=True)
class Objective:
    task: str = "regression"   # task.type
    outputs: int = 1           # targets (regression) or classes (classification)

    @property
    def metric(self) -> str:
        """The primary metric's name: ``rmse`` (one target), ``mcrmse`` (several) or ``log_loss``."""
        return primary_metric(self.task, self.outputs)

    def loss(self, out: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """MSE for regression, cross-entropy over the classes for classification."""
        if self.task == "classification":
            return F.cross_entropy(out.float(), labels.long())
        return F.mse_loss(out.float(), labels.float())

    def predictions(self, out: np.ndarray) -> np.ndarray:
        """The model's outputs as predictions: the values, or each class's probability (softmax)."""
        if self.task == "classification":
            return torch.softmax(torch.as_tensor(out, dtype=torch.float64), dim=-1).numpy()
        return out

    def score(self, pred: np.ndarray, y: np.ndarray) -> float:
        """The primary metric of predictions against targets (class indices for classification)."""
        if self.task == "classification":
            return class_log_loss(pred, y)
        if self.outputs == 1:
            return rmse(pred, y)
        return regression_scores(pred, y, [str(i) for i in range(self.outputs)])["mcrmse"]

    def columns(self, pred: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
        """Predictions as named columns: ``prediction`` (one target), a ``prediction.<name>`` per target, or a
        ``proba.<class>`` per class followed by the predicted class, ``prediction`` (out-of-fold rows and predict)."""
        if self.task == "classification":
            proba = {f"proba.{c}": pred[:, i] for i, c in enumerate(names)}
            return {**proba, "prediction": np.asarray(names, dtype=object)[pred.argmax(1)]}
        if pred.ndim == 1:
            return {"prediction": pred}
        return {f"prediction.{n}": pred[:, i] for i, n in enumerate(names)}
