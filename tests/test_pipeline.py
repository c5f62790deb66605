"""End to end: `dvc repro` on a tiny config in a copy of the repo, MLflow read back, predict, interruption."""
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from conftest import ROOT, copy_repo, env, pause_at, sh, tiny_params
from headbench.data.folds import run_seed
from headbench.summary_keys import SUMMARY_KEYS

pytestmark = pytest.mark.slow  # runs stage processes or the pipeline (README: the fast tier skips it)


def default_sigint():
    """A shell starts background jobs with SIGINT ignored, and children inherit that; a terminal's Ctrl-C reaches
    a foreground job with the default handler, which is what these tests reproduce."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def repo(tmp_path_factory, tiny_models):
    root = copy_repo(tmp_path_factory.mktemp("repo"))
    raw = tiny_params(tiny_models("bert"), "data/demo/train.csv", eval_every=2)
    raw["demo"]["rows"] = 45
    raw["tracking"]["enabled"] = True
    raw["seeds"] = [42, 7]
    raw["variants"] = {"baseline": {"head": "cls"}, "baseline_aa": {"head": "cls", "seed_offset": 1000},
                       "conv1d_llrd": {"head": "conv1d", "head_options": {"channels": 8}, "llrd": 0.9}}
    YAML().dump(raw, root / "params.yaml")
    sh("git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init", root)
    res = sh("dvc repro", root, timeout=900)
    return root, res


def test_dvc_repro_runs_every_stage_and_prints_the_table(repo):
    root, res = repo
    assert "| variant | head | options |" in res and "conv1d_llrd" in res
    summary = json.loads((root / "metrics/summary.json").read_text())
    assert list(summary) == ["baseline_aa", "conv1d_llrd", *SUMMARY_KEYS, "rmse", "delta", "pm"]
    assert summary["metric"] == "RMSE, lower is better"
    assert summary["question"] == "new_rows"
    detail = pd.read_csv(root / "reports/comparison.csv").set_index("variant")
    assert summary["runs"] == 6 and summary["aa_verdict"] == detail.loc["baseline_aa", "verdict"]
    assert summary["rmse"] == pytest.approx(detail["oof_rmse"].to_dict(), abs=1e-6)
    for name in ("baseline_aa", "conv1d_llrd"):
        d, delta, pm = detail.loc[name], summary["delta"][name], summary["pm"][name]
        assert d["verdict"] in ("better", "worse", "equivalent", "undecided", "needs more data")
        assert d["runs"] == 6 and d["runs_used"] == 6 and d["ci_low"] <= delta <= d["ci_high"] and d["round"] == 1
        assert pm == pytest.approx((d["ci_high"] - d["ci_low"]) / 2, abs=1e-6)
        mark = {"better": "*", "worse": "*", "equivalent": "=", "needs more data": "~"}.get(d["verdict"], "")
        assert summary[name] == f"{round(1000 * float(d['delta'])):+d}" + mark
        assert (name in summary["better"].split(", ")) == (d["verdict"] == "better")
        # the difference is the mean over the 6 paired runs, each read back from the train stage's own output
        run_delta = []
        for fold in (0, 1, 2):
            for seed in (42, 7):
                r = {v: pd.read_csv(root / f"runs/{v}/split42-fold{fold}-seed{seed}/oof.csv") for v in (name, "baseline")}
                run_delta.append(np.sqrt(((r[name].prediction - r[name].target) ** 2).mean())
                                 - np.sqrt(((r["baseline"].prediction - r["baseline"].target) ** 2).mean()))
        assert delta == pytest.approx(np.mean(run_delta), abs=1e-6)
    per_variant = json.loads((root / "evaluation/baseline/summary.json").read_text())
    assert set(per_variant["fold_rmse"]) == {"0", "1", "2"} and set(per_variant["oof_rmse_per_run_set"]) == {"42-42", "42-7"}
    assert not (root / "metrics/variants").exists()
    oof = pd.read_csv(root / "evaluation/baseline/oof.csv")
    assert len(oof) == 90 and not oof.duplicated(["id", "seed"]).any()  # every row predicted once per seed
    # the A/A control is the baseline's recipe with other randomness: same rows, other predictions
    aa = pd.read_csv(root / "runs/baseline_aa/split42-fold0-seed42/oof.csv")
    b = pd.read_csv(root / "runs/baseline/split42-fold0-seed42/oof.csv")
    assert (aa.id == b.id).all() and not np.allclose(aa.prediction, b.prediction)
    # each run's streams come from its unit's own seed: per split and fold, shared by the variants, not by the A/A
    seed_of = lambda v, fold, seed: json.loads((root / f"runs/{v}/split42-fold{fold}-seed{seed}/metrics.json").read_text())["run_seed"]  # noqa: E731
    assert seed_of("baseline_aa", 0, 42) == run_seed(42, 42, 0, 1000) != seed_of("baseline", 0, 42) == run_seed(42, 42, 0, 0)
    assert seed_of("conv1d_llrd", 1, 7) == seed_of("baseline", 1, 7) != seed_of("baseline", 2, 7)
    md = (root / "reports/comparison.md").read_text()
    assert "| baseline | cls |" in md and "| conv1d_llrd | conv1d | channels=8, llrd=0.9 |" in md
    assert "| baseline_aa (A/A) | cls |" in md and "Bonferroni" in md
    assert len(pd.read_csv(root / "reports/plots/paired_runs.csv")) == 12
    for f in ["reports/plots/delta_vs_baseline.png", "reports/plots/learning_curves.png", "reports/plots/pred_vs_true.png"]:
        assert (root / f).stat().st_size > 1000, f
    # the checkpoint and its cache copy are one file (cache.type hardlink), so checkpoints do not take double space
    assert (root / "runs/baseline/split42-fold0-seed42/model.safetensors").stat().st_nlink == 2
    m = json.loads((root / "runs/baseline/split42-fold0-seed42/metrics.json").read_text())
    assert {"best_valid_rmse", "best_step", "train_seconds", "samples_per_s", "peak_rss_mb"} <= set(m)
    # checkpoint: final (the default) reports the model after the last step, not the best evaluation on these rows
    assert m["checkpoint"] == "final" and m["valid_rmse"] == m["final_valid_rmse"] >= m["best_valid_rmse"]
    # the time breakdown accounts for the run's wall time (start-up, data, model, tracking, train, eval, loop, write)
    laps = {k: v for k, v in m.items() if k.startswith("time_") and k != "time_wall_s"}
    assert set(laps) == {f"time_{k}_s" for k in ("startup", "data", "model", "tracking", "train", "eval", "loop", "write")}
    assert all(v >= 0 for v in laps.values()) and m["time_train_s"] == pytest.approx(m["train_seconds"], abs=1e-3)
    assert abs(sum(laps.values()) - m["time_wall_s"]) <= 0.05 * m["time_wall_s"]


def test_everything_is_up_to_date_afterwards(repo):
    root, _ = repo
    assert "up to date" in sh("dvc status", root)
    again = sh("dvc repro", root)
    assert "Running stage" not in again


def stale_after_editing(root: Path, path: str) -> list[str]:
    f = root / path
    original = f.read_text()
    try:
        f.write_text(original + "\n# an edit\n")
        out = sh("dvc status", root)
    finally:
        f.write_text(original)
    return sorted(re.findall(r"^([\w@.-]+):$", out, re.M))


def test_editing_reporting_code_makes_only_the_aggregate_stage_stale(repo):
    root, _ = repo
    assert stale_after_editing(root, "src/headbench/report/markdown.py") == ["aggregate"]


def test_editing_the_evaluation_logic_makes_only_the_evaluate_stages_stale(repo):
    root, _ = repo
    assert stale_after_editing(root, "src/headbench/report/evaluate.py") == [
        "evaluate@baseline", "evaluate@baseline_aa", "evaluate@conv1d_llrd"]
    train = stale_after_editing(root, "src/headbench/engine/loop.py")
    assert len(train) == 18 and all(s.startswith("train@") for s in train)


def test_mlflow_has_one_parent_per_variant_and_one_child_per_fold(repo):
    import mlflow

    root, _ = repo
    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    exp = client.get_experiment_by_name("headbench")
    runs = [r for r in client.search_runs([exp.experiment_id]) if "dvc.exp_name" not in r.data.tags]  # the workspace's
    parents = [r for r in runs if "headbench.parent_key" in r.data.tags]
    # other tests in this module add runs of their own (a re-run, killed runs with seeds outside the study):
    # only the study's (variant, fold, seed) are counted, so the result does not depend on the tests' order
    study = {(v, str(f), str(s)) for v in ("baseline", "baseline_aa", "conv1d_llrd") for f in range(3) for s in (42, 7)}
    key = lambda r: (r.data.tags["headbench.variant"], r.data.tags["headbench.fold"], r.data.tags["headbench.seed"])  # noqa: E731
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags and key(r) in study]
    assert sorted(r.data.tags["headbench.variant"] for r in parents) == ["baseline", "baseline_aa", "conv1d_llrd"]
    assert {key(r) for r in children} == study and all(r.info.status == "FINISHED" for r in children)
    parent_ids = {r.info.run_id for r in parents}
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == parent_ids
    child = children[0]
    assert {"best_valid_rmse", "valid_rmse", "train_loss", "lr", "samples_per_s"} <= set(child.data.metrics)
    assert child.data.params["train.max_length"] == "64" and "variant.head" in child.data.params
    assert len(client.get_metric_history(child.info.run_id, "valid_rmse")) >= 2
    # the aggregate run carries metrics/summary.json under the names `dvc exp show` gives it
    agg = next(r for r in runs if r.data.tags.get("headbench.stage") == "aggregate")
    summary = json.loads((root / "metrics/summary.json").read_text())
    assert agg.data.metrics["delta.conv1d_llrd"] == pytest.approx(summary["delta"]["conv1d_llrd"])
    assert agg.data.metrics["rmse.baseline"] == pytest.approx(summary["rmse"]["baseline"])
    assert agg.data.tags["baseline_aa"] == summary["baseline_aa"] and agg.data.tags["better"] == summary["better"]
    # each variant's parent run carries its own figures, so the UI's run table compares variants directly
    detail = pd.read_csv(root / "reports/comparison.csv").set_index("variant")
    for parent in parents:
        name = parent.data.tags["headbench.variant"]
        assert parent.data.metrics["rmse"] == pytest.approx(summary["rmse"][name])
        if name != "baseline":
            assert parent.data.metrics["delta"] == pytest.approx(summary["delta"][name])
            assert parent.data.tags["verdict"] == detail.loc[name, "verdict"]


def test_rerunning_a_stage_reuses_its_parent_run(repo):
    import mlflow

    root, _ = repo
    sh("dvc repro -f -s train@baseline-0-42", root, timeout=600)
    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("headbench").experiment_id])
    assert sum("headbench.parent_key" in r.data.tags and r.data.tags["headbench.variant"] == "baseline" for r in runs) == 1


def test_predict_without_and_with_targets(repo, tmp_path):
    root, _ = repo
    data = pd.read_csv(root / "data/demo/train.csv").head(10)
    data[["id", "excerpt"]].to_csv(tmp_path / "new.csv", index=False)
    data.to_csv(tmp_path / "labelled.csv", index=False)
    out = sh(f"headbench predict {tmp_path / 'new.csv'} --variants baseline conv1d_llrd --output {tmp_path / 'p.csv'}", root)
    assert "RMSE" not in out
    preds = pd.read_csv(tmp_path / "p.csv")
    assert list(preds["id"]) == list(data["id"]) and np.isfinite(preds["prediction"]).all()
    out = sh(f"headbench predict {tmp_path / 'labelled.csv'} --output {tmp_path / 'q.csv'}", root)
    q = pd.read_csv(tmp_path / "q.csv")
    expected = float(np.sqrt(np.mean((q["prediction"].to_numpy() - data["target"].to_numpy()) ** 2)))
    reported = json.loads((tmp_path / "q.csv.metrics.json").read_text())["rmse"]
    assert reported == pytest.approx(expected) and f"{expected:.4f}" in out


def test_predict_averages_every_checkpoint_and_each_reproduces_its_own_oof(repo, tmp_path):
    import torch

    from headbench.engine.device import precision_for
    from headbench.model.encoder import load_tokenizer
    from headbench.engine.predict import checkpoint_dirs, load_run_model
    from headbench.data.tokens import tokenize
    from headbench.engine.inference import predict

    root, _ = repo
    data = pd.read_csv(root / "data/demo/train.csv")
    data[["id", "excerpt"]].to_csv(tmp_path / "all.csv", index=False)
    sh(f"headbench predict {tmp_path / 'all.csv'} --variants baseline --output {tmp_path / 'p.csv'}", root)
    stage = pd.read_csv(tmp_path / "p.csv")["prediction"].to_numpy()
    runs = checkpoint_dirs(root / "runs", ["baseline"])
    assert len(runs) == 6  # 3 folds x 2 seeds
    own = []
    for run in runs:
        model, mp, max_length, _, _ = load_run_model(run)
        tok = load_tokenizer(mp["name"])
        ids = tokenize(data["excerpt"].tolist(), tok, max_length)[0]
        pred = predict(model, tok, ids, 16, torch.device("cpu"), precision_for(torch.device("cpu"), "auto"))
        own.append(pred)
        oof = pd.read_csv(run / "oof.csv")  # the final model's predictions on the run's own fold
        on_fold = pd.Series(pred, index=data["id"].astype(str)).loc[oof["id"].astype(str)].to_numpy()
        np.testing.assert_allclose(on_fold, oof["prediction"], atol=1e-4)
    np.testing.assert_allclose(stage, np.mean(own, axis=0), atol=1e-5)


def wait_for(path: Path, proc, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, "the process ended before reaching the pause point"
        assert time.time() < deadline, f"{path} did not appear"
        time.sleep(0.05)


@pytest.mark.parametrize("point", ["step1", "publish"])  # mid-training; outputs written but not yet renamed into place
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killed_training_leaves_no_outputs_and_marks_the_run_killed(repo, tmp_path, sig, point):
    import mlflow

    root, _ = repo
    seed = 9 if sig == signal.SIGTERM else 8  # not in the study, so no output of it exists
    out = root / f"runs/baseline/split42-fold1-seed{seed}"
    pause = tmp_path / "paused"
    proc = subprocess.Popen(
        [sys.executable, "stages/train.py", "--variant", "baseline", "--fold", "1", "--seed", str(seed)],
        cwd=root, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint,
        env=env(**pause_at(point, pause)),
    )
    wait_for(pause, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "no partial outputs were written" in err
    assert not out.exists() and not list(out.parent.glob(f".split42-fold1-seed{seed}*"))
    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("headbench").experiment_id],
                              filter_string=f"tags.`headbench.seed` = '{seed}'", order_by=["attributes.start_time DESC"])
    assert runs and runs[0].info.status == "KILLED"


def metric_columns(header: list[str], root: Path) -> list[str]:
    """The metric columns of `dvc exp show --csv`: not the fixed ones, not a param, not a dependency's path."""
    from headbench.tracking.store import flatten

    fixed = {"Experiment", "rev", "typ", "Created", "parent", "State", "Executor"}
    params = set(flatten(YAML(typ="safe").load((root / "params.yaml").read_text())))
    deps = {d["path"] for st in YAML(typ="safe").load((root / "dvc.lock").read_text())["stages"].values() for d in st.get("deps", [])}
    return [h for h in header if h not in fixed | deps and h.removeprefix("params.yaml:") not in params]


