"""dvc.yaml lists, for every stage, exactly the library modules that stage's script imports (directly or not,
at the top or inside a function): an edit re-runs the stages that run the edited code, and only those."""
import ast
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import ROOT

SRC = ROOT / "src" / "headbench"


def headbench_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("headbench."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.ImportFrom) and node.module == "headbench":  # from headbench import device
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("headbench.")}
    return found


def import_closure(script: Path) -> set[str]:
    seen, todo = set(), list(headbench_imports(script))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += headbench_imports(SRC / f"{module}.py")
    return seen


STAGES = YAML(typ="safe").load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_a_stage_depends_on_exactly_the_code_it_runs(name):
    stage = STAGES[name]
    script = re.search(r"python (stages/\w+\.py)", stage["cmd"]).group(1)
    listed = {d for d in stage["deps"] if d.startswith("src/")}
    assert script in stage["deps"]
    assert listed == {f"src/headbench/{m}.py" for m in import_closure(ROOT / script)}


def test_the_closure_sees_imports_inside_functions():
    # pipeline.train_run imports the model code lazily (start-up time); the train stage must still depend on it
    assert {"model", "train", "tokens", "reinit", "device", "resume"} <= import_closure(ROOT / "stages/train.py")
    assert "report" not in import_closure(ROOT / "stages/train.py")


def test_editing_the_statistics_leaves_every_train_stage_fresh():
    for stage in ("train", "train_more"):
        deps = set(STAGES[stage]["deps"])
        assert not {"src/headbench/stats.py", "src/headbench/sequential.py", "src/headbench/report.py"} & deps
        assert "src/headbench/scoring.py" in deps  # the RMSE a run reports


def test_adding_a_head_leaves_the_data_stages_fresh():
    for stage in ("demo_data", "split"):
        assert "src/headbench/heads.py" not in STAGES[stage]["deps"]
        assert not any(str(p).startswith("variants") for p in STAGES[stage]["params"])


def test_renaming_the_mlflow_experiment_retrains_nothing():
    for stage in ("train", "train_more", "evaluate"):
        params = [str(p) for p in STAGES[stage].get("params", [])]
        assert "tracking" not in params and "tracking.experiment" not in params
