import pandas as pd
import pytest

from conftest import ROOT
from headbench.config import load_params, parse, read_yaml
from headbench.report.comparison import aa_controls, detail, needed_short
from headbench.report.markdown import markdown
from headbench.report.summary import aa_warnings, marked_delta, summary_metrics, variant_figures
from headbench.stats.verdict import ROW_TERM_KINDS


def test_the_default_study_has_an_aa_control():
    assert aa_controls(load_params(ROOT / "params.yaml")) == ["aa"]


def test_only_the_baselines_recipe_with_other_seeds_is_an_aa_control():
    raw = read_yaml(ROOT / "params.yaml")
    raw["variants"] = {"baseline": {"head": "cls"}, "aa": {"head": "cls", "seed_offset": 7},
                       "mean_other_seed": {"head": "mean", "seed_offset": 7}, "same_seed": {"head": "cls"}}
    assert aa_controls(parse(raw)) == ["aa"]


def table(aa_verdict):
    row = dict(head="cls", options="-", oof_rmse=0.6, oof_rmse_std_run_sets=0.01, run_sets=1, fold_rmse={"0": 0.6, "1": 0.6, "2": 0.6},
               train_seconds=60.0, eval_seconds=6.0, wall_seconds=100.0, runs=3, runs_used=3, round=1, status="stopped", se=0.01,
               persistent_se=0.002, df=8.0, negligible=False, floor=0.006, row_term="across partitions", runs_needed=0)
    return pd.DataFrame([
        {**row, "variant": "baseline", "aa_control": False, "delta": 0.0, "ci_low": 0.0, "ci_high": 0.0, "verdict": "baseline"},
        {**row, "variant": "baseline_aa", "aa_control": True, "delta": -0.03, "ci_low": -0.05, "ci_high": -0.01, "verdict": aa_verdict},
        {**row, "variant": "one_run", "aa_control": False, "delta": -0.2, "runs": 1, "runs_used": 1, "ci_low": None,
         "ci_high": None, "se": None, "df": None, "status": "open", "verdict": "not enough runs"},
        {**row, "variant": "open_one", "aa_control": False, "delta": 0.01, "ci_low": -0.04, "ci_high": 0.06, "status": "open",
         "verdict": "undecided", "runs_needed": 9},
        {**row, "variant": "round_one", "aa_control": False, "delta": 0.01, "ci_low": -0.04, "ci_high": 0.06, "status": "open",
         "verdict": "undecided", "runs_needed": 6, "row_term": "one run (an upper bound)"},
        {**row, "variant": "floored", "aa_control": False, "delta": 0.002, "ci_low": -0.012, "ci_high": 0.016,
         "status": "stopped", "verdict": "needs more data", "floor": 0.0123},
    ]).pipe(lambda t: (t.attrs.update(question="new_rows"), t)[1])


def test_an_aa_control_called_better_warns_loudly_and_one_equivalent_does_not():
    raw = read_yaml(ROOT / "params.yaml")
    raw["variants"] = read_yaml(ROOT / "docs/results/study6/params.yaml")["variants"]  # eleven compared variants
    raw["cv"]["folds"] = [0, 1, 2]
    params = parse(raw)
    loud = table("better")
    assert len(aa_warnings(loud)) == 1 and "WARNING" in markdown(loud, params)
    quiet = table("equivalent")
    assert aa_warnings(quiet) == [] and "WARNING" not in markdown(quiet, params)
    md = markdown(quiet, params)
    assert "| baseline_aa (A/A) |" in md and "Bonferroni over 11 variants × 3 round(s)" in md and "margin ±0.01" in md
    assert md.startswith("Question: **new_rows** (new rows: trained on this data")
    assert "| not enough runs |" in md.split("| one_run |")[1].split("\n")[0]
    open_row = md.split("| open_one |")[1].split("\n")[0]
    assert "undecided (open after round 1)" in open_row and "~9 more (3 partitions × 3 folds)" in open_row
    assert "| at least ~6 more (2 partitions × 3 folds) |" in md.split("| round_one |")[1].split("\n")[0]
    assert "their runs needed, projected without it, are a lower bound" in md
    floored = md.split("| floored |")[1].split("\n")[0]
    assert "| needs more data | needs more data: ±0.0123 is the floor" in floored
    assert md.split("\n| baseline |")[1].split("\n")[0].endswith("| 1.7 min (60%, 6%) |")  # wall, training and evaluation shares


