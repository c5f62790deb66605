"""Callbacks of one training run, in the manner of transformers' TrainerCallback: every method is optional and
returns nothing. The run calls them in order; progress, tracking and tests attach through them."""
from __future__ import annotations

from pathlib import Path


class Callback:
    def on_run_start(self, variant: str, fold: int, seed: int) -> None:
        """Before anything is loaded."""

    def on_step_end(self, step: int) -> None:
        """After optimiser step ``step`` (counted from 1)."""

    def on_eval(self, row: dict) -> None:
        """After an evaluation: ``row`` is its line of history.csv."""

    def on_publish(self, staged: Path, out: Path) -> None:
        """Every output is written in ``staged``, about to replace ``out``."""


class CallbackList:
    """Calls one event on every callback, in order."""

    def __init__(self, callbacks=()):
        self.callbacks = list(callbacks)

    def __getattr__(self, event: str):
        def call(*args, **kwargs) -> None:
            for cb in self.callbacks:
                getattr(cb, event)(*args, **kwargs)
        return call


class TrackMetrics(Callback):
    """Sends each evaluation's figures to a tracker."""

    FIELDS = ("train_loss", "valid_rmse", "lr", "samples_per_s")

    def __init__(self, tracker):
        self.tracker = tracker

    def on_eval(self, row: dict) -> None:
        self.tracker.log_metrics({k: row[k] for k in self.FIELDS}, step=row["step"])
