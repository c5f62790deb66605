import pandas as pd
import pytest

from conftest import ROOT
from headbench.config import load_params, parse, read_yaml
from headbench.report import aa_controls, aa_warnings, detail, marked_delta, markdown, summary_metrics, variant_figures


def test_the_default_study_has_an_aa_control():
    assert aa_controls(load_params(ROOT / "params.yaml")) == ["aa"]


def test_only_the_baselines_recipe_with_other_seeds_is_an_aa_control():
    raw = read_yaml(ROOT / "params.yaml")
    raw["variants"] = {"baseline": {"head": "cls"}, "aa": {"head": "cls", "seed_offset": 7},
                       "mean_other_seed": {"head": "mean", "seed_offset": 7}, "same_seed": {"head": "cls"}}
    assert aa_controls(parse(raw)) == ["aa"]


def table(aa_verdict):
    row = dict(head="cls", options="-", oof_rmse=0.6, oof_rmse_std_seeds=0.01, seeds=1, fold_rmse={"0": 0.6, "1": 0.6, "2": 0.6},
               train_seconds=60.0, eval_seconds=6.0, wall_seconds=100.0, runs=3, se=0.01, p_value=0.01, p_adjusted=0.02, mde=0.03, verdict_raw=aa_verdict)
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
    assert md.split("\n| baseline |")[1].split("\n")[0].endswith("| 1.7 min (60%, 6%) |")  # wall, training and evaluation shares


def test_best_on_valid_labels_the_figures_optimistic():
    raw = read_yaml(ROOT / "params.yaml")
    raw["train"]["checkpoint"] = "best_on_valid"
    md = markdown(table("within noise"), parse(raw))
    assert "OOF RMSE (optimistic)" in md and "Optimistic figures" in md
    assert "optimistic" not in markdown(table("within noise"), load_params(ROOT / "params.yaml")).lower()


def test_the_summary_is_few_flat_columns_with_each_variants_delta_and_verdict():
    t = table("within noise")
    t.loc[t["variant"] == "baseline_aa", "verdict"] = "better"
    s = summary_metrics(t)
    assert list(s) == ["baseline_aa", "one_run", "better", "worse", "aa_verdict", "runs", "rmse", "delta", "pm"]
    assert s["better"] == "baseline_aa" and s["worse"] == "-" and s["aa_verdict"] == "better" and s["runs"] == 1
    assert s["baseline_aa"] == "-30*" and s["one_run"] == "-200?"  # Δ in thousandths; * called, ? too few runs
    assert s["rmse"] == {"baseline": 0.6, "baseline_aa": 0.6, "one_run": 0.6}
    assert s["delta"] == {"baseline_aa": -0.03, "one_run": -0.2} and s["pm"] == {"baseline_aa": 0.02, "one_run": None}
    columns = sum(len(v) if isinstance(v, dict) else 1 for v in s.values())
    assert columns <= 5 + 4 * 3
    figures = variant_figures(t)
    assert figures["baseline"] == {"rmse": 0.6}
    assert figures["baseline_aa"] == {"rmse": 0.6, "delta": -0.03, "pm": 0.02, "verdict": "better"}


@pytest.mark.parametrize(("delta", "verdict", "cell"), [
    (-0.0312, "better", "-31*"), (0.1344, "worse", "+134*"), (0.0041, "within noise", "+4"),
    (-0.0004, "within noise", "+0"), (0.02, "not enough runs", "+20?"), (float("nan"), "not enough runs", "?"),
])
def test_a_variants_cell_is_its_delta_in_thousandths_marked_by_its_verdict(delta, verdict, cell):
    assert marked_delta(delta, verdict) == cell


def test_the_detail_keeps_the_raw_and_adjusted_figures_and_each_fold():
    d = detail(table("within noise"))
    assert {"p_value", "p_adjusted", "verdict_raw", "verdict", "mde", "ci_low", "ci_high", "fold0_rmse", "fold2_rmse"} <= set(d)
    assert len(d) == 3