@pytest.fixture(scope="module")
def experiment(repo) -> str:
    """The study committed, and one experiment on it that changes one variant: only that variant's train stages,
    its evaluate stage and the aggregate run again."""
    root, _ = repo
    sh("git add -A && git -c user.email=t@t -c user.name=t commit -qm 'study results'", root)
    sh("dvc exp run -n llrd08 -S variants.conv1d_llrd.llrd=0.8", root, timeout=900)
    return "llrd08"


def test_exp_show_has_few_columns_with_every_variants_delta_and_verdict(repo, experiment):
    root, _ = repo
    header, *rows = list(csv.reader(io.StringIO(sh("dvc exp show --csv --no-pager", root))))
    variants = ["baseline", "baseline_aa", "conv1d_llrd"]
    metrics = metric_columns(header, root)
    assert len(metrics) <= 7 + 4 * len(variants), metrics
    short = [m.removeprefix("metrics/summary.json:") for m in metrics]
    for v in variants[1:]:  # the variant's own column is its Δ and verdict (e.g. -31*), beside its figures
        assert {v, f"delta.{v}", f"pm.{v}", f"rmse.{v}"} <= set(short)
    assert {"question", "better", "worse", "equivalent", "aa_verdict", "runs", "rmse.baseline"} <= set(short)
    col = lambda name: metrics[short.index(name)]
    exp_row = next(r for r in rows if experiment in (r[0], r[1]))
    workspace = next(r for r in rows if r[1] == "workspace")
    for r in (exp_row, workspace):
        assert float(r[header.index(col("rmse.baseline"))]) > 0
        cell, delta = r[header.index(col("baseline_aa"))], float(r[header.index(col("delta.baseline_aa"))])
        assert re.fullmatch(r"[+-]\d+[*=~]?", cell) and int(cell.rstrip("*=~")) == round(1000 * delta)
        assert cell.endswith("*") == (r[header.index(col("aa_verdict"))] in ("better", "worse"))
    assert float(exp_row[next(i for i, h in enumerate(header) if h.endswith("variants.conv1d_llrd.llrd"))]) == 0.8
    # `dvc metrics diff` names one variant and figure per line, nothing per fold or seed
    diff = json.loads(sh("dvc metrics diff HEAD --json", root))
    assert list(diff) == ["metrics/summary.json"]
    assert set(diff["metrics/summary.json"]) <= {*short}


