"""The evaluate stage: one variant's runs joined into out-of-fold predictions, learning curves and RMSE figures."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from headbench.config import Params
from headbench.errors import StudyError
from headbench.io import read_id_csv, run_dir, write_csv, write_json
from headbench.stats.compare import fold_table
from headbench.stats.scoring import oof_task

KEY_COLUMNS = ["id", "split", "fold", "seed"]
OOF_COLUMNS = [*KEY_COLUMNS, "target", "prediction"]   # one regression target


def oof_columns(oof: pd.DataFrame) -> list[str]:
    """The columns a run's oof.csv must have for its task (engine.run.oof_frame writes them)."""
    task, names = oof_task(oof)
    if task == "classification":
        return [*KEY_COLUMNS, "target", *(f"proba.{c}" for c in names), "prediction"]
    if names == ["target"]:
        return OOF_COLUMNS
    return [*KEY_COLUMNS, *(f"target.{n}" for n in names), *(f"prediction.{n}" for n in names)]


def read_run(d: Path, split: int, fold: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """One train stage's outputs, checked: a file edited by hand or copied from another run fails here, naming it."""
    def bad(name, why):
        return StudyError(f"{d / name}: {why}; re-run its train stage (`dvc repro -f` the stage that writes {d})")
    try:
        oof = read_id_csv(d / "oof.csv")
        history = pd.read_csv(d / "history.csv")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise bad("oof.csv or history.csv", f"unreadable ({type(exc).__name__})") from None
    expected = oof_columns(oof)
    if list(oof.columns) != expected:
        raise bad("oof.csv", f"expected the columns {expected}, found {list(oof.columns)}")
    scores = "proba." if oof_task(oof)[0] == "classification" else "prediction"   # not the predicted class label
    numeric = [c for c in expected if c.startswith(scores)]
    if oof.empty or not np.isfinite(oof[numeric].apply(pd.to_numeric, errors="coerce")).all().all():
        raise bad("oof.csv", "has no rows or a prediction that is not a finite number")
    if set(oof["split"]) != {split} or set(oof["fold"]) != {fold} or set(oof["seed"]) != {seed}:
        raise bad("oof.csv", f"holds split(s) {sorted(set(oof['split']))}, fold(s) {sorted(set(oof['fold']))} and seed(s) "
                             f"{sorted(set(oof['seed']))}, not split {split}, fold {fold}, seed {seed}")
    try:
        metrics = json.loads((d / "metrics.json").read_text())
        float(next(v for k, v in metrics.items() if k.startswith("valid_"))), float(metrics["train_seconds"])
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise bad("metrics.json", f"not a run's metrics ({type(exc).__name__}: {exc})") from None
    return oof, history, metrics


def evaluate_variant(params: Params, variant: str, runs: str | Path, out_dir: str | Path) -> dict:
    """Join one variant's runs into ``out_dir``: oof.csv, history.csv and summary.json (per-seed and per-fold RMSE,
    spreads, time). Detail for the aggregate stage, plots and MLflow; `dvc exp show` reads only metrics/summary.json."""
    params.variant(variant)
    oofs, histories, run_metrics = [], [], []
    for split in params.splits_of(variant):
        for seed in params.seeds:
            for fold in params.cv.folds:
                d = run_dir(runs, variant, split, fold, seed)
                if not (d / "oof.csv").is_file():
                    raise StudyError(f"{d}: missing training output for variant {variant!r}, split {split}, fold {fold}, "
                                     f"seed {seed}; run `dvc repro`")
                oof, history, metrics = read_run(d, split, fold, seed)
                oofs.append(oof)
                histories.append(history.assign(split=split, fold=fold, seed=seed))
                run_metrics.append(metrics)
    oof = pd.concat(oofs, ignore_index=True)
    summary = fold_table(oof)
    summary["train_seconds"] = float(sum(m["train_seconds"] for m in run_metrics))
    summary["samples_per_s"] = float(np.mean([m["samples_per_s"] for m in run_metrics]))
    # where the runs' wall time went (start-up, data, model, tracking, train, eval, write), summed over the runs
    laps = sorted({k for m in run_metrics for k in m if k.startswith("time_")})
    summary["time_s"] = {k.removeprefix("time_").removesuffix("_s"): float(sum(m.get(k, 0.0) for m in run_metrics)) for k in laps}
    write_csv(Path(out_dir) / "oof.csv", oof)
    write_csv(Path(out_dir) / "history.csv", pd.concat(histories, ignore_index=True))
    write_json(Path(out_dir) / "summary.json", summary)
    return summary
