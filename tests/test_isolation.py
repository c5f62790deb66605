"""The suite reaches nothing of the user's: a pytest session started from a shell that points at the user's MLflow
server, DVC experiment and headbench hooks sees none of them, nor do the commands its tests start."""
import json
from pathlib import Path

import pytest

from conftest import LEAKY_ENV

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow  # starts a pytest session in a subprocess (the fast tier skips it)

INNER = """
import json, os
from pathlib import Path

from conftest import sh

def test_inner(tmp_path):
    child = dict(line.split("=", 1) for line in sh("env", tmp_path).splitlines() if "=" in line)
    Path(os.environ["ISOLATION_OUT"]).write_text(json.dumps({"test": dict(os.environ), "command": child}))
"""


def test_a_users_tracking_server_and_dvc_state_reach_neither_tests_nor_their_commands(pytester, monkeypatch, tmp_path):
    for var in LEAKY_ENV:  # e.g. the user's team server in MLFLOW_TRACKING_URI, or DVC_EXP_NAME inside `dvc exp run`
        monkeypatch.setenv(var, f"users-{var}")
    monkeypatch.setenv("ISOLATION_OUT", str(tmp_path / "seen.json"))
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text())
    pytester.makepyfile(test_inner=INNER)
    pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    seen = json.loads((tmp_path / "seen.json").read_text())
    for where, environ in seen.items():
        assert not set(LEAKY_ENV) & set(environ), f"the {where} saw {sorted(set(LEAKY_ENV) & set(environ))}"
        # DVC's site cache (else /var/tmp/dvc) lies in the inner session's temporary folders
        assert Path(environ["DVC_SITE_CACHE_DIR"]).is_relative_to(pytester.path), (where, environ["DVC_SITE_CACHE_DIR"])
