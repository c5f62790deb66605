"""The task as a parameter: several regression targets, or classes; their params, data, folds and runs."""
import json

import numpy as np
import pandas as pd
import pytest

from headbench.config import DataParams, ParamError, parse
from headbench.data.folds import make_folds
from headbench.data.table import class_names, load_dataset
from headbench.engine.predict import predict_csv
from headbench.errors import DataError
from conftest import tiny_params

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def table(n=60, classes=("news", "fiction", "letters"), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    text = [" ".join(rng.choice(WORDS, 6)) + f" {i}" for i in range(n)]
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": text, "V": rng.normal(3, 1, n).round(3),
                         "A": rng.normal(3, 0.5, n).round(3), "D": rng.normal(3, 0.3, n).round(3),
                         "genre": [classes[i % len(classes)] for i in range(n)], "doc": [f"d{i // 4}" for i in range(n)]})


def with_task(raw: dict, task: str, target) -> dict:
    raw["task"] = {"type": task}
    raw["data"]["target_col"] = target
    return raw


@pytest.fixture
def raw(tiny_models, tmp_path):
    path = tmp_path / "data.csv"
    table().to_csv(path, index=False)
    raw = tiny_params(tiny_models("bert"), path)
    raw["data"].update(text_col="text", group_col=None)
    return raw


@pytest.mark.parametrize("task, target, match", [
    ("ranking", "V", "task.type.*must be one of \\['regression', 'classification'\\]"),
    ("classification", ["V", "A"], "data.target_col.*one column of class labels"),
    ("regression", ["V", "A", "V"], "data.target_col.*\\['V'\\] more than once"),
    ("regression", [], "data.target_col.*non-empty list"),
])
def test_a_bad_task_or_target_list_is_refused_naming_its_key(raw, task, target, match):
    with pytest.raises(ParamError, match=match):
        parse(with_task(raw, task, target))


def test_a_params_file_without_a_task_section_is_a_regression(raw):
    raw.pop("task", None)
    assert parse(raw).task.type == "regression"


def test_several_targets_and_classes_load_with_their_names(raw):
    p = parse(with_task(raw, "regression", ["V", "A", "D"]))
    df = load_dataset(p.data, task=p.task.type)
    assert [c for c in df.columns if c.startswith("target")] == ["target.V", "target.A", "target.D"]
    p = parse(with_task(raw, "classification", "genre"))
    assert class_names(load_dataset(p.data, task="classification")["target"]) == ["fiction", "letters", "news"]
    assert class_names(pd.Series(["10", "2", "0", "1"])) == ["0", "1", "2", "10"]  # integer labels in numeric order


