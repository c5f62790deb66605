"""The import graph (import-linter, contracts in pyproject.toml): no cycles at any level, and the layers hold."""
import shutil
import subprocess

from conftest import ROOT, env


def test_import_contracts_hold():
    res = subprocess.run([shutil.which("lint-imports", path=env()["PATH"])], cwd=ROOT, capture_output=True, text=True, env=env())
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout
