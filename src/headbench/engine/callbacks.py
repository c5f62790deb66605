"""Callbacks of one training run, in the manner of transformers' TrainerCallback: every method is optional and
returns nothing. The loop calls them in order with its `TrainState`; timing, progress, tracking and tests attach
through them."""
from __future__ import annotations

import time
from pathlib import Path

from tqdm.auto import tqdm


class Callback:
    def on_run_start(self, variant: str, fold: int, seed: int) -> None:
        """Before anything is loaded."""

    def on_train_begin(self, state) -> None:
        """Before the first step (of this process: after a resume, ``state.step`` is where it continues)."""

    def on_step_end(self, state) -> None:
        """After optimiser step ``state.step`` (counted from 1)."""

    def on_evaluate_begin(self, state) -> None:
        """Before the model of ``state.step`` is evaluated."""

    def on_eval(self, state, row: dict) -> None:
        """After an evaluation: ``row`` is its line of history.csv, already in ``state.history``."""

    def on_train_end(self, state) -> None:
        """After the last step and its evaluation."""

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


class Timer(Callback):
    """Splits the loop's wall time into optimisation (``state.train_seconds``) and evaluation (``eval_seconds``)."""

    def on_train_begin(self, state) -> None:
        self.since = time.perf_counter()

    def on_evaluate_begin(self, state) -> None:
        now = time.perf_counter()
        state.train_seconds += now - self.since
        self.since = now

    def on_eval(self, state, row: dict) -> None:
        now = time.perf_counter()
        state.eval_seconds += now - self.since
        self.since = now

    def on_train_end(self, state) -> None:
        state.train_seconds += time.perf_counter() - self.since


class ProgressBar(Callback):
    """A tqdm bar over optimiser steps, with the running training loss and the last validation RMSE."""

    def __init__(self, label: str):
        self.label = label

    def on_train_begin(self, state) -> None:
        self.bar = tqdm(total=state.total_steps, initial=state.step, desc=self.label or "train", unit="step",
                        dynamic_ncols=True, mininterval=1.0)
        self.started, self.samples_before = time.perf_counter(), state.seen_samples

    def on_step_end(self, state) -> None:
        rate = (state.seen_samples - self.samples_before) / max(time.perf_counter() - self.started, 1e-9)
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{state.running_loss:.4f}", samples_s=f"{rate:.1f}")

    def on_eval(self, state, row: dict) -> None:
        self.bar.set_postfix(loss=f"{row['train_loss']:.4f}", **{f"val_{state.metric}": f"{row[f'valid_{state.metric}']:.4f}"},
                             best=f"{state.best_score:.4f}")

    def on_train_end(self, state) -> None:
        self.bar.close()


class TrackMetrics(Callback):
    """Sends each evaluation's figures to a tracker."""

    FIELDS = ("train_loss", "valid_{metric}", "lr", "samples_per_s")

    def __init__(self, tracker):
        self.tracker = tracker

    def on_eval(self, state, row: dict) -> None:
        keys = [k.format(metric=state.metric) for k in self.FIELDS]
        self.tracker.log_metrics({k: row[k] for k in keys}, step=row["step"])