def test_a_label_that_pandas_reads_as_missing_is_a_class(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,text,label\na,one,None\nb,two,NA\nc,three,x\n")
    df = load_dataset(DataParams(str(path), "id", "text", "label"), task="classification")
    assert df["target"].tolist() == ["None", "NA", "x"]


@pytest.mark.parametrize("edit, task, target, match", [
    (lambda d: d.assign(A=d["A"].where(d.index != 6)), "regression", ["V", "A"], "column 'A' has missing \\(NaN\\).*data row 7"),
    (lambda d: d.assign(V=d["V"].astype(str).where(d.index != 2, "high")), "regression", ["V", "A"], "column 'V' has non-numeric.*'high'"),
    (lambda d: d.assign(genre="news"), "classification", "genre", "single class \\('news'\\)"),
    (lambda d: d.assign(genre=[f"c{i}" for i in range(len(d))]), "classification", "genre", "more than 1000 classes"),
    (lambda d: d.assign(genre=d["genre"].where(d.index != 3, "")), "classification", "genre", "missing class labels in data row 4"),
])
def test_bad_targets_are_refused_naming_file_column_and_row(raw, tmp_path, edit, task, target, match):
    path = tmp_path / "bad.csv"
    df = table(1100) if "1000" in match else table()
    edit(df).to_csv(path, index=False)
    raw["data"]["path"] = str(path)
    p = parse(with_task(raw, task, target))
    with pytest.raises(DataError, match=match) as err:
        load_dataset(p.data, task=task)
    assert str(path) in str(err.value)


def test_class_folds_are_stratified_and_group_folds_keep_groups(raw):
    p = parse(with_task(raw, "classification", "genre"))
    df = load_dataset(p.data, task="classification")
    folds = make_folds(df, p.cv, "classification")
    counts = pd.crosstab(folds["fold"], df["target"])
    assert (counts.max() - counts.min()).max() <= 1  # each class spread evenly over the folds
    raw["data"]["group_col"] = "doc"
    p = parse(raw)
    df = load_dataset(p.data, task="classification")
    folds = make_folds(df, p.cv, "classification")
    assert df.assign(fold=folds["fold"]).groupby("group")["fold"].nunique().max() == 1


def test_a_class_with_fewer_rows_than_folds_is_refused(raw, tmp_path):
    path = tmp_path / "rare.csv"
    df = table()
    df.loc[:1, "genre"] = "poetry"  # 2 rows, 3 folds
    df.to_csv(path, index=False)
    raw["data"]["path"] = str(path)
    p = parse(with_task(raw, "classification", "genre"))
    with pytest.raises(DataError, match=r"class\(es\) \['poetry'\] have \[2\] rows, fewer than `cv.n_folds`=3"):
        make_folds(load_dataset(p.data, task="classification"), p.cv, "classification", p.data.path)


def _run(p, tmp_path, monkeypatch, folds: pd.DataFrame | None = None):
    from headbench.engine.run import train_run
    from headbench.io import write_csv

    monkeypatch.chdir(tmp_path)
    folds_path = tmp_path / "folds.csv"
    write_csv(folds_path, folds if folds is not None else make_folds(load_dataset(p.data, task=p.task.type), p.cv, p.task.type))
    out = tmp_path / "runs" / "baseline" / "split42-fold0-seed42"
    metrics = train_run(p, "baseline", 0, 42, folds_path, out)
    return metrics, pd.read_csv(out / "oof.csv", dtype={"id": str}, keep_default_na=False)


@pytest.mark.slow
def test_a_multi_target_run_reports_mcrmse_and_a_prediction_per_target(raw, tmp_path, monkeypatch):
    from sklearn.metrics import mean_squared_error

    p = parse(with_task(raw, "regression", ["V", "A", "D"]))
    metrics, oof = _run(p, tmp_path, monkeypatch)
    assert [c for c in oof.columns if "." in c] == ["target.V", "target.A", "target.D",
                                                    "prediction.V", "prediction.A", "prediction.D"]
    per_target = [np.sqrt(mean_squared_error(oof[f"target.{t}"], oof[f"prediction.{t}"])) for t in "VAD"]
    assert metrics["valid_mcrmse"] == pytest.approx(np.mean(per_target), rel=1e-6)
    pred, score = predict_csv(p.data.path, p.data, tmp_path / "runs", ["baseline"], task="regression")
    assert list(pred.columns) == ["id", "prediction.V", "prediction.A", "prediction.D"]
    on_fold = pred.set_index("id").loc[oof["id"]]
    np.testing.assert_allclose(on_fold.to_numpy(), oof[["prediction.V", "prediction.A", "prediction.D"]].to_numpy(), atol=1e-5)
    assert score is not None and np.isfinite(score)


@pytest.mark.slow
def test_a_classification_run_reports_log_loss_and_a_probability_per_class(raw, tmp_path, monkeypatch):
    from sklearn.metrics import log_loss

    p = parse(with_task(raw, "classification", "genre"))
    metrics, oof = _run(p, tmp_path, monkeypatch)
    proba = oof[["proba.fiction", "proba.letters", "proba.news"]].to_numpy()
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-9)
    assert metrics["valid_log_loss"] == pytest.approx(log_loss(oof["target"], proba, labels=["fiction", "letters", "news"]),
                                                      rel=1e-6)
    assert (oof["prediction"] == np.array(["fiction", "letters", "news"])[proba.argmax(1)]).all()
    pred, score = predict_csv(p.data.path, p.data, tmp_path / "runs", ["baseline"], task="classification")
    assert list(pred.columns) == ["id", "proba.fiction", "proba.letters", "proba.news", "prediction"]
    on_fold = pred.set_index("id").loc[oof["id"]]
    np.testing.assert_allclose(on_fold[["proba.fiction", "proba.letters", "proba.news"]].to_numpy(), proba, atol=1e-5)
    assert (on_fold["prediction"].to_numpy() == oof["prediction"].to_numpy()).all()
    assert score == pytest.approx(log_loss(load_dataset(p.data, task="classification")["target"],
                                           pred[["proba.fiction", "proba.letters", "proba.news"]].to_numpy(),
                                           labels=["fiction", "letters", "news"]), rel=1e-9)


