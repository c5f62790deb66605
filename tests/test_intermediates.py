"""Files the project itself wrote are checked when read back: a split or a run's output edited by hand, left from
another split, or written over by a command, fails with one line naming the file."""
import json
from pathlib import Path

import pandas as pd
import pytest

from headbench.commands import parse
from headbench.errors import StudyError, UserError
from headbench.report.evaluate import read_run
from headbench.data.folds import attach_folds, read_folds


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, match", [
    ("id,fold\na,0\nb,7\n", "row 3 has fold .7., not one of 0..4"),
    ("id,fold\na,0\nb,x\n", "row 3 has fold 'x'"),
    ("id,split\na,0\n", "expected the columns id, fold"),
    ("id,fold\na,0\na,1\n", "id 'a' has more than one fold"),
    ("", "not a readable fold file"),
])
def test_a_hand_edited_fold_file_fails_naming_it(tmp_path, text, match):
    path = write(tmp_path / "folds.csv", text)
    with pytest.raises(StudyError, match=match) as err:
        read_folds(path, n_folds=5)
    assert str(path) in str(err.value)


def test_a_stale_fold_file_from_other_data_fails_naming_it(tmp_path):
    path = write(tmp_path / "folds.csv", "id,fold\na,0\nz,1\n")
    data = pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "target": [0.0, 1.0]})
    with pytest.raises(StudyError, match=r"1 ids are not in the data.*stale"):
        attach_folds(data, read_folds(path, 5), path)


def run_dir(tmp_path, oof="id,split,fold,seed,target,prediction\na,7,1,42,0.5,0.4\n", metrics=None):
    d = tmp_path / "runs" / "baseline" / "split7-fold1-seed42"
    d.mkdir(parents=True)
    write(d / "oof.csv", oof)
    write(d / "history.csv", "step,valid_rmse\n1,0.5\n")
    write(d / "metrics.json", json.dumps(metrics or {"valid_rmse": 0.1, "train_seconds": 3.0}))
    return d


@pytest.mark.parametrize("oof, metrics, match", [
    ("id,split,fold,seed,target,prediction\na,7,2,42,0.5,0.4\n", None, "not split 7, fold 1, seed 42"),
    ("id,split,fold,seed,target,prediction\na,8,1,42,0.5,0.4\n", None, "not split 7, fold 1, seed 42"),
    ("id,split,fold,seed,target,prediction\na,7,1,42,0.5,nan\n", None, "not a finite number"),
    ("id,split,fold,seed,target.V,target.A,prediction.V,prediction.A\na,7,1,42,0.5,0.1,0.4,inf\n", None, "not a finite number"),
    ("id,split,fold,seed,target,proba.x,proba.y,prediction\na,7,1,42,x,0.5,nan,x\n", None, "not a finite number"),
    ("id,split,fold,seed,target,prediction,proba.x,proba.y\na,7,1,42,x,x,0.5,0.5\n", None, "expected the columns"),
    ("id,split,fold,seed,prediction\na,7,1,42,0.4\n", None, "expected the columns"),
    ("id,fold,seed,target,prediction\na,1,42,0.5,0.4\n", None, "expected the columns"),
    ("id,split,fold,seed,target,prediction\na,7,1,42,0.5,0.4\n", {"rmse": 1}, "metrics.json: not a run's metrics"),
])
def test_a_hand_edited_run_output_fails_naming_it(tmp_path, oof, metrics, match):
    d = run_dir(tmp_path, oof, metrics)
    with pytest.raises(StudyError, match=match) as err:
        read_run(d, 7, 1, 42)
    assert str(d) in str(err.value)


def test_a_good_run_output_reads_back(tmp_path):
    oof, history, metrics = read_run(run_dir(tmp_path), 7, 1, 42)
    assert len(oof) == 1 and metrics["valid_rmse"] == 0.1 and list(history.columns) == ["step", "valid_rmse"]


def test_a_classification_run_output_with_a_class_named_like_a_number_reads_back(tmp_path):
    d = run_dir(tmp_path, "id,split,fold,seed,target,proba.0,proba.1,prediction\na,7,1,42,1,0.25,0.75,1\n")
    oof, _, _ = read_run(d, 7, 1, 42)
    assert oof[["proba.0", "proba.1"]].to_numpy().tolist() == [[0.25, 0.75]]


def test_predict_refuses_to_write_over_its_own_input(tmp_path, monkeypatch):
    from conftest import ROOT
    from headbench.commands import predict

    monkeypatch.chdir(ROOT)
    data = tmp_path / "new.csv"
    write(data, "id,excerpt\na,some text\n")
    args = parse(["predict", str(data), "--output", str(data)])
    with pytest.raises(UserError, match="would write over"):
        predict.run(args)
    assert data.read_text() == "id,excerpt\na,some text\n"


def test_ids_that_pandas_reads_as_missing_survive_the_fold_file_and_a_runs_output(tmp_path):
    path = write(tmp_path / "folds.csv", "id,fold\nNA,0\nNone,1\n")
    assert read_folds(path, 5)["id"].tolist() == ["NA", "None"]
    oof, _, _ = read_run(run_dir(tmp_path, "id,split,fold,seed,target,prediction\nNA,7,1,42,0.5,0.4\n"), 7, 1, 42)
    assert oof["id"].tolist() == ["NA"]
