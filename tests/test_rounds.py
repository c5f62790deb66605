import shutil

import pandas as pd
import pytest

from conftest import ROOT
from headbench.config import load_params
from headbench.errors import StudyError
from headbench.study.rounds import add_round, next_round, open_variants


def test_a_round_is_written_into_study_more_and_nothing_else_changes(tmp_path):
    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    before = path.read_text().splitlines()
    assert next_round(load_params(path)) == (1, 43)
    assert add_round(path, ["aa", "mean"]) == 43
    p = load_params(path)
    assert p.study.more == (("baseline", 43), ("aa", 43), ("mean", 43))
    assert p.splits_of("mean") == [42, 43] and p.splits_of("max") == [42]
    assert add_round(path, ["mean"]) == 44
    p = load_params(path)
    assert p.splits_of("mean") == [42, 43, 44] and p.splits_of("aa") == [42, 43] and next_round(p) == (3, None)
    after = path.read_text().splitlines()
    assert [line for line in after if line not in before] == [
        "  more:                    # written by the study driver: the runs of rounds 2.., {variant: NAME, split: N}",
        "    - {variant: baseline, split: 43}", "    - {variant: aa, split: 43}", "    - {variant: mean, split: 43}",
        "    - {variant: baseline, split: 44}", "    - {variant: mean, split: 44}"]
    assert add_round(path, ["mean"]) is None  # the budget is spent


def test_an_unknown_variant_in_a_round_is_refused_and_the_file_is_kept(tmp_path):
    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    before = path.read_text()
    with pytest.raises(Exception, match="study.more"):
        add_round(path, ["nope"])
    assert path.read_text() == before


def test_open_variants_read_the_aggregate_detail(tmp_path):
    pd.DataFrame({"variant": ["a", "b", "c"], "status": ["open", "stopped", "open"]}).to_csv(tmp_path / "d.csv", index=False)
    assert open_variants(tmp_path / "d.csv") == ["a", "c"]
    pd.DataFrame({"variant": ["a"]}).to_csv(tmp_path / "old.csv", index=False)
    with pytest.raises(StudyError, match="old.csv"):
        open_variants(tmp_path / "old.csv")
