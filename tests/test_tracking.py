import socket
import time
import warnings

import pytest

from conftest import pause_at
from headbench.errors import TrackingError
from headbench.tracking import store
from headbench.tracking.mlflow_run import MlflowTracker
from headbench.tracking.store import project_root, tracking_enabled


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
        MlflowTracker("x", "baseline", 0, 42, {}, {})
    assert time.perf_counter() - t0 < 10


def test_disabled_tracking_warns_once(monkeypatch):
    monkeypatch.setattr(store, "_warned", False)
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
    assert store.tracking_uri() == f"sqlite:///{tmp_path / 'repo' / 'mlflow.db'}"


CONCURRENT_RUN = """
import sys
from headbench.tracking.mlflow_run import MlflowTracker
fold = int(sys.argv[1])
with MlflowTracker("concurrency", "v", fold, 0, {"fold": fold}, {"same": "settings"}) as run:
    run.log_metrics({"valid_rmse": 0.5 + fold}, step=1)
"""


@pytest.mark.slow
def test_concurrent_workers_on_a_postgresql_server_share_one_parent_run(mlflow_on_postgres, tmp_path):
    """Workers that start a variant's runs at the same moment, as parallel workers do, each find no parent and
    create one (held at that point until all have got there): the store must still end with one parent and every
    child under it."""
    import os
    import subprocess
    import sys

    import mlflow

    n = 4
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_RUN, str(k)],
                              env={**os.environ, "MLFLOW_TRACKING_URI": mlflow_on_postgres,
                                   **pause_at("parent v", tmp_path / f"at-{k}", go)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for k in range(n)]
    deadline = time.time() + 300
    while not all((tmp_path / f"at-{k}").exists() for k in range(n)):  # every worker found no parent
        assert time.time() < deadline and all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.1)
    go.write_text("")
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    client = mlflow.MlflowClient(mlflow_on_postgres)
    runs = client.search_runs([client.get_experiment_by_name("concurrency").experiment_id])
    parents = [r for r in runs if "headbench.parent_key" in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1, [(r.info.run_id, r.info.start_time) for r in parents]
    assert len(children) == n and all(r.info.status == "FINISHED" for r in children)
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert sorted(r.data.metrics["valid_rmse"] for r in children) == [0.5 + k for k in range(n)]


SIDE_PROCESS_RUN = """
import os, signal, sys
from headbench.tracking.mlflow_run import MlflowTracker
tracker = MlflowTracker("side", "v", 0, 0, {"fold": 0}, {"same": "settings"})
if sys.argv[1] == "bad-input":
    raise SystemExit(2)  # a stage that stops on its input, before the run starts
with tracker as run:
    run.log_metrics({"valid_rmse": 0.25}, step=1)
    if sys.argv[1] == "killed":
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup at all: the side process sees its input end
    if sys.argv[1] == "tracker-died":
        run.proc.kill()  # the MLflow side process dies mid-run
        run.proc.wait(timeout=60)
        for step in range(2, 5):
            run.log_metrics({"valid_rmse": 0.2}, step=step)  # training goes on
    open("outputs.txt", "w").write("written")  # what the stage writes after training
"""


@pytest.mark.slow
@pytest.mark.parametrize("how, expected", [("finished", ["FINISHED"]), ("killed", ["KILLED"]), ("bad-input", []),
                                           ("tracker-died", ["FAILED"])])
def test_the_side_process_ends_every_run_as_its_stage_ended(tmp_path, how, expected):
    """MLflow lives in a side process of the stage: a finished stage's run is FINISHED with its metrics, a stage
    killed outright (SIGKILL, no handler runs) leaves a KILLED run instead of one RUNNING for ever, and a stage that
    stops before its run starts (bad input) writes nothing to the store."""
    import os
    import subprocess
    import sys

    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = subprocess.run([sys.executable, "-c", SIDE_PROCESS_RUN, how], env={**os.environ, "MLFLOW_TRACKING_URI": uri},
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == {"finished": 0, "killed": -9, "bad-input": 2, "tracker-died": 0}[how], proc.stderr
    assert (tmp_path / "outputs.txt").is_file() == (how in ("finished", "tracker-died"))
    assert ("stopped mid-run" in proc.stderr) == (how == "tracker-died")
    deadline = time.time() + 60  # after a SIGKILL the side process ends the run on its own
    while True:
        client = mlflow.MlflowClient(uri)
        exp = client.get_experiment_by_name("side")
        runs = client.search_runs([exp.experiment_id]) if exp else []
        children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
        if [r.info.status for r in children] == expected or time.time() > deadline:
            break
        time.sleep(0.5)
    assert [r.info.status for r in children] == expected
    if how == "bad-input":
        assert runs == []
    elif how != "tracker-died":  # a side process killed mid-run may not have stored the first metric yet
        assert children[0].data.metrics["valid_rmse"] == 0.25
