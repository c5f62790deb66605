import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from headbench.stats import (BETTER, NOISE, TOO_FEW, WORSE, adjust, compare_to_baseline, corrected_t, fold_table,
                             paired_runs, rmse, verdict)

# --- Calibration: simulated studies with realistic fine-tuning noise -------------------------------------------
# Per study: rows of each fold share a difficulty u (so the two models' per-row errors correlate ~0.9); every
# run scales it by its own factor (run RMSE moves by ~0.02 between seeds, as the real baseline does) and adds
# per-row noise of its own. Runs of one study are correlated with rho = 1/K through a study-level component,
# as Nadeau & Bengio model the overlap of K-fold training sets. A verdict that ignores that overlap, or counts
# only the test rows, is far too narrow here; see test_the_simulation_has_teeth.
K, ROWS, U_SD, W_SD, RUN_SD = 5, 567, 0.55, 0.2, 0.02
RMSE0 = float(np.hypot(U_SD, W_SD))
RHO = 1 / K


def simulate_run_rmse(rng, n_studies, folds, seeds, n_models, gains=None):
    """[n_studies, n_models, folds * seeds] run RMSEs; model m's errors shrink so its RMSE is lower by gains[m]."""
    gains = np.zeros(n_models) if gains is None else np.asarray(gains, dtype=np.float64)
    j = folds * seeds
    u = rng.normal(0, U_SD, (n_studies, 1, folds, 1, ROWS))                    # shared by models and seeds
    shared = rng.normal(size=(n_studies, n_models, 1))                         # overlap of training sets
    own = rng.normal(size=(n_studies, n_models, j))
    scale = 1 + RUN_SD / RMSE0 * (np.sqrt(RHO) * shared + np.sqrt(1 - RHO) * own)
    scale = scale.reshape(n_studies, n_models, folds, seeds, 1) * ((RMSE0 - gains) / RMSE0)[None, :, None, None, None]
    out = np.empty((n_studies, n_models, j))
    for m in range(n_models):  # one model at a time keeps memory small
        w = rng.normal(0, W_SD, (n_studies, folds, seeds, ROWS)) * ((RMSE0 - gains[m]) / RMSE0)
        e = scale[:, m] * u[:, 0] + w
        out[:, m] = np.sqrt((e ** 2).mean(-1)).reshape(n_studies, j)
    return out


def verdicts(run_rmse, variant=1, confidence=0.95):
    res = [corrected_t(r[variant] - r[0], RHO, confidence) for r in run_rmse]
    return res, np.array([verdict(r["delta"], r["p_value"], 1 - confidence) for r in res])


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
    pr = paired_runs(var, base).set_index(["fold", "seed"])
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
