import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from headbench.calibration import RHO, judge as verdicts, simulate_run_rmse
from headbench.stats import (BETTER, NOISE, TOO_FEW, WORSE, adjust, compare_to_baseline, corrected_t, fold_table,
                             paired_runs, rmse, run_rmse, verdict)

# --- Calibration: simulated studies with realistic fine-tuning noise (headbench.calibration) -----------------

def test_simulated_noise_is_realistic():
    r = simulate_run_rmse(np.random.default_rng(0), 200, 5, 3, 2)
    by_fold = r[:, 0].reshape(200, 5, 3)
    assert 0.015 < by_fold.std(axis=2, ddof=1).mean() < 0.025     # on one fold, the seed moves run RMSE by ~0.02
    assert 0.55 < r.mean() < 0.62


@pytest.mark.parametrize("folds, seeds", [(5, 3), (3, 1), (1, 3)])
def test_interval_covers_zero_95_percent_of_aa_studies(folds, seeds):
    r = simulate_run_rmse(np.random.default_rng(folds * 10 + seeds), 2000, folds, seeds, 2)
    res, v = verdicts(r)
    covered = np.mean([x["ci_low"] <= 0 <= x["ci_high"] for x in res])
    assert 0.93 <= covered <= 0.97, covered
    assert set(v) <= {NOISE, BETTER, WORSE}


def test_the_simulation_has_teeth():
    """The same A/A studies judged as if runs were independent (plain t) or as row noise alone are miscalibrated."""
    r = simulate_run_rmse(np.random.default_rng(1), 1000, 5, 3, 2)
    d = r[:, 1] - r[:, 0]
    plain = np.abs(d.mean(1)) / (d.std(1, ddof=1) / np.sqrt(d.shape[1])) < sps.t.ppf(0.975, d.shape[1] - 1)
    assert plain.mean() < 0.85
    corrected = np.mean([verdict(x["delta"], x["p_value"], 0.05) == NOISE for x in verdicts(r)[0]])
    assert corrected > plain.mean() + 0.1


def test_a_real_gain_of_005_is_called_better_at_5_folds_3_seeds():
    r = simulate_run_rmse(np.random.default_rng(2), 1000, 5, 3, 2, gains=[0.0, 0.05])
    _, v = verdicts(r)
    assert np.mean(v == BETTER) >= 0.80
    assert np.mean(v == WORSE) == 0


def test_one_run_or_two_is_not_enough():
    for folds, seeds in [(1, 1), (2, 1), (1, 2)]:
        r = simulate_run_rmse(np.random.default_rng(3), 5, folds, seeds, 2, gains=[0.0, 0.2])  # even a huge gain
        _, v = verdicts(r)
        assert set(v) == {TOO_FEW}


def test_holm_keeps_family_wise_false_better_at_5_percent_with_10_aa_variants():
    r = simulate_run_rmse(np.random.default_rng(4), 1000, 5, 3, 11)
    raw = np.array([[corrected_t(s[m] - s[0], RHO, 0.95)["p_value"] for m in range(1, 11)] for s in r])
    deltas = np.array([[(s[m] - s[0]).mean() for m in range(1, 11)] for s in r])
    holm = np.array([adjust(p, "holm") for p in raw])
    false_better = lambda p: np.mean(((p < 0.05) & (deltas < 0)).any(axis=1))
    assert false_better(holm) <= 0.05
    assert false_better(raw) > 0.10  # without the adjustment a false "better" somewhere is likely
    bh = np.array([adjust(p, "fdr_bh") for p in raw])
    assert false_better(bh) <= 0.05  # all nulls true: the false discovery rate is the family-wise rate


# --- Exact behaviour on small hand-made inputs ---------------------------------------------------------------------

def test_corrected_t_matches_the_formula():
    d = np.array([-0.01, -0.02, 0.005, -0.015])
    t = corrected_t(d, 0.2, 0.95)
    se = np.sqrt(d.var(ddof=1) * (1 / 4 + 0.25))
    assert t["se"] == pytest.approx(se) and t["delta"] == pytest.approx(d.mean())
    assert t["ci_high"] - t["delta"] == pytest.approx(sps.t.ppf(0.975, 3) * se)
    assert t["p_value"] == pytest.approx(2 * sps.t.sf(abs(d.mean()) / se, 3))
    assert t["mde"] == pytest.approx((sps.t.ppf(0.975, 3) + sps.t.ppf(0.8, 3)) * se)
    assert corrected_t(d, 0.0, 0.95)["se"] == pytest.approx(d.std(ddof=1) / 2)  # rho 0: the plain t-test


