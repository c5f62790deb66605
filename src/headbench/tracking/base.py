"""The Tracker interface the training run talks to, and the tracker that records nothing."""
from __future__ import annotations

from typing import Protocol


class Tracker(Protocol):
    """One training run's tracking: entered before training, told each evaluation's figures, left with the run's
    outcome (an exception marks it failed or killed). A tracker that fails mid-run warns and lets training go on."""

    def __enter__(self) -> "Tracker": ...

    def log_metrics(self, metrics: dict, step: int | None = None) -> None: ...

    def __exit__(self, exc_type, exc, tb) -> bool: ...


class NullTracker:
    def __enter__(self):
        return self

    def log_metrics(self, metrics: dict, step: int | None = None) -> None:
        pass

    def __exit__(self, *exc):
        return False


