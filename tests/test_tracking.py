import socket
import time
import warnings

import pytest

from headbench import tracking
from headbench.tracking import RunTracker, TrackingError, project_root, tracking_enabled


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_server_fails_fast_before_training(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{closed_port()}")
    t0 = time.perf_counter()
    with pytest.raises(TrackingError, match="cannot be reached.*tracking.enabled: false"):
        RunTracker("x", "baseline", 0, 42, {}, {})
    assert time.perf_counter() - t0 < 10


def test_disabled_tracking_warns_once(monkeypatch):
    monkeypatch.setattr(tracking, "_warned", False)
    monkeypatch.setenv("HEADBENCH_TRACKING", "0")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert tracking_enabled(True) is False
        assert tracking_enabled(True) is False
    assert len(w) == 1 and "HEADBENCH_TRACKING=0" in str(w[0].message)


def test_store_is_anchored_at_the_user_repo_in_queued_experiments(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path / "repo" / ".dvc" / "tmp" / "exps" / "tmpabc123"))
    assert project_root() == tmp_path / "repo"
    assert tracking.tracking_uri() == f"sqlite:///{tmp_path / 'repo' / 'mlflow.db'}"
