import json
import subprocess
import sys

import pytest

from conftest import ROOT, env

pytestmark = pytest.mark.slow  # several training processes (about a minute alone on 2 cores)


def test_the_gpu_check_dry_run_writes_every_figure(tmp_path):
    out = tmp_path / "gpu"
    res = subprocess.run([sys.executable, str(ROOT / "dev" / "gpucheck.py"), "--dry-run", "--out", str(out), "--concurrency", "1", "2"],
                         cwd=ROOT, env=env(), capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    figures = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    assert set(figures) == {"env", "cuda_tests", "benchmark", "throughput", "baseline_5fold"}
    assert figures["env"]["torch"]
    assert figures["env"]["cuda_available"] or "skipped" in figures["cuda_tests"]["summary"]
    assert [r["concurrent"] for r in figures["throughput"]["rows"]] == [1, 2]
    assert all(r["runs_per_hour"] > 0 for r in figures["throughput"]["rows"])
    assert len(figures["baseline_5fold"]["fold_rmse"]) == 5 and 0 < figures["baseline_5fold"]["oof_rmse"] < 5
    assert {r["arm"] for r in figures["benchmark"]["runs"]} >= {"headbench"}