def test_adjust_agrees_with_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 11):
        p = rng.uniform(0, 0.2, n)
        for method in ("holm", "fdr_bh"):
            np.testing.assert_allclose(adjust(p, method), multipletests(p, method=method)[1])


def test_adjust_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, np.nan]
    np.testing.assert_allclose(adjust(p, "holm"), [0.03, 0.06, 0.06, np.nan])
    np.testing.assert_allclose(adjust(p, "fdr_bh"), [0.03, 0.04, 0.04, np.nan])
    np.testing.assert_allclose(adjust(p, "none"), p)


@pytest.mark.parametrize("delta, p, expected", [(-0.02, 0.01, BETTER), (0.02, 0.01, WORSE), (-0.02, 0.2, NOISE),
                                                (0.02, 0.05, NOISE), (-0.5, np.nan, TOO_FEW)])
def test_verdict(delta, p, expected):
    assert verdict(delta, p, 0.05) == expected


def oof_frame(pred_by_run: dict, target: dict) -> pd.DataFrame:
    """OOF rows from {(fold, seed): predictions}; target[fold] holds that fold's targets."""
    rows = []
    for (fold, seed), pred in pred_by_run.items():
        for i, (p, y) in enumerate(zip(pred, target[fold])):
            rows.append({"id": f"f{fold}r{i}", "fold": fold, "seed": seed, "target": y, "prediction": p})
    return pd.DataFrame(rows)


def test_runs_pair_by_fold_and_seed_and_every_seed_counts():
    target = {0: [0.0, 0.0], 1: [1.0, 1.0]}
    base = oof_frame({(0, 1): [1, 1], (1, 1): [2, 2], (0, 2): [2, 2], (1, 2): [3, 3]}, target)   # RMSE 1, 1, 2, 2
    var = oof_frame({(0, 1): [0, 0], (1, 1): [1.5, 1.5], (0, 2): [1, 1], (1, 2): [2, 2]}, target)  # 0, .5, 1, 1
    pr = paired_runs(run_rmse(var), run_rmse(base)).set_index(["fold", "seed"])
    assert pr.loc[(0, 1), "delta"] == pytest.approx(-1) and pr.loc[(1, 1), "delta"] == pytest.approx(-0.5)
    assert pr.loc[(0, 2), "delta"] == pytest.approx(-1) and pr.loc[(1, 2), "delta"] == pytest.approx(-1)
    table, runs = compare_to_baseline({"baseline": base, "v": var}, "baseline", rho=0.5, confidence=0.95, multiplicity="holm")
    row = table.set_index("variant").loc["v"]
    assert row["delta"] == pytest.approx(-0.875) and row["runs"] == 4  # taking one seed only would give -0.75
    assert len(runs) == 4
    # seed 2 alone: two runs -> no verdict, whatever the difference
    table2, _ = compare_to_baseline({"baseline": base[base.seed == 2], "v": var[var.seed == 2]}, "baseline", 0.5, 0.95, "holm")
    assert table2.iloc[0]["verdict"] == TOO_FEW


def test_fold_table_reports_per_fold_and_per_seed():
    oof = pd.DataFrame({"id": list("abcdabcd"), "fold": [0, 0, 1, 1] * 2, "seed": [1] * 4 + [2] * 4,
                        "target": [0.0] * 8, "prediction": [1, 1, 2, 2, 1, 1, 0, 0]})
    t = fold_table(oof)
    assert t["oof_rmse_per_seed"] == {"1": pytest.approx(np.sqrt(2.5)), "2": pytest.approx(np.sqrt(0.5))}
    assert t["fold_rmse"] == {"0": 1.0, "1": 1.0}
    assert t["oof_rmse"] == pytest.approx((np.sqrt(2.5) + np.sqrt(0.5)) / 2) and t["seeds"] == 2 and t["rows"] == 4
    assert rmse([1, 2], [1, 0]) == pytest.approx(np.sqrt(2))
