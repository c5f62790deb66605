"""A study's committed runs (scripts/collect_runs.py: oof.csv without its targets) rejoin their targets from the data
into the very file the train stage wrote, for every task type: restore_runs.py relies on it."""
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from headbench.io import write_csv

sys.path.insert(0, str(ROOT / "scripts"))
from collect_runs import target_names, targets_as_written, with_targets  # noqa: E402


@pytest.mark.parametrize("task, targets", [("regression", ["target"]), ("regression", ["target.V", "target.A"]),
                                           ("classification", ["target"])])
def test_a_committed_run_rejoins_its_targets_byte_for_byte(tmp_path, task, targets):
    rng = np.random.default_rng(0)
    ids = [f"r{i}" for i in range(6)]
    if task == "classification":
        data = pd.DataFrame({"id": ids, "target": ["None", "1", "b", "None", "b", "1"]})
        values = {"target": data["target"]}
        preds = {"proba.1": rng.random(6), "proba.None": rng.random(6), "proba.b": rng.random(6), "prediction": "b"}
    else:
        data = pd.DataFrame({"id": ids, **{t: rng.normal(3, 0.3, 6) for t in targets}})
        values = {t: data[t].to_numpy("float32").astype("float64") for t in targets}   # fitted as float32
        preds = {t.replace("target", "prediction"): rng.normal(3, 0.3, 6) for t in targets}
    run = pd.DataFrame({"id": ids, "split": 7, "fold": 1, "seed": 42, **values, **preds}).iloc[[4, 1, 5]]
    write_csv(tmp_path / "run.csv", run)
    written = pd.read_csv(tmp_path / "run.csv", dtype={"id": str}, keep_default_na=False)
    committed = written.drop(columns=target_names(written))
    assert not set(targets) & set(committed.columns)
    write_csv(tmp_path / "restored.csv", with_targets(committed, targets_as_written(data, task)))
    assert (tmp_path / "restored.csv").read_bytes() == (tmp_path / "run.csv").read_bytes()
