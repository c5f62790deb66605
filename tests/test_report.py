import pandas as pd

from conftest import ROOT
from headbench.config import load_params, parse, read_yaml
from headbench.report import aa_controls, aa_warnings, markdown


def test_the_default_study_has_an_aa_control():
    assert aa_controls(load_params(ROOT / "params.yaml")) == ["baseline_aa"]


def test_only_the_baselines_recipe_with_other_seeds_is_an_aa_control():
    raw = read_yaml(ROOT / "params.yaml")
    raw["variants"] = {"baseline": {"head": "cls"}, "aa": {"head": "cls", "seed_offset": 7},
                       "mean_other_seed": {"head": "mean", "seed_offset": 7}, "same_seed": {"head": "cls"}}
    assert aa_controls(parse(raw)) == ["aa"]


def table(aa_verdict):
    row = dict(head="cls", options="-", oof_rmse=0.6, oof_rmse_std_seeds=0.01, seeds=1, fold_rmse={"0": 0.6, "1": 0.6, "2": 0.6},
               train_seconds=60.0, runs=3, se=0.01, p_value=0.01, p_adjusted=0.02, mde=0.03, verdict_raw=aa_verdict)
    return pd.DataFrame([
        {**row, "variant": "baseline", "aa_control": False, "delta": 0.0, "ci_low": 0.0, "ci_high": 0.0, "verdict": "baseline"},
        {**row, "variant": "baseline_aa", "aa_control": True, "delta": -0.03, "ci_low": -0.05, "ci_high": -0.01, "verdict": aa_verdict},
        {**row, "variant": "one_run", "aa_control": False, "delta": -0.2, "runs": 1, "ci_low": None, "ci_high": None,
         "p_value": None, "p_adjusted": None, "mde": None, "verdict": "not enough runs"},
    ])


def test_an_aa_control_called_better_warns_loudly_and_one_within_noise_does_not():
    params = load_params(ROOT / "params.yaml")
    loud = table("better")
    assert len(aa_warnings(loud)) == 1 and "WARNING" in markdown(loud, params)
    quiet = table("within noise")
    assert aa_warnings(quiet) == [] and "WARNING" not in markdown(quiet, params)
    md = markdown(quiet, params)
    assert "| baseline_aa (A/A) |" in md and "Holm" in md
    assert "needs ≥ 3 paired runs" in md.split("| one_run |")[1].split("\n")[0]


def test_best_on_valid_labels_the_figures_optimistic():
    raw = read_yaml(ROOT / "params.yaml")
    raw["train"]["checkpoint"] = "best_on_valid"
    md = markdown(table("within noise"), parse(raw))
    assert "OOF RMSE (optimistic)" in md and "Optimistic figures" in md
    assert "optimistic" not in markdown(table("within noise"), load_params(ROOT / "params.yaml")).lower()
