"""dvc.yaml lists, for every stage, exactly the library modules that stage's script imports (directly or not,
at the top or inside a function): an edit re-runs the stages that run the edited code, and only those."""
import ast
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import ROOT

SRC = ROOT / "src" / "headbench"


def module_file(module: str) -> Path | None:
    """headbench.engine.loop -> src/headbench/engine/loop.py; None for a package (its __init__ holds no code)."""
    path = ROOT / "src" / Path(*module.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else None


def headbench_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "headbench":
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # from headbench.engine import device
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "headbench"}
    return {m for m in found if module_file(m)}


def import_closure(script: Path) -> set[str]:
    """Every headbench module the script runs, as paths relative to the repository."""
    seen, todo = set(), list(headbench_imports(script))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += headbench_imports(module_file(module))
    return {str(module_file(m).relative_to(ROOT)) for m in seen}


def test_package_init_files_hold_no_code_a_stage_would_run():
    """So the closure may leave them out: a stage's deps list modules, and no __init__ can change what runs."""
    for init in SRC.rglob("__init__.py"):
        if init.parent.name == "commands":  # the console command; no stage imports it
            continue
        body = ast.parse(init.read_text()).body
        assert all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) or
                   isinstance(n, ast.Assign) and n.targets[0].id == "__version__" for n in body), init


STAGES = YAML(typ="safe").load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_a_stage_depends_on_exactly_the_code_it_runs(name):
    stage = STAGES[name]
    script = re.search(r"python (stages/\w+\.py)", stage["cmd"]).group(1)
    listed = {d for d in stage["deps"] if d.startswith("src/")}
    assert script in stage["deps"]
    assert listed == import_closure(ROOT / script)


def test_the_closure_sees_imports_inside_functions():
    # pipeline.train_run imports the model code lazily (start-up time); the train stage must still depend on it
    closure = import_closure(ROOT / "stages/train.py")
    assert {f"src/headbench/{m}.py" for m in ("model/encoder", "engine/loop", "data/tokens", "model/reinit",
                                              "engine/device", "engine/resume")} <= closure
    assert not any(f.startswith(("src/headbench/report/", "src/headbench/tracking/report_log")) for f in closure)


def test_editing_the_statistics_leaves_every_train_stage_fresh():
    for stage in ("train", "train_more"):
        deps = set(STAGES[stage]["deps"])
        assert not {"src/headbench/stats/compare.py", "src/headbench/stats/sequential.py", "src/headbench/report/comparison.py"} & deps
        assert "src/headbench/stats/scoring.py" in deps  # the RMSE a run reports


def test_adding_a_head_leaves_the_data_stages_fresh():
    for stage in ("demo_data", "split"):
        assert not any(d.startswith("src/headbench/model/") for d in STAGES[stage]["deps"])
        assert not any(str(p).startswith("variants") for p in STAGES[stage]["params"])


def test_renaming_the_mlflow_experiment_retrains_nothing():
    for stage in ("train", "train_more", "evaluate"):
        params = [str(p) for p in STAGES[stage].get("params", [])]
        assert "tracking" not in params and "tracking.experiment" not in params
