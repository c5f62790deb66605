"""RMSE per fold and seed, and every variant's verdict against the baseline.

The unit of replication is a training run (a fold x seed). A variant's run and the baseline's run on the same
fold and seed are paired; their RMSE difference on that fold's rows is one observation. The study's paired
differences, arranged by fold and by seed in round order, go to headbench.stats.sequential, which replays the
adaptive design's looks and reads each verdict from one repeated confidence interval.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from headbench.stats.scoring import rmse
from headbench.stats.sequential import (BETTER, EQUIVALENT, MIN_FOLDS, TOO_FEW, UNDECIDED, VERDICTS, WORSE, Plan, run,
                                  runs_needed)

__all__ = ["BETTER", "WORSE", "EQUIVALENT", "UNDECIDED", "TOO_FEW", "MIN_FOLDS", "compare_runs", "fold_table",
           "paired_runs", "run_rmse", "study_plan"]




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



def study_plan(params) -> Plan:
    """The design params.yaml freezes: one look per round, Bonferroni over the compared variants."""
    st = params.stats
    return Plan(alpha=1 - st.confidence, m=max(len(params.variants) - 1, 1),
                seeds_per_look=tuple(len(params.seeds) + r for r in range(len(params.study.round_seeds) + 1)),
                n_folds=len(params.cv.folds), rho=1 / params.cv.n_folds, margin=st.margin, fold_share=st.fold_share,
                spending=st.spending, variance=st.variance, multiplicity=st.multiplicity, futility=st.futility)


def compare_runs(rmses: dict[str, pd.Series], baseline: str, plan: Plan, seed_order: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every variant against ``baseline`` from run RMSEs indexed by (fold, seed): a table (one row a variant) and
    the paired runs behind it. ``seed_order``: the study's seeds, round 1's first; ``plan.seeds_per_look`` says
    how many of them each look uses."""
    names = [n for n in rmses if n != baseline]
    folds = sorted({int(f) for f, _ in rmses[baseline].index})
    runs, cube = [], np.full((len(names), max(len(folds), 1), len(seed_order)), np.nan)
    for i, name in enumerate(names):
        pr = paired_runs(rmses[name], rmses[baseline])
        runs.append(pr.assign(variant=name))
        for r in pr.itertuples():
            if int(r.fold) in folds and int(r.seed) in seed_order:
                cube[i, folds.index(int(r.fold)), seed_order.index(int(r.seed))] = r.delta
    out = run(plan, cube)  # a variant without the runs of its next look stays open there
    need = runs_needed(plan, out)
    f = out.final
    looks_seen = np.array([_looks_with_runs(plan, cube[i]) for i in range(len(names))], dtype=int)
    rows = []
    for i, name in enumerate(names):
        code = int(f.code[i])
        stopped = int(out.stop[i])
        verdict = VERDICTS[code]
        status = ("stopped early: futile" if out.futile[i] else "stopped") if stopped >= 0 else \
                 ("open" if looks_seen[i] < plan.looks else "stopped")
        rows.append({"variant": name, "delta": _f(f.delta[i]), "runs": int(np.isfinite(cube[i]).sum()),
                     "runs_used": int(out.seeds[i]) * len(folds), "round": (stopped if stopped >= 0 else looks_seen[i] - 1) + 1,
                     "status": status, "se": _f(f.se[i]), "df": _f(f.df[i]), "ci_low": _f(f.low[i]),
                     "ci_high": _f(f.high[i]), "verdict": verdict,
                     "negligible": bool(verdict == EQUIVALENT and (f.low[i] > 0 or f.high[i] < 0)),
                     "runs_needed": int(need[i]) if verdict == UNDECIDED else 0})
    table = pd.DataFrame(rows, columns=["variant", "delta", "runs", "runs_used", "round", "status", "se", "df", "ci_low",
                                        "ci_high", "verdict", "negligible", "runs_needed"])
    return table, (pd.concat(runs, ignore_index=True) if runs else pd.DataFrame())


def _looks_with_runs(plan: Plan, deltas: np.ndarray) -> int:
    """How many of the plan's looks this variant has every run for."""
    return sum(1 for s in plan.seeds_per_look if s <= deltas.shape[-1] and np.isfinite(deltas[:, :s]).all())


def _f(x) -> float:
    return float(x) if np.isfinite(x) else float("nan")
