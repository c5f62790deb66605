"""The engine-vs-Trainer benchmark runs both arms on a tiny model and reports comparable figures."""
import json
import math
import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from conftest import BIN, tiny_params
from headbench.bench.benchmark import summarize
from headbench.config import parse

pytestmark = pytest.mark.slow  # runs stage processes or the pipeline (README: the fast tier skips it)


def test_summary_pairs_ratios_by_repeat():
    def run(arm, rep, sps, rmse):
        return {"arm": arm, "repeat": rep, "samples_per_s": sps, "train_seconds": 1, "wall_seconds": 2, "peak_rss_mb": 3, "valid_rmse": rmse}

    runs = [run("headbench", 0, 30.0, 0.5), run("trainer", 0, 20.0, 0.6), run("trainer_grouped", 0, 25.0, 0.55),
            run("trainer_grouped", 1, 40.0, 0.45), run("trainer", 1, 10.0, 0.6), run("headbench", 1, 20.0, 0.5)]
    s = summarize(runs)
    assert s["speed_ratio_vs_trainer"]["per_repeat"] == [1.5, 2.0]
    assert s["speed_ratio_vs_trainer"]["mean"] == 1.75 and s["speed_ratio_vs_trainer"]["min"] == 1.5
    assert s["speed_ratio_vs_trainer_grouped"]["per_repeat"] == [1.2, 0.5]
    assert s["valid_rmse_diff_vs_trainer"]["per_repeat"] == pytest.approx([-0.1, -0.1])
    assert s["valid_rmse_diff_vs_trainer_grouped"]["per_repeat"] == pytest.approx([-0.05, 0.05])
    assert s["headbench"]["samples_per_s"]["mean"] == 25.0
    assert math.isclose(s["trainer"]["samples_per_s"]["std"], math.sqrt(50))


def test_benchmark_command_runs_the_three_arms(tiny_models, demo_csv, tmp_path):
    raw = tiny_params(tiny_models("bert"), demo_csv)
    parse(raw)  # the file below is a valid params file
    YAML().dump(raw, tmp_path / "params.yaml")
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [str(BIN / "headbench"), "benchmark", "--params", str(tmp_path / "params.yaml"), "--steps", "3",
         "--repeats", "2", "--train-rows", "24", "--valid-rows", "10", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    arms = ["headbench", "trainer", "trainer_grouped"]
    assert [r["arm"] for r in result["runs"]] == arms + arms[::-1]  # alternating
    for r in result["runs"]:
        assert r["steps"] == 3 and r["samples_per_s"] > 0 and r["peak_rss_mb"] > 100 and math.isfinite(r["valid_rmse"])
    assert result["settings"]["train_rows"] == 24 and result["settings"]["valid_rows"] == 10
    assert len(result["summary"]["speed_ratio_vs_trainer_grouped"]["per_repeat"]) == 2
    assert [r["seed"] for r in result["runs"]] == [42] * 3 + [43] * 3
    assert "speed ratio headbench / trainer_grouped" in proc.stdout and (tmp_path / "bench.md").read_text().startswith(result["settings"]["model"])


def test_benchmark_rejects_zero_steps(tmp_path):
    proc = subprocess.run([str(BIN / "headbench"), "benchmark", "--steps", "0"],
                          capture_output=True, text=True, cwd=tmp_path)  # not the checkout: nothing may land in its reports/
    assert proc.returncode == 2 and "--steps" in proc.stderr and not any(tmp_path.iterdir())


def test_throughput_runs_the_same_runs_in_both_layouts(tiny_models, demo_csv, tmp_path):
    import os

    raw = tiny_params(tiny_models("bert"), demo_csv)
    YAML().dump(raw, tmp_path / "params.yaml")
    out = tmp_path / "throughput.json"
    proc = subprocess.run(
        [str(BIN / "headbench"), "benchmark", "--throughput", "--params", str(tmp_path / "params.yaml"), "--folds", "0", "1",
         "--repeats", "1", "--workers", "2", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [b["arm"] for b in result["blocks"]] == ["study", "trainer"]
    study, trainer = result["blocks"]
    cores = len(os.sched_getaffinity(0))
    for block in (study, trainer):
        assert [(r["fold"], r["seed"]) for r in block["runs"]] == [(0, 42), (1, 42)]
        assert all(math.isfinite(r["valid_rmse"]) for r in block["runs"])
        assert block["runs_per_hour"] == pytest.approx(2 * 3600 / block["wall_seconds"])
    assert sorted(r["worker"] for r in study["runs"]) == [0, 1]  # round-robin: one run each
    assert {r["threads"] for r in study["runs"]} == {max(1, cores // 2)}  # each pinned to its share of the cores
    assert {r["threads"] for r in trainer["runs"]} == {cores}
    ratio = result["summary"]["ratio_study_over_trainer"]
    assert ratio["per_repeat"] == [pytest.approx(study["runs_per_hour"] / trainer["runs_per_hour"])]
    assert "runs per hour, study / trainer" in proc.stdout and (tmp_path / "throughput.md").is_file()


def test_throughput_rejects_a_fold_the_split_lacks(tiny_models, demo_csv, tmp_path):
    YAML().dump(tiny_params(tiny_models("bert"), demo_csv), tmp_path / "params.yaml")
    proc = subprocess.run([str(BIN / "headbench"), "benchmark", "--throughput", "--params", "params.yaml", "--folds", "0", "7"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "--folds" in proc.stderr and "cv.n_folds" in proc.stderr
    assert not (tmp_path / "reports").exists()