def test_plots_diff_overlays_experiments_and_renders_offline(repo, experiment, tmp_path):
    """HEAD and the experiment in one page, Vega inlined (set-up made it)."""
    import shutil

    root, _ = repo
    page = ROOT / ".dvc/tmp/vega/page.html"
    if not page.is_file():  # setup.sh could not reach the npm registry
        pytest.skip(f"{page} missing: setup.sh makes it where registry.npmjs.org answers")
    (root / ".dvc/tmp/vega").mkdir(parents=True, exist_ok=True)
    shutil.copy(page, root / ".dvc/tmp/vega/page.html")
    sh("python scripts/offline_plots.py", root)  # finds the page, sets plots.html_template
    sh(f"dvc plots diff HEAD {experiment} -o {tmp_path / 'plots'}", root)
    html = (tmp_path / "plots/index.html").read_text()
    assert "cdn.jsdelivr" not in html and "vega-lite@5.2.0" in html
    for csv_plot in ("learning_curves.csv", "delta_vs_baseline.csv"):
        spec = json.loads(sh(f"dvc plots diff HEAD {experiment} --json --targets reports/plots/{csv_plot}", root))
        values = spec["data"][f"reports/plots/{csv_plot}"][0]["content"]["data"]["values"]
        assert {v["rev"] for v in values} == {"HEAD", experiment}  # both experiments in one plot
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND",
                          "--virtual-time-budget=10000", "--dump-dom", f"file://{tmp_path / 'plots/index.html'}"],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<canvas") >= 2, dom[-2000:]  # both Vega plots drew, with every host name unresolvable


