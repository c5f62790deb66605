"""RMSE per fold and seed, and the verdict: is a variant better than the baseline beyond run-to-run noise?

The unit of replication is a training run (a fold x seed). A variant's run and the baseline's run on
the same fold and seed are paired; their RMSE difference on that fold's rows is one observation. The
interval is the corrected resampled t-test of Nadeau & Bengio (2003) over those paired differences:
runs of one cross-validation study train on overlapping data (two folds of a K-fold split share
(K-2)/(K-1) of their training rows), so they are correlated with rho ~ n_test / (n_train + n_test)
= 1/K, and the plain t-test's 1/J variance factor becomes 1/J + rho / (1 - rho). Seed-to-seed noise,
the test rows each run is scored on, and that overlap are all in it; a row-only bootstrap, which
headbench used before, counts the test rows only and called a baseline "better" than itself.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

BETTER, WORSE, NOISE, TOO_FEW = "better", "worse", "within noise", "not enough runs"
MIN_RUNS = 3  # below this the run-to-run variance cannot be estimated well enough to call anything
POWER = 0.8   # the minimum detectable effect is the difference found with this probability


def rmse(pred, target) -> float:
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    return float(np.sqrt(np.mean((pred - target) ** 2)))


def fold_table(oof: pd.DataFrame) -> dict:
    """OOF RMSE per seed (over all rows), per-fold RMSE, and their means and spreads."""
    per_seed, per_fold = {}, {}
    for seed, g in oof.groupby("seed"):
        per_seed[int(seed)] = rmse(g["prediction"], g["target"])
        for fold, f in g.groupby("fold"):
            per_fold.setdefault(int(fold), []).append(rmse(f["prediction"], f["target"]))
    fold_means = {f: float(np.mean(v)) for f, v in sorted(per_fold.items())}
    seeds = np.array(list(per_seed.values()))
    return {
        "oof_rmse": float(seeds.mean()),
        "oof_rmse_std_seeds": float(seeds.std(ddof=1)) if len(seeds) > 1 else 0.0,
        "oof_rmse_per_seed": {str(k): v for k, v in per_seed.items()},
        "fold_rmse": {str(k): v for k, v in fold_means.items()},
        "fold_rmse_mean": float(np.mean(list(fold_means.values()))),
        "fold_rmse_std": float(np.std(list(fold_means.values()), ddof=1)) if len(fold_means) > 1 else 0.0,
        "rows": int(oof.groupby("seed").size().iloc[0]),
        "seeds": len(per_seed),
    }


def run_rmse(oof: pd.DataFrame) -> pd.Series:
    """RMSE of every run, indexed by (fold, seed)."""
    sq = (oof["prediction"] - oof["target"]) ** 2
    return np.sqrt(sq.groupby([oof["fold"], oof["seed"]]).mean()).rename("rmse")


def paired_runs(rmse_v: pd.Series, rmse_b: pd.Series) -> pd.DataFrame:
    """One row per (fold, seed) that both sides ran: each side's run RMSE (see run_rmse) and their difference."""
    runs = pd.concat({"variant": rmse_v, "baseline": rmse_b}, axis=1).dropna()
    return runs.assign(delta=runs["variant"] - runs["baseline"]).reset_index()


def corrected_t(deltas, rho: float, confidence: float) -> dict:
    """Nadeau-Bengio corrected resampled t-test of mean(deltas) = 0 for J runs correlated with ``rho``.

    Returns the mean, its standard error, the two-sided interval and p-value (J - 1 degrees of
    freedom), and the minimum detectable effect: the true difference this design would call with
    probability ``POWER`` at this noise.
    """
    from scipy import stats as sps  # imported here: the train stage needs only rmse(), and scipy.stats costs 1.5 s
    d = np.asarray(deltas, dtype=np.float64)
    j = len(d)
    if j < MIN_RUNS:
        return {"delta": float(d.mean()) if j else float("nan"), "runs": j, "se": float("nan"), "ci_low": float("nan"),
                "ci_high": float("nan"), "p_value": float("nan"), "mde": float("nan")}
    se = float(np.sqrt(d.var(ddof=1) * (1.0 / j + rho / (1.0 - rho))))
    dof = j - 1
    crit = sps.t.ppf(0.5 + confidence / 2, dof)
    mean = float(d.mean())
    if se > 0:
        p = float(2 * sps.t.sf(abs(mean) / se, dof))
    else:  # every run gave the same difference: certain if non-zero
        p = 0.0 if mean != 0 else 1.0
    return {"delta": mean, "runs": j, "se": se, "ci_low": mean - crit * se, "ci_high": mean + crit * se, "p_value": p,
            "mde": float((crit + sps.t.ppf(POWER, dof)) * se)}


def verdict(delta: float, p_value: float, alpha: float) -> str:
    """Lower RMSE is better; NaN p (too few runs) is its own answer, never better or worse."""
    if not np.isfinite(p_value):
        return TOO_FEW
    if p_value < alpha:
        return BETTER if delta < 0 else WORSE
    return NOISE


def adjust(p_values, method: str) -> np.ndarray:
    """Multiplicity-adjusted p-values over one study's variants (Holm: family-wise error; fdr_bh:
    Benjamini-Hochberg false discovery rate; none). NaN (too few runs) stays NaN and is not counted."""
    from scipy import stats as sps  # see corrected_t
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = {"none": lambda q: q, "holm": _holm, "fdr_bh": sps.false_discovery_control}[method](p[ok])
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (statsmodels' multipletests gives the same, ~2000x slower,
    which matters in the calibration tests' thousands of simulated studies)."""
    order = np.argsort(p)
    stepped = np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p))))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out


def compare_to_baseline(oofs: dict[str, pd.DataFrame], baseline: str, rho: float, confidence: float,
                        multiplicity: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every variant's out-of-fold predictions against ``baseline``'s (see compare_runs)."""
    return compare_runs({name: run_rmse(oof) for name, oof in oofs.items()}, baseline, rho, confidence, multiplicity)


def compare_runs(rmses: dict[str, pd.Series], baseline: str, rho: float, confidence: float,
                 multiplicity: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every variant against ``baseline`` from run RMSEs indexed by (fold, seed): a table (one row a variant)
    and the paired runs behind it."""
    alpha = 1 - confidence
    rows, runs = [], []
    for name, rmse_v in rmses.items():
        if name == baseline:
            continue
        pr = paired_runs(rmse_v, rmses[baseline])
        runs.append(pr.assign(variant=name))
        t = corrected_t(pr["delta"], rho, confidence)
        rows.append({"variant": name, **t, "verdict_raw": verdict(t["delta"], t["p_value"], alpha)})
    table = pd.DataFrame(rows, columns=["variant", "delta", "runs", "se", "ci_low", "ci_high", "p_value", "mde", "verdict_raw"])
    table["p_adjusted"] = adjust(table["p_value"], multiplicity)
    table["verdict"] = [verdict(d, p, alpha) for d, p in zip(table["delta"], table["p_adjusted"])]
    return table, (pd.concat(runs, ignore_index=True) if runs else pd.DataFrame())
