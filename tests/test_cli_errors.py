"""Bad input at the command line: one clear line, exit 2, existing outputs untouched."""
import os
import re
import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from conftest import ROOT, tiny_params

pytestmark = pytest.mark.slow  # runs stage processes or the pipeline (README: the fast tier skips it)


def run_stage(args, cwd):
    env = {**os.environ, "HEADBENCH_TRACKING": "0"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def workdir(tmp_path, tiny_models, demo_csv):
    raw = tiny_params(tiny_models("bert"), demo_csv)
    YAML().dump(raw, tmp_path / "params.yaml")
    return tmp_path, raw


def write_params(workdir, raw):
    YAML().dump(raw, workdir / "params.yaml")


def test_bad_csv_exits_2_and_leaves_existing_folds_untouched(workdir):
    wd, raw = workdir
    (wd / "folds.csv").write_text("id,fold\nkeep,0\n")
    bad = wd / "bad.csv"
    bad.write_text("id,excerpt,target\na,hello,1\nb,world,not-a-number\n")
    raw["data"]["path"] = str(bad)
    write_params(wd, raw)
    res = run_stage([str(ROOT / "stages/split.py"), "--out", str(wd / "folds.csv")], wd)
    assert res.returncode == 2
    assert res.stderr.startswith(f"error: {bad}: column 'target' has non-numeric values ('not-a-number') in data row 2")
    assert "Traceback" not in res.stderr
    assert (wd / "folds.csv").read_text() == "id,fold\nkeep,0\n"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r["train"].update(max_length=4096), "`train.max_length`=4096 is above the model's limit of 128 positions"),
        (lambda r: r["model"].update(name="no-such-org/no-such-model"), "`model.name` 'no-such-org/no-such-model' could not be loaded"),
        (lambda r: r["train"].update(lr=-1), "`train.lr` must be > 0"),
    ],
)
def test_bad_params_are_rejected_before_training(workdir, mutate, message, monkeypatch):
    wd, raw = workdir
    mutate(raw)
    write_params(wd, raw)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    res = run_stage([str(ROOT / "stages/train.py"), "--variant", "baseline", "--fold", "0", "--seed", "1",
                     "--folds", str(wd / "folds.csv"), "--runs", str(wd / "runs")], wd)
    assert res.returncode == 2, res.stderr[-2000:]
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not (wd / "runs").exists()


@pytest.mark.parametrize("args, message", [
    (["--variant", "nope", "--fold", "0"], "unknown variant 'nope'; defined variants: ['aa', 'baseline', 'mean', 'reinit6']"),
    (["--variant", "baseline", "--fold", "9"], "fold 9 is out of range: valid folds are 0..2"),
])
def test_bad_run_arguments(workdir, args, message):
    wd, _ = workdir
    res = run_stage([str(ROOT / "stages/train.py"), *args, "--seed", "1", "--runs", str(wd / "runs")], wd)
    assert res.returncode == 2 and message in res.stderr


def test_a_10mb_excerpt_is_truncated_not_crashed(tiny_models, tmp_path):
    from headbench.model.encoder import load_tokenizer
    from headbench.data.tokens import tokenize

    tok = load_tokenizer(tiny_models("bert"))
    huge = "word " * 2_000_000  # 10 MB
    ids, _ = tokenize([huge, "short text"], tok, 64)
    assert len(ids[0]) == 64 and len(ids[1]) < 64


def test_remote_code_is_off_and_torch_load_is_weights_only():
    src = "\n".join(p.read_text() for p in (ROOT / "src/headbench").rglob("*.py"))
    assert "trust_remote_code=True" not in src
    loads = [line for line in src.splitlines() if "torch.load(" in line]
    assert loads and all("weights_only=True" in line for line in loads)


def test_a_diverging_run_exits_2_names_where_writes_nothing_and_fails_its_mlflow_run(workdir):
    import mlflow

    wd, raw = workdir
    raw["train"].update(lr=1e8, head_lr=1e8, max_grad_norm=None, eval_every=100)  # absurd: the loss overflows
    raw["tracking"]["enabled"] = True
    write_params(wd, raw)
    assert run_stage([str(ROOT / "stages/split.py"), "--out", str(wd / "folds.csv")], wd).returncode == 0
    uri = f"sqlite:///{wd / 'mlflow.db'}"
    env = {k: v for k, v in os.environ.items() if k not in ("HEADBENCH_TRACKING", "MLFLOW_TRACKING_URI")}
    res = subprocess.run([sys.executable, str(ROOT / "stages/train.py"), "--variant", "baseline", "--fold", "0", "--seed", "1",
                          "--folds", str(wd / "folds.csv"), "--runs", str(wd / "runs")], cwd=wd, capture_output=True,
                         text=True, timeout=300, env={**env, "MLFLOW_TRACKING_URI": uri})
    assert res.returncode == 2, res.stderr[-2000:]
    assert re.search(r"baseline split 42 fold 0 seed 1: the training loss became (nan|inf) at step \d+", res.stderr), res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    assert not (wd / "runs").exists()
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name(raw["tracking"]["experiment"]).experiment_id],
                              filter_string="tags.`headbench.seed` = '1'")
    assert [r.info.status for r in runs] == ["FAILED"]