def test_interrupted_repro_resumes_without_redoing_finished_stages(tmp_path, tiny_models):
    """Ctrl-C on `dvc repro` mid-study (SIGINT to its process group, as a terminal sends it), then `dvc repro` again.
    The signal comes while train@mean-1-42 is held at its start (HEADBENCH_PAUSE_AT), so which stages had finished
    is known, not raced: those DVC had recorded in dvc.lock."""
    root = copy_repo(tmp_path)
    raw = tiny_params(tiny_models("bert"), "data/demo/train.csv")
    raw["demo"]["rows"] = 45
    raw["variants"] = {"baseline": {"head": "cls"}, "mean": {"head": "mean"}}
    YAML().dump(raw, root / "params.yaml")
    sh("git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init", root)

    def locked() -> set[str]:
        try:
            stages = YAML(typ="safe").load((root / "dvc.lock").read_text())["stages"]
        except (FileNotFoundError, TypeError, KeyError):
            return set()
        return {name.removeprefix("train@") for name in stages if name.startswith("train@")}

    pause = tmp_path / "paused"
    proc = subprocess.Popen(["dvc", "repro"], cwd=root, env=env(**pause_at("start mean-1-42", pause)),
                            start_new_session=True, preexec_fn=default_sigint,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(pause, proc, timeout=600)
    done = locked()  # DVC records a stage in dvc.lock before it starts the next, so this is every finished stage
    os.killpg(proc.pid, signal.SIGINT)
    first_log, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, first_log[-3000:]
    assert locked() == done and 1 <= len(done) < 6, done  # interrupted with some, not all, training stages finished
    assert not list((root / "runs").glob("*/.split*")), "a temporary run directory was left behind"
    out_of = lambda stage: root / "runs" / stage.split("-")[0] / "split42-fold{}-seed{}".format(*stage.split("-")[1:]) / "metrics.json"
    before = {s: out_of(s).stat().st_mtime_ns for s in done}

    second = sh("dvc repro", root, timeout=900)
    ran = set(re.findall(r"Running stage 'train@([\w-]+)'", second))
    assert not done & ran, f"finished stages ran again: {done & ran}"
    assert ran | done == {f"{v}-{f}-42" for v in ("baseline", "mean") for f in range(3)}
    assert {s: out_of(s).stat().st_mtime_ns for s in done} == before
    assert set(json.loads((root / "metrics/summary.json").read_text())) == {*SUMMARY_KEYS, "mean", "rmse", "delta", "pm"}
    assert "Running stage" not in sh("dvc repro", root)
