"""RMSE per fold and per seed, paired bootstrap confidence intervals, verdicts."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import bootstrap

BETTER, WORSE, NOISE = "better", "worse", "within noise"


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


def prediction_matrix(oof: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """[n_seeds, n_rows] predictions aligned to ``ids``."""
    wide = oof.pivot(index="id", columns="seed", values="prediction")
    missing = set(ids) - set(wide.index)
    if missing:
        raise ValueError(f"predictions are missing for {len(missing)} rows, e.g. {sorted(missing)[:3]}")
    return wide.loc[ids].to_numpy().T


def paired_delta(pred_v: np.ndarray, pred_b: np.ndarray, target: np.ndarray, n_resamples: int, confidence: float, seed: int) -> dict:
    """RMSE(variant) - RMSE(baseline) on the same rows, with a percentile bootstrap CI.

    ``pred_*`` are [n_seeds, n_rows]; each side's RMSE is averaged over its seeds. Rows are resampled
    and the same resample is used for both variants, so the interval reflects only row noise that the
    two do not share.
    """
    pred_v, pred_b = np.atleast_2d(pred_v), np.atleast_2d(pred_b)
    target = np.asarray(target, dtype=np.float64)

    def stat(idx, axis=-1):
        idx = np.asarray(idx, dtype=np.int64)
        rv = np.sqrt(((pred_v[:, idx] - target[idx]) ** 2).mean(-1)).mean(0)
        rb = np.sqrt(((pred_b[:, idx] - target[idx]) ** 2).mean(-1)).mean(0)
        return rv - rb

    res = bootstrap((np.arange(len(target)),), stat, n_resamples=n_resamples, confidence_level=confidence,
                    method="percentile", vectorized=True, rng=np.random.default_rng(seed), batch=200)
    return {"delta": float(stat(np.arange(len(target)))), "ci_low": float(res.confidence_interval.low),
            "ci_high": float(res.confidence_interval.high)}


def verdict(ci_low: float, ci_high: float) -> str:
    """Lower RMSE is better: the whole interval below zero is a real gain, above zero a real loss."""
    if ci_high < 0:
        return BETTER
    if ci_low > 0:
        return WORSE
    return NOISE
