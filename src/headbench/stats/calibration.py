"""Simulated studies to check the sequential verdicts (tests/test_calibration.py, scripts/results/calibration.py).

The noise model is not the one the intervals are built from. Every model m (m = 0 is the baseline) has, on
fold f with seed s, a run RMSE of  effect_m + sigma_m * (sqrt(share) * a_mf + sqrt(1 - share) * e_mfs):

- a_mf, the fold-level part (the model's effect varying with the training set), correlated across folds with
  ``rho`` as Nadeau & Bengio model the overlap of K-fold training sets;
- e_mfs, seed noise with heavy tails (Student t, 5 df, scaled to unit variance);
- sigma_m drawn per model from a log-normal fitted to the committed real run-level study (``fit_noise``), so
  variants differ in noise as real ones do;
- the paired difference of a variant is its run minus the baseline's run on the same fold and seed, so every
  variant of a study shares the baseline's noise.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import special

from headbench.stats.sequential import CODE, Plan, run

# The committed run-level CommonLit study (docs/results/runlevel/plots/paired_runs.csv): each variant's mean
# paired difference, and the log-normal its per-run SD of differences is drawn from. tests/test_calibration.py
# re-derives both from that file.
RUNLEVEL_EFFECTS = {"baseline_aa": 0.0013, "lstm": 0.0071, "mean": -0.0043, "attention": 0.0059, "llrd": 0.0030,
                    "concat4": 0.0051, "mean_max": 0.0246, "reinit1": 0.0194, "weighted_layers": 0.0087, "max": 0.0263,
                    "conv1d": 0.0324}
NOISE_LOG_MEAN, NOISE_LOG_SD = -5.06, 0.5   # log of a variant's per-run SD of paired differences (fit_noise; spread floored, see there)
TAIL_DF = 5


def fit_noise(paired: pd.DataFrame) -> tuple[float, float]:
    """Log-normal of the per-variant SD of paired differences, corrected for the sampling noise of each SD
    (a 3-run SD is chi-distributed with 2 df: its log is biased and spread by digamma / trigamma terms).

    On the committed study the spread comes out 0: three runs a variant cannot tell the variants' noise levels
    apart. The simulations use a spread of 0.5 instead (noise levels within a factor e of each other for 95% of
    variants, as the 5-run A/A SD of 0.012 against conv1d's 3-run 0.005 suggests), because one shared value
    would flatter the moderated variance, which pools across variants."""
    rows = []
    for _, g in paired.groupby("variant"):
        df = len(g) - 1
        s2 = g["delta"].var(ddof=1)
        rows.append((np.log(s2) - special.digamma(df / 2) + np.log(df / 2), special.polygamma(1, df / 2)))
    e, noise = np.array(rows).T
    log_var_sd = np.sqrt(max(e.var(ddof=1) - noise.mean(), 0.0))
    return float(e.mean() / 2), float(log_var_sd / 2)


def simulate(rng, n: int, effects, folds: int = 5, seeds: int = 3, share: float = 0.5, rho: float = 0.2,
             sd=None) -> np.ndarray:
    """Paired differences [n, variants, folds, seeds] of ``len(effects)`` variants against a shared baseline.
    ``sd``: each variant's per-run SD of paired differences (fixed), or None to draw every model's from the fit."""
    effects = np.asarray(effects, dtype=np.float64)
    models = len(effects) + 1
    if sd is None:
        sigma = np.exp(rng.normal(NOISE_LOG_MEAN, NOISE_LOG_SD, (n, models))) / np.sqrt(2)
    else:
        sd = np.broadcast_to(np.asarray(sd, dtype=np.float64), effects.shape)
        sigma = np.concatenate([np.full((n, 1), np.median(sd) / np.sqrt(2)),
                                np.sqrt(np.maximum(sd ** 2 - np.median(sd) ** 2 / 2, 1e-12))[None].repeat(n, 0)], 1)
    fold = np.sqrt(rho) * rng.normal(size=(n, models, 1)) + np.sqrt(1 - rho) * rng.normal(size=(n, models, folds))
    seed = rng.standard_t(TAIL_DF, (n, models, folds, seeds)) / np.sqrt(TAIL_DF / (TAIL_DF - 2))
    noise = np.sqrt(share) * fold[..., None] + np.sqrt(1 - share) * seed
    r = np.concatenate([[0.0], effects])[None, :, None, None] + sigma[..., None, None] * noise
    return r[:, 1:] - r[:, :1]


def default_plan(m: int = 10, margin: float = 0.02, **kw) -> Plan:
    """The plan of the real study: 5 folds, 1 seed per round up to 3, alpha 0.05 over ``m`` variants."""
    return replace(Plan(alpha=0.05, m=m, seeds_per_look=(1, 2, 3), n_folds=5, rho=0.2, margin=margin), **kw)


def no_spending(plan: Plan) -> Plan:
    """The same looks judged each with the fixed-design threshold: the error a loop without spending makes."""
    class Fixed(Plan):
        def z_bounds(self):
            z = Plan.z_bounds(replace(plan, seeds_per_look=(plan.seeds_per_look[-1],)))[0]
            return (z,) * self.looks
    return Fixed(**{f: getattr(plan, f) for f in plan.__dataclass_fields__})


def rates(plan: Plan, deltas: np.ndarray) -> dict:
    """Per simulated study: any false better/worse, verdict shares per variant, runs used (variants and baseline)."""
    out = run(plan, deltas)
    code = out.final.code
    f, s_max = deltas.shape[-2:]
    runs = f * out.seeds.sum(-1) + f * out.seeds.max(-1)   # the baseline runs as long as any variant does
    fixed = f * s_max * (deltas.shape[-3] + 1)
    return {
        "any_better_or_worse": float(np.mean(((code == CODE["better"]) | (code == CODE["worse"])).any(-1))),
        # a false difference includes one read as "equivalent" because it is negligible: the interval's own error
        "any_excludes_zero": float(np.mean(((out.final.low > 0) | (out.final.high < 0)).any(-1))),
        "any_equivalent": float(np.mean((code == CODE["equivalent"]).any(-1))),
        "better": float(np.mean(code == CODE["better"])),
        "worse": float(np.mean(code == CODE["worse"])),
        "equivalent": float(np.mean(code == CODE["equivalent"])),
        "undecided": float(np.mean(code == CODE["undecided"])),
        "stopped_after_round_1": float(np.mean(out.stop == 0)),
        "runs_over_fixed": float(np.mean(runs) / fixed),
    }