def test_best_on_valid_labels_the_figures_optimistic():
    raw = read_yaml(ROOT / "params.yaml")
    raw["train"]["checkpoint"] = "best_on_valid"
    md = markdown(table("equivalent"), parse(raw))
    assert "OOF RMSE (optimistic)" in md and "Optimistic figures" in md
    assert "optimistic" not in markdown(table("equivalent"), load_params(ROOT / "params.yaml")).lower()


def test_the_summary_is_few_flat_columns_with_each_variants_delta_and_verdict():
    t = table("equivalent")
    t.loc[t["variant"] == "baseline_aa", "verdict"] = "better"
    s = summary_metrics(t)
    assert list(s) == ["baseline_aa", "one_run", "open_one", "round_one", "floored", "question", "better", "worse", "equivalent",
                       "aa_verdict", "runs", "metric", "rmse", "delta", "pm"]
    assert s["better"] == "baseline_aa" and s["worse"] == "-" and s["aa_verdict"] == "better" and s["runs"] == 1
    assert s["baseline_aa"] == "-30*" and s["one_run"] == "-200?" and s["open_one"] == "+10"  # * called, ? too few runs
    assert s["floored"] == "+2~" and s["question"] == "new_rows"
    assert s["rmse"] == {"baseline": 0.6, "baseline_aa": 0.6, "one_run": 0.6, "open_one": 0.6, "round_one": 0.6, "floored": 0.6}
    assert s["delta"] == {"baseline_aa": -0.03, "one_run": -0.2, "open_one": 0.01, "round_one": 0.01, "floored": 0.002}
    assert s["pm"] == {"baseline_aa": 0.02, "one_run": None, "open_one": 0.05, "round_one": 0.05, "floored": 0.014}
    columns = sum(len(v) if isinstance(v, dict) else 1 for v in s.values())
    assert columns <= 8 + 5 * 4
    figures = variant_figures(t)
    assert figures["baseline"] == {"rmse": 0.6}
    assert figures["baseline_aa"] == {"rmse": 0.6, "delta": -0.03, "pm": 0.02, "verdict": "better", "runs": 3, "round": 1,
                                      "runs_needed": 0, "floor": 0.006}


@pytest.mark.parametrize(("delta", "verdict", "cell"), [
    (-0.0312, "better", "-31*"), (0.1344, "worse", "+134*"), (0.0041, "undecided", "+4"), (0.0041, "equivalent", "+4="),
    (-0.0004, "undecided", "+0"), (0.02, "not enough runs", "+20?"), (float("nan"), "not enough runs", "?"),
    (0.0021, "needs more data", "+2~"),
])
def test_a_variants_cell_is_its_delta_in_thousandths_marked_by_its_verdict(delta, verdict, cell):
    assert marked_delta(delta, verdict) == cell


def test_the_detail_keeps_the_raw_and_adjusted_figures_and_each_fold():
    d = detail(table("equivalent"))
    assert {"runs_used", "round", "status", "verdict", "negligible", "runs_needed", "ci_low", "ci_high", "fold0_rmse",
            "fold2_rmse", "floor", "persistent_se"} <= set(d)
    assert len(d) == 6


@pytest.mark.parametrize("verdict, runs_needed, row_term, cell", [
    ("needs more data", 0, ROW_TERM_KINDS[0], "floor ±0.0123"),
    ("undecided", 20, ROW_TERM_KINDS[0], "~20 more runs"),
    ("undecided", 10, ROW_TERM_KINDS[-1], "at least ~10 more runs"),  # the row term only bounded: a lower bound
    ("undecided", -5, ROW_TERM_KINDS[0], "more runs unlikely to decide"),
    ("worse", 0, ROW_TERM_KINDS[0], ""),
])
def test_what_an_open_verdict_needs_is_one_short_cell(verdict, runs_needed, row_term, cell):
    row = pd.Series(dict(verdict=verdict, runs_needed=runs_needed, row_term=row_term, floor=0.01234))
    assert needed_short(row) == cell
