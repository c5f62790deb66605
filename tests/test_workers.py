"""A study split across parallel workers (worktrees sharing the DVC cache) equals the sequential study."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from ruamel.yaml import YAML

from conftest import BIN, copy_repo, env, pause_at, sh, tiny_params
from headbench.study.workers import last_lines, split


def tiny_study(root: Path, model_dir: str, tracking: bool = False) -> Path:
    copy_repo(root)
    raw = tiny_params(model_dir, "data/demo/train.csv", save_checkpoint=False)
    raw["tracking"]["enabled"] = tracking
    raw["demo"]["rows"] = 45
    raw["variants"] = {"baseline": {"head": "cls"}, "mean": {"head": "mean"}}
    YAML().dump(raw, root / "params.yaml")
    sh("git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init", root)
    return root


def test_split_gives_every_stage_to_exactly_one_worker():
    stages = [f"train@v-{f}-42" for f in range(7)]
    parts = split(stages, 3)
    assert sorted(sum(parts, [])) == sorted(stages) and [len(p) for p in parts] == [3, 2, 2]


def test_a_failed_stage_is_reported_with_its_last_lines_in_the_log(tmp_path):
    log = tmp_path / "worker0.log"
    log.write_text("=== 10:00:00 train@a-0-42\nRunning stage 'train@a-0-42':\n")
    start = log.stat().st_size
    log.write_text(log.read_text() + "=== 10:01:00 train@a-1-42\nstep:  10%\rstep:  50%\r\n\nERROR: failed to reproduce 'train@a-1-42'\n")
    assert last_lines(log, start) == "=== 10:01:00 train@a-1-42\nstep:  50%\nERROR: failed to reproduce 'train@a-1-42'"
    assert last_lines(log, start, n=1) == "ERROR: failed to reproduce 'train@a-1-42'"


@pytest.mark.slow
def test_two_workers_then_repro_trains_nothing_and_matches_the_sequential_study(tmp_path, tiny_models, mlflow_on_postgres):
    """The team set-up: two workers in worktrees sharing one DVC cache, both logging to one MLflow server on PostgreSQL."""
    import mlflow

    model = tiny_models("bert")
    seq = tiny_study(tmp_path / "seq", model)
    sh("dvc repro", seq)
    par = tiny_study(tmp_path / "par", model, tracking=True)
    out = sh("headbench study --workers 2", par, MLFLOW_TRACKING_URI=mlflow_on_postgres)
    assert "dvc repro: 0 train stages ran in the main checkout" in out, out[-3000:]
    assert "is cached - skipping run" in out
    read = lambda root: json.loads((root / "metrics/summary.json").read_text())
    assert read(par) == read(seq)
    detail = lambda root: pd.read_csv(root / "reports/comparison.csv").drop(columns=["train_seconds", "eval_seconds", "wall_seconds"])
    pd.testing.assert_frame_equal(detail(par), detail(seq))
    logs = [(par / ".dvc/tmp/workers/logs" / f"worker{k}.log").read_text() for k in (0, 1)]
    assert all("Running stage 'train@" in log for log in logs)  # both workers trained
    assert "Running stage 'split'" in logs[0] and "Stage 'split' is cached - skipping run" in logs[1]  # made once
    # launching again finds everything in the run-cache
    client = mlflow.MlflowClient(mlflow_on_postgres)
    runs = client.search_runs([client.get_experiment_by_name("headbench").experiment_id])
    parents = [r for r in runs if "headbench.parent_key" in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert sorted(r.data.tags["headbench.variant"] for r in parents) == ["baseline", "mean"]
    assert len(children) == 6 and all(r.info.status == "FINISHED" for r in children)
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {r.info.run_id for r in parents}
    assert all(len(client.get_metric_history(r.info.run_id, "valid_rmse")) >= 1 for r in children)
    summary = read(par)
    assert {r.data.tags["headbench.variant"]: r.data.metrics["rmse"] for r in parents} == pytest.approx(
        {v: summary["rmse"][v] for v in ("baseline", "mean")})  # the aggregate wrote each variant's figures there
    again = sh("headbench study --workers 2", par, MLFLOW_TRACKING_URI=mlflow_on_postgres)
    assert "Running stage 'train@" not in "".join((par / ".dvc/tmp/workers/logs" / f"worker{k}.log").read_text().split("===")[-1] for k in (0, 1))
    assert "0 train stages ran" in again


@pytest.mark.slow
def test_study_with_its_own_mlflow_server_logs_every_run_and_the_aggregate_there(tmp_path, tiny_models):
    """--mlflow-server: the workers and the final `dvc repro` all log through the one server the command starts (an
    experiment the server made keeps its artifacts behind it, so a direct SQLite write would fail)."""
    import socket

    import mlflow

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tiny_study(tmp_path / "par", tiny_models("bert"), tracking=True)
    out = sh(f"headbench study --workers 2 --mlflow-server --port {port}", root)
    assert "dvc repro: 0 train stages ran in the main checkout" in out, out[-3000:]
    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("headbench").experiment_id])
    parents = {r.data.tags["headbench.variant"]: r for r in runs if "headbench.parent_key" in r.data.tags}
    assert sorted(parents) == ["baseline", "mean"]
    assert sum("mlflow.parentRunId" in r.data.tags for r in runs) == 6
    summary = json.loads((root / "metrics/summary.json").read_text())
    assert {v: r.data.metrics["rmse"] for v, r in parents.items()} == pytest.approx({v: summary["rmse"][v] for v in parents})


def worker_logs(root: Path) -> list[str]:
    return [(root / ".dvc/tmp/workers/logs" / f"worker{k}.log").read_text() for k in (0, 1)]


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_finished_and_relaunching_trains_only_the_rest(tmp_path, tiny_models):
    import signal
    import time

    par = tiny_study(tmp_path / "par", tiny_models("bert"))
    # round-robin over baseline-0,1,2, mean-0,1,2: worker 0 gets baseline-0, baseline-2, mean-1
    pause = tmp_path / "paused"
    proc = subprocess.Popen([str(BIN / "headbench"), "study", "--workers", "2", "--no-repro"], cwd=par,
                            env=env(**pause_at("start mean-1-42", pause)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while not pause.exists():
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.1)
    os.killpg(os.getpgid(int(pause.read_text())), signal.SIGTERM)  # worker 0's `dvc repro` and its training
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1 and "FAILED train@mean-1-42 (worker 0" in err, (out, err)
    assert "interrupted (received signal SIGTERM)" in err  # the stage's own last words, not only the log's path
    first = worker_logs(par)
    finished = sorted(set(re.findall(r"Running stage 'train@([\w-]+)'", "".join(first))) - {"mean-1-42"})
    assert finished == ["baseline-0-42", "baseline-1-42", "baseline-2-42", "mean-0-42", "mean-2-42"]
    again = sh("headbench study --workers 2", par)
    retrained = [stage for log, old in zip(worker_logs(par), first, strict=True)
                 for stage in re.findall(r"Running stage 'train@([\w-]+)'", log[len(old):])]  # this launch's part
    assert retrained == ["mean-1-42"], retrained  # nothing finished is trained twice
    assert "dvc repro: 0 train stages ran in the main checkout" in again
    assert json.loads((par / "metrics/summary.json").read_text())["runs"] == 3


@pytest.mark.slow
def test_nodes_sharing_only_a_dvc_remote_then_repro_trains_nothing(tmp_path, tiny_models):
    """The README's SLURM recipe with two "nodes" (clones with their own caches) and a local-folder remote."""
    main = tiny_study(tmp_path / "main", tiny_models("bert"))
    sh(f"dvc remote add -d shared {tmp_path / 'remote'} && git add -A && git -c user.email=t@t -c user.name=t commit -qm remote", main)
    stages = [s for s in sh("dvc stage list --name-only", main).split() if s.startswith("train@")]
    for k in (0, 1):
        node = tmp_path / f"node{k}"
        sh(f"git clone -q {main} {node}", tmp_path)
        sh("dvc repro split", node)  # deterministic: every node makes the same folds
        sh(" && ".join(f"dvc repro --single-item {s}" for s in stages[k::2]), node)
        sh("dvc push --run-cache", node)
    out = sh("dvc fetch --run-cache && dvc repro --pull", main)
    assert "Running stage 'train@" not in out and out.count("is cached - skipping run") >= len(stages), out[-3000:]
    assert json.loads((main / "metrics/summary.json").read_text())["runs"] == 3


def test_placement_shares_gpus_round_robin_and_divides_the_cores():
    from headbench.errors import StudyError
    from headbench.engine.placement import placement

    p = placement(8, "cuda", list(range(16)), n_gpus=1)
    assert [w.gpu for w in p] == [0] * 8 and [sorted(w.cpus) for w in p] == [[2 * k, 2 * k + 1] for k in range(8)]
    p = placement(4, "cuda", list(range(16)), n_gpus=2)
    assert [w.gpu for w in p] == [0, 1, 0, 1] and all(len(w.cpus) == 4 for w in p)
    assert len({c for w in p for c in w.cpus}) == 16  # no core shared
    p = placement(2, "cpu", [0, 1])
    assert [w.gpu for w in p] == [None, None] and [sorted(w.cpus) for w in p] == [[0], [1]]
    p = placement(3, "cpu", [0, 1])  # more workers than cores: one core each, shared
    assert all(len(w.cpus) == 1 for w in p)
    with pytest.raises(StudyError, match="no CUDA device"):
        placement(2, "cuda", [0, 1], n_gpus=0)
