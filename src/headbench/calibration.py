"""Simulated studies with realistic fine-tuning noise, to check that the verdict is calibrated.

Per study: the rows of each fold share a difficulty u (so two models' per-row errors correlate ~0.9); every
run scales it by its own factor (run RMSE moves by ~0.02 between seeds, as the real baseline does) and adds
per-row noise of its own. Runs of one study are correlated with rho = 1/K through a study-level component,
as Nadeau & Bengio model the overlap of K-fold training sets. A verdict that ignores that overlap, or counts
only the test rows, is far too narrow here. Used by tests/test_stats.py and scripts/calibration.py.
"""
from __future__ import annotations

import numpy as np
from scipy import stats as sps

from headbench.stats import BETTER, adjust, corrected_t, verdict

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


def judge(run_rmse, variant=1, confidence=0.95):
    """The corrected t-test of model ``variant`` against model 0 in every simulated study, and its verdicts."""
    res = [corrected_t(r[variant] - r[0], RHO, confidence) for r in run_rmse]
    return res, np.array([verdict(r["delta"], r["p_value"], 1 - confidence) for r in res])


def report(seed: int = 0) -> dict:
    """The calibration figures the README quotes: coverage per design, power, family-wise false "better"."""
    rng = np.random.default_rng(seed)
    out = {"coverage": {}, "settings": {"K": K, "rows_per_fold": ROWS, "run_rmse_sd": RUN_SD, "rho": RHO}}
    for folds, seeds in [(5, 3), (3, 1), (1, 3)]:
        res, _ = judge(simulate_run_rmse(rng, 2000, folds, seeds, 2))
        out["coverage"][f"{folds}x{seeds}"] = float(np.mean([x["ci_low"] <= 0 <= x["ci_high"] for x in res]))
    d = simulate_run_rmse(rng, 2000, 5, 3, 2)
    d = d[:, 1] - d[:, 0]
    plain = np.abs(d.mean(1)) / (d.std(1, ddof=1) / np.sqrt(d.shape[1])) < sps.t.ppf(0.975, d.shape[1] - 1)
    out["coverage"]["5x3 plain t-test"] = float(plain.mean())
    _, v = judge(simulate_run_rmse(rng, 1000, 5, 3, 2, gains=[0.0, 0.05]))
    out["power_gain_0.05_5x3"] = float(np.mean(v == BETTER))
    r = simulate_run_rmse(rng, 1000, 5, 3, 11)
    raw = np.array([[corrected_t(s[m] - s[0], RHO, 0.95)["p_value"] for m in range(1, 11)] for s in r])
    neg = np.array([[(s[m] - s[0]).mean() < 0 for m in range(1, 11)] for s in r])
    for name, method in [("none", "none"), ("holm", "holm"), ("fdr_bh", "fdr_bh")]:
        p = np.array([adjust(q, method) for q in raw])
        out[f"false_better_10_aa_{name}"] = float(np.mean(((p < 0.05) & neg).any(axis=1)))
    return out
