"""K-fold assignment, stratified on the class or the binned (first) target, optionally keeping groups together."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from headbench.config import CVParams, ParamError, Params
from headbench.data.table import load_dataset
from headbench.errors import DataError, StudyError
from headbench.io import read_id_csv, write_csv


def run_seed(seed: int, split: int, fold: int, seed_offset: int = 0) -> int:
    """The seed every random stream of one run draws from, derived from its unit (split seed, fold), the study's
    seed and the variant's seed_offset with numpy's SeedSequence. It differs per fold and per partition, so no
    two units share their seed noise, and a variant shares it with the baseline on the same unit (an A/A control,
    with its own seed_offset, shares none). One seed for every fold of a partition would correlate the folds."""
    return int(np.random.SeedSequence([seed, split, fold, seed_offset]).generate_state(1)[0])


def target_bins(target: pd.Series, n_bins: int) -> np.ndarray:
    return pd.qcut(target, q=n_bins, labels=False, duplicates="drop").to_numpy()


def strata(df: pd.DataFrame, cv: CVParams, task: str, path="the data") -> np.ndarray:
    """What the folds stratify on: the class, or the first target's quantile bin. A class with fewer rows than folds
    would be missing from the training rows of a fold, so it is refused."""
    first = next(c for c in df.columns if c == "target" or c.startswith("target."))
    if task == "classification":
        counts = df[first].value_counts()
        rare = counts[counts < cv.n_folds]
        if len(rare):
            raise DataError(f"{path}: class(es) {rare.index.tolist()[:5]} have {rare.tolist()[:5]} rows, fewer than "
                             f"`cv.n_folds`={cv.n_folds}: every fold must train on every class. Merge or drop them, "
                             "or lower cv.n_folds")
        return df[first].to_numpy()
    return target_bins(df[first], min(cv.n_bins, len(df) // cv.n_folds or 1))


def make_folds(df: pd.DataFrame, cv: CVParams, task: str = "regression", path="the data") -> pd.DataFrame:
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold  # ~1 s to import; train stages never split

    if cv.n_folds > len(df):
        raise ParamError(f"params.yaml: `cv.n_folds`={cv.n_folds} is more than the {len(df)} rows of the data")
    bins = strata(df, cv, task, path)
    fold = np.full(len(df), -1)
    if "group" in df.columns:
        if df["group"].nunique() < cv.n_folds:
            raise ParamError(f"params.yaml: `cv.n_folds`={cv.n_folds} is more than the {df['group'].nunique()} groups in the data")
        splitter = StratifiedGroupKFold(n_splits=cv.n_folds, shuffle=True, random_state=cv.seed)
        splits = splitter.split(df, bins, groups=df["group"])
    else:
        splitter = StratifiedKFold(n_splits=cv.n_folds, shuffle=True, random_state=cv.seed)
        splits = splitter.split(df, bins)
    for k, (_, valid) in enumerate(splits):
        fold[valid] = k
    return pd.DataFrame({"id": df["id"].to_numpy(), "fold": fold})


def attach_folds(df: pd.DataFrame, folds: pd.DataFrame, folds_path) -> pd.DataFrame:
    stale = sorted(set(folds["id"]) - set(df["id"]))
    if stale:
        raise StudyError(f"{folds_path}: {len(stale)} ids are not in the data (e.g. {stale[:3]}): the split is stale; "
                         "re-run it (`dvc repro split`)")
    merged = df.merge(folds, on="id", how="left")
    missing = merged.index[merged["fold"].isna()]
    if len(missing):
        raise ParamError(
            f"{folds_path}: {len(missing)} ids of the data have no fold (e.g. {merged.loc[missing[:3], 'id'].tolist()}); "
            "re-run the split stage (`dvc repro split`)"
        )
    merged["fold"] = merged["fold"].astype(int)
    return merged


def split(params: Params, out: str | Path, split_seed: int | None = None) -> pd.DataFrame:
    """The split stage: every row of the data with its fold in the partition of ``split_seed`` (default cv.seed)."""
    cv = params.cv if split_seed is None else replace(params.cv, seed=split_seed)
    folds = make_folds(load_dataset(params.data, task=params.task.type), cv, params.task.type, params.data.path)
    write_csv(out, folds)
    return folds


def read_folds(path: str | Path, n_folds: int | None = None) -> pd.DataFrame:
    """The split's output, checked: a file edited by hand or left from another split fails here, naming it."""
    path = Path(path)
    if not path.is_file():
        raise StudyError(f"{path}: fold file not found; run the split stage first (`dvc repro split`)")
    try:
        folds = read_id_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StudyError(f"{path}: not a readable fold file ({type(exc).__name__}); re-run `dvc repro split`") from None
    if list(folds.columns) != ["id", "fold"]:
        raise StudyError(f"{path}: expected the columns id, fold; found {list(folds.columns)}; re-run `dvc repro split`")
    fold = pd.to_numeric(folds["fold"], errors="coerce")
    bad = folds.index[fold.isna() | (fold % 1 != 0) | (fold < 0) |
                      ((fold >= n_folds) if n_folds is not None else False)]
    if len(bad):
        raise StudyError(f"{path}: row {bad[0] + 2} has fold {str(folds.loc[bad[0], 'fold'])!r}, not one of 0..{(n_folds or 1) - 1}; "
                         "re-run `dvc repro split`")
    dup = folds["id"][folds["id"].duplicated()]
    if len(dup):
        raise StudyError(f"{path}: id {dup.iloc[0]!r} has more than one fold; re-run `dvc repro split`")
    return folds.assign(fold=fold.astype(int))
