"""The comparison against the baseline: one row per variant, from the evaluate stage's outputs."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from headbench.config import Params, Variant
from headbench.errors import StudyError
from headbench.io import read_id_csv
from headbench.stats.compare import NEEDS_DATA, UNDECIDED, compare_oof, study_design
from headbench.stats.verdict import ROW_TERM_KINDS


def describe_options(v: Variant) -> str:
    opts = [f"{k}={val}" for k, val in v.head_options.items()]
    if v.llrd is not None:
        opts.append(f"llrd={v.llrd}")
    if v.reinit_layers:
        opts.append(f"reinit={v.reinit_layers}")
    if v.encoder_dropout is not None:
        opts.append(f"encoder_dropout={v.encoder_dropout}")
    return ", ".join(opts) or "-"


def aa_controls(params: Params) -> list[str]:
    """Variants that are the baseline's recipe with other seeds: their rows are the study's noise floor."""
    base = params.variants[params.stats.baseline]
    same = lambda v: replace(v, name=base.name, seed_offset=base.seed_offset) == base
    return [n for n, v in params.variants.items() if n != base.name and v.seed_offset != base.seed_offset and same(v)]


def compare(params: Params, eval_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per variant (the baseline included) and the paired runs behind each difference."""
    base = params.stats.baseline
    oofs = {}
    for name in params.variants:
        path = Path(eval_dir) / name / "oof.csv"
        if not path.is_file():
            raise StudyError(f"{path}: missing; run the evaluate stage for variant {name!r} (`dvc repro`)")
        oofs[name] = read_id_csv(path)
    groups = None
    if params.data.group_col:
        from headbench.data.table import load_dataset

        groups = load_dataset(params.data, task=params.task.type).set_index("id")["group"]
    deltas, runs = compare_oof(oofs, base, study_design(params), params.splits, groups)
    aa = set(aa_controls(params))
    rows = []
    for name, v in params.variants.items():
        m = json.loads((Path(eval_dir) / name / "summary.json").read_text())
        rows.append({"variant": name, "head": v.head, "options": describe_options(v), "oof_rmse": m["oof_rmse"],
                     "oof_rmse_std_run_sets": m["oof_rmse_std_run_sets"], "run_sets": m["run_sets"], "fold_rmse_std": m["fold_rmse_std"],
                     "train_seconds": m["train_seconds"], "fold_rmse": m["fold_rmse"], "side": m.get("side", {}), "aa_control": name in aa,
                     **{f"{lap}_seconds": m.get("time_s", {}).get(lap, np.nan) for lap in ("wall", "eval")}})
    table = pd.DataFrame(rows).merge(deltas, on="variant", how="left")
    is_base = table["variant"] == base
    table.loc[is_base, ["delta", "ci_low", "ci_high"]] = 0.0
    table.loc[is_base, "verdict"] = "baseline"
    table.loc[is_base, ["runs_needed", "negligible"]] = [0, False]
    table.attrs["question"] = params.stats.question
    table.attrs["metric"] = params.metric
    return table, runs


DETAIL_COLUMNS = ["variant", "head", "options", "aa_control", "oof_rmse", "oof_rmse_std_run_sets", "run_sets", "runs",
                  "runs_used", "round", "status", "delta", "se", "persistent_se", "df", "ci_low", "ci_high", "verdict",
                  "negligible", "floor", "row_term", "runs_needed", "train_seconds", "eval_seconds", "wall_seconds"]


def detail(table: pd.DataFrame) -> pd.DataFrame:
    """Every figure of the comparison, one row per variant (reports/comparison.csv)."""
    folds = pd.DataFrame([{f"fold{k}_rmse": v for k, v in r.items()} for r in table["fold_rmse"]], index=table.index)
    side = pd.DataFrame(list(table["side"]) if "side" in table else [{}] * len(table), index=table.index)  # per target, or classes
    return pd.concat([table[DETAIL_COLUMNS], folds, side], axis=1)


def row_term_bounded(r) -> bool:
    """The variant's row term is only bounded (one run's own variance): its runs needed are a lower bound."""
    return getattr(r, "row_term", None) == ROW_TERM_KINDS[-1]


def needed_short(r) -> str:
    """A table cell for what an open verdict needs: the floor more runs cannot go below (needs more data), about how
    many more runs make a verdict likely ("at least" while the row term is only bounded), or nothing once decided."""
    if r.verdict == NEEDS_DATA:
        return f"floor ±{r.floor:.4f}"
    if r.verdict != UNDECIDED:
        return ""
    if r.runs_needed <= 0:
        return "more runs unlikely to decide"
    return f"{'at least ' if row_term_bounded(r) else ''}~{int(r.runs_needed)} more runs"
