"""From out-of-fold predictions to every variant's verdict against the baseline.

A run is one (split, fold, seed). A variant's run and the baseline's run on the same unit (split, fold) and seed
share their run seed; their RMSE difference on the fold's rows is one paired run, and a unit's paired difference
is the mean over its seeds. The row influences of each run set (split, seed) give the row term. Both go to
headbench.stats.verdict, which replays the adaptive rounds and reads each verdict.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from headbench.stats.scoring import oof_score, row_losses, side_figures
from headbench.stats.verdict import (BETTER, EQUIVALENT, MIN_UNITS, NEEDS_DATA, ROW_TERM_KINDS, TOO_FEW, UNDECIDED, VERDICTS,
                                     WORSE, Design, influence, mcrmse_influence, mean_loss_influence, replay, row_covariance)

__all__ = ["BETTER", "WORSE", "EQUIVALENT", "UNDECIDED", "NEEDS_DATA", "TOO_FEW", "MIN_UNITS", "compare_oof", "fold_table",
           "paired_runs", "run_rmse", "study_design"]

RUN = ["split", "fold", "seed"]


def fold_table(oof: pd.DataFrame) -> dict:
    """OOF RMSE (the primary metric) per run set (a split and seed, over the rows it scored), per-fold RMSE, and their
    means and spreads; with several targets or classes, ``side``: the side figures (scoring.side_figures), their mean
    over run sets."""
    per_set, per_fold, side = {}, {}, []
    for (split, seed), g in oof.groupby(["split", "seed"]):
        per_set[f"{int(split)}-{int(seed)}"] = oof_score(g)
        side.append(side_figures(g))
        for fold, f in g.groupby("fold"):
            per_fold.setdefault(int(fold), []).append(oof_score(f))
    fold_means = {f: float(np.mean(v)) for f, v in sorted(per_fold.items())}
    sets = np.array(list(per_set.values()))
    out = {
        "oof_rmse": float(sets.mean()),
        "oof_rmse_std_run_sets": float(sets.std(ddof=1)) if len(sets) > 1 else 0.0,
        "oof_rmse_per_run_set": per_set,
        "fold_rmse": {str(k): v for k, v in fold_means.items()},
        "fold_rmse_mean": float(np.mean(list(fold_means.values()))),
        "fold_rmse_std": float(np.std(list(fold_means.values()), ddof=1)) if len(fold_means) > 1 else 0.0,
        "rows": int(oof.groupby(["split", "seed"]).size().iloc[0]),
        "run_sets": len(per_set),
    }
    if side[0]:
        out["side"] = {k: float(np.mean([s[k] for s in side])) for k in side[0]}
    return out


def run_rmse(oof: pd.DataFrame) -> pd.Series:
    """The primary metric (RMSE for one target, MCRMSE, log-loss) of every run, indexed by (split, fold, seed). The
    means are pandas' group means, as every committed study computed them (numpy's sums differ in the last bits)."""
    losses, keys = row_losses(oof), [oof[c] for c in RUN]
    if losses.ndim == 1:
        return pd.Series(losses, index=oof.index).groupby(keys).mean().rename("rmse")
    per_target = [np.sqrt(pd.Series(t, index=oof.index).groupby(keys).mean()) for t in losses]
    return (sum(per_target) / len(per_target)).rename("rmse")


def paired_influence(oof_v: pd.DataFrame, oof_b: pd.DataFrame) -> np.ndarray:
    """Per row (the two frames' rows in the same order), the paired influence on the primary metric's difference:
    RMSE, MCRMSE (each target weighed by its own RMSE) or the mean log-loss (the row's loss difference)."""
    lv, lb = row_losses(oof_v), row_losses(oof_b)
    if lv.ndim == 1:
        return mean_loss_influence(lv, lb)
    return influence(lv[0], lb[0]) if len(lv) == 1 else mcrmse_influence(lv, lb)


def paired_runs(rmse_v: pd.Series, rmse_b: pd.Series) -> pd.DataFrame:
    """One row per (split, fold, seed) that both sides ran: each side's run RMSE and their difference."""
    runs = pd.concat({"variant": rmse_v, "baseline": rmse_b}, axis=1).dropna()
    return runs.assign(delta=runs["variant"] - runs["baseline"]).reset_index()


def study_design(params) -> Design:
    """The design params.yaml freezes: the question, one look per partition, Bonferroni over variants and rounds."""
    st = params.stats
    return Design(alpha=1 - st.confidence, m=max(len(params.variants) - 1, 1), looks=len(params.splits),
                  folds=len(params.cv.folds), n_folds=params.cv.n_folds, margin=st.margin, question=st.question,
                  multiplicity=st.multiplicity, futility=st.futility)


def _row_influences(oof_v: pd.DataFrame, oof_b: pd.DataFrame, run_sets: list[tuple[int, int]]) -> pd.DataFrame:
    """ψ per row (index: id) and run set (columns), NaN where the run set did not score the row."""
    cols = {}
    for split, seed in run_sets:
        pick = lambda o: o[(o["split"] == split) & (o["seed"] == seed)].set_index("id")  # noqa: E731
        v, b = pick(oof_v), pick(oof_b)
        common = v.index.intersection(b.index)
        if len(common) < 2:
            continue
        cols[(split, seed)] = pd.Series(paired_influence(v.loc[common], b.loc[common]), index=common)
    return pd.DataFrame(cols)


def compare_oof(oofs: dict[str, pd.DataFrame], baseline: str, design: Design, splits: list[int],
                groups: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every variant against ``baseline`` from out-of-fold predictions (columns id, split, fold, seed, target,
    prediction): a table (one row a variant) and the paired runs behind it. ``splits``: the study's partitions in
    round order. ``groups``: each id's group (data.group_col), which clusters the row term."""
    names = [n for n in oofs if n != baseline]
    folds = sorted({int(f) for f in oofs[baseline]["fold"]})
    seeds = sorted({int(s) for s in oofs[baseline]["seed"]})
    run_sets = [(p, s) for p in splits for s in seeds]
    part = np.array([splits.index(p) for p, _ in run_sets])
    units = np.full((len(names), len(splits), max(len(folds), 1)), np.nan)
    cov = np.full((len(names), len(run_sets), len(run_sets)), np.nan)
    runs = []
    base_rmse = run_rmse(oofs[baseline])
    for i, name in enumerate(names):
        pr = paired_runs(run_rmse(oofs[name]), base_rmse)
        runs.append(pr.assign(variant=name))
        for (split, fold), d in pr.groupby(["split", "fold"])["delta"].mean().items():
            if int(split) in splits and int(fold) in folds:
                units[i, splits.index(int(split)), folds.index(int(fold))] = d
        psi = _row_influences(oofs[name], oofs[baseline], run_sets)
        if psi.shape[1]:
            g = None if groups is None else groups.reindex(psi.index).to_numpy()
            c = row_covariance(psi.to_numpy().T, g)
            at = [run_sets.index(k) for k in psi.columns]
            cov[i][np.ix_(at, at)] = c
    out = replay(design, units, cov, part)
    f = out.final
    rows = []
    for i, name in enumerate(names):
        verdict = VERDICTS[int(f.code[i])]
        stopped = int(out.stop[i])
        status = ("stopped early: futile" if out.futile[i] else "stopped") if stopped >= 0 else \
                 ("open" if out.seen[i] < design.looks else "stopped")
        used = int(f.n[i]) if np.isfinite(f.delta[i]) else int(np.isfinite(units[i]).sum())
        pr = runs[i]
        per_unit = max(pr["seed"].nunique(), 1)   # this variant's seeds: a unit's runs, and a new partition's per fold
        used_splits = splits[:-(-used // max(len(folds), 1))]
        rows.append({"variant": name, "delta": _f(f.delta[i]), "runs": len(pr),
                     "runs_used": int(pr["split"].isin(used_splits).sum()),
                     "round": (stopped if stopped >= 0 else max(int(out.seen[i]) - 1, 0)) + 1,
                     "status": status, "se": _f(f.se[i]), "persistent_se": _f(np.sqrt(f.persistent[i])), "df": _f(f.df[i]), "ci_low": _f(f.low[i]), "ci_high": _f(f.high[i]), "verdict": verdict,
                     "negligible": bool(verdict == EQUIVALENT and (f.low[i] > 0 or f.high[i] < 0)),
                     "floor": _f(out.floor[i]),
                     "row_term": (ROW_TERM_KINDS[int(f.row_kind[i])] if design.question == "new_rows" and int(f.row_kind[i]) < len(ROW_TERM_KINDS)
                                  else "-"),
                     "runs_needed": int(out.runs_needed[i]) * per_unit if verdict == UNDECIDED else 0})
    table = pd.DataFrame(rows, columns=["variant", "delta", "runs", "runs_used", "round", "status", "se", "persistent_se", "df",
                                        "ci_low", "ci_high", "verdict", "negligible", "floor", "row_term", "runs_needed"])
    return table, (pd.concat(runs, ignore_index=True) if runs else pd.DataFrame())


def _f(x) -> float:
    return float(x) if np.isfinite(x) else float("nan")