def test_a_class_absent_from_a_training_fold_is_refused_before_training(raw, tmp_path, monkeypatch):
    p = parse(with_task(raw, "classification", "genre"))
    df = load_dataset(p.data, task="classification")
    folds = pd.DataFrame({"id": df["id"], "fold": np.where(df["target"] == "letters", 0, 1 + np.arange(len(df)) % 2)})
    with pytest.raises(DataError, match=r"fold 0's training rows have no row of class\(es\) \['letters'\]"):
        _run(p, tmp_path, monkeypatch, folds)
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
@pytest.mark.parametrize("task, target", [("classification", "genre"), ("regression", ["V", "A", "D"])])
def test_dvc_repro_runs_a_grouped_study_of_each_task_and_names_its_metric(tiny_models, tmp_path, task, target):
    from ruamel.yaml import YAML
    from conftest import copy_repo, sh

    root = copy_repo(tmp_path / "repo")
    (root / "data").mkdir(exist_ok=True)
    table(90).to_csv(root / "data/mine.csv", index=False)
    raw = with_task(tiny_params(tiny_models("bert"), "data/mine.csv", eval_every=2), task, target)
    raw["data"].update(text_col="text", group_col="doc")
    raw["variants"] = {"baseline": {"head": "cls"}, "aa": {"head": "cls", "seed_offset": 1000}}
    YAML().dump(raw, root / "params.yaml")
    sh("git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm init", root)
    out = sh("dvc repro", root, timeout=600)
    metric = {"classification": "log-loss", "regression": "MCRMSE"}[task]
    assert f"| OOF {metric} (mean ± std over partitions × seeds) |" in out and f"Δ < 0 is better (lower {metric})" in out
    folds = pd.read_csv(root / "data/folds/split42.csv").merge(table(90).rename(columns={"id": "id"}), on="id")
    assert folds.groupby("doc")["fold"].nunique().max() == 1
    curves = pd.read_csv(root / "reports/plots/learning_curves.csv")
    assert set(curves["metric"]) == {"log_loss" if task == "classification" else "mcrmse"} and curves["valid"].notna().all()
    # metrics/summary.json (dvc exp show) names the primary metric and carries the side figures of every variant
    summary = json.loads((root / "metrics/summary.json").read_text())
    primary, side = ("log_loss", ["accuracy", "macro_f1"]) if task == "classification" else ("mcrmse", ["rmse_V", "rmse_A", "rmse_D"])
    assert summary["metric"] == f"{metric}, lower is better" and "rmse" not in summary
    assert [k for k in summary if isinstance(summary[k], dict)] == [primary, "delta", "pm", *side]
    assert all(set(summary[k]) == {"baseline", "aa"} for k in (primary, *side))
    detail = pd.read_csv(root / "reports/comparison.csv")
    assert set(side) <= set(detail.columns)
    assert "reported, not judged" in (root / "reports/comparison.md").read_text()
    run = json.loads((root / "runs/baseline/split42-fold0-seed42/metrics.json").read_text())
    assert {f"valid_{k}" for k in (primary, *side)} <= set(run)


def test_a_file_to_score_may_hold_a_single_class(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("id,text,label\na,one,news\nb,two,news\n")
    p = DataParams(str(path), "id", "text", "label")
    assert load_dataset(p, require_target=False, task="classification")["target"].tolist() == ["news", "news"]
    with pytest.raises(DataError, match="single class"):
        load_dataset(p, task="classification")
