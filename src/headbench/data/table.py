"""Reading and validating the input CSV. Every problem names the file, the column and rows."""
from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd

from headbench.errors import DataError
from headbench.config import MAX_CLASSES, DataParams

MAX_SHOWN = 5




def _rows(index) -> str:
    shown = ", ".join(str(i + 1) for i in list(index)[:MAX_SHOWN])
    more = f" and {len(index) - MAX_SHOWN} more" if len(index) > MAX_SHOWN else ""
    return f"data row{'s' if len(index) > 1 else ''} {shown}{more} (counted from 1 after the header)"


def read_csv(path: str | Path, required: list[str], id_col: str | None = None, verbatim: tuple[str, ...] = ()) -> pd.DataFrame:
    """The CSV, checked. ``verbatim`` columns (ids, texts) are read as written: pandas would otherwise turn a text such
    as "None", "NA" or "null" into a missing value."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: file is empty (expected a CSV header with columns {required})")
    try:
        raw.decode("utf-8")  # a BOM is fine: utf-8-sig below strips it
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (invalid byte at offset {exc.start}); save the file as UTF-8") from None
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype={id_col: str} if id_col else None, keep_default_na=True)
        as_written = [c for c in dict.fromkeys(verbatim) if c in df.columns]
        if as_written:
            df[as_written] = pd.read_csv(path, encoding="utf-8-sig", usecols=as_written, dtype=str, keep_default_na=False)[as_written]
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataError(f"{path}: malformed CSV: {exc}") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; the file has columns {list(df.columns)}")
    if df.empty:
        raise DataError(f"{path}: has a header but no data rows")
    return df


def validate_texts(df: pd.DataFrame, col: str, path) -> None:
    text = df[col]
    bad = df.index[text.isna() | text.astype(str).str.strip().eq("")]
    if len(bad):
        raise DataError(f"{path}: column {col!r} has empty or whitespace-only text in {_rows(bad)}")


def validate_ids(df: pd.DataFrame, col: str, path) -> None:
    missing = df.index[df[col].isna() | df[col].astype(str).str.strip().eq("")]
    if len(missing):
        raise DataError(f"{path}: column {col!r} has missing ids in {_rows(missing)}")
    dup = df.index[df[col].duplicated(keep=False)]
    if len(dup):
        raise DataError(f"{path}: column {col!r} has duplicate ids {sorted(set(df.loc[dup, col]))[:MAX_SHOWN]} in {_rows(dup)}")


def validate_target(df: pd.DataFrame, col: str, path) -> pd.Series:
    values = pd.to_numeric(df[col], errors="coerce")
    not_numeric = df.index[values.isna() & df[col].notna()]
    if len(not_numeric):
        examples = [repr(v) for v in df.loc[not_numeric[:3], col]]
        raise DataError(f"{path}: column {col!r} has non-numeric values ({', '.join(examples)}) in {_rows(not_numeric)}")
    bad = df.index[values.isna() | ~values.apply(lambda v: pd.notna(v) and abs(v) != float("inf"))]
    if len(bad):
        raise DataError(f"{path}: column {col!r} has missing (NaN) or infinite targets in {_rows(bad)}")
    return values.astype("float64")


def target_columns(p: DataParams) -> list[str]:
    """The frame's target columns: ``target`` for one, ``target.<column>`` for each of several."""
    return ["target"] if len(p.targets) == 1 else [f"target.{c}" for c in p.targets]


def class_names(labels: pd.Series) -> list[str]:
    """The classes in a fixed order: numerically if every label is an integer (0, 1, 2, 10), else as text."""
    names = labels.unique().tolist()
    if all(str(v).lstrip("-").isdigit() for v in names):
        return sorted(names, key=int)
    return sorted(names)


def validate_labels(df: pd.DataFrame, col: str, path, training: bool = True) -> pd.Series:
    """Class labels as written; data to train on needs two classes at least (a file to score may hold one)."""
    labels = df[col].astype(str)
    bad = df.index[labels.str.strip().eq("")]
    if len(bad):
        raise DataError(f"{path}: column {col!r} has missing class labels in {_rows(bad)}")
    n = labels.nunique()
    if n < 2 and training:
        raise DataError(f"{path}: column {col!r} has a single class ({labels.iloc[0]!r}): a classifier needs at least two")
    if n > MAX_CLASSES:
        raise DataError(f"{path}: column {col!r} has {n} distinct labels, more than {MAX_CLASSES} classes; "
                        "is it a numeric target (task.type: regression)?")
    return labels


def load_dataset(p: DataParams, require_target: bool = True, path: str | Path | None = None,
                 task: str = "regression") -> pd.DataFrame:
    """Validated frame with columns id, text, the targets (if present or required: target_columns; a class label as
    written, for classification) and group (if set)."""
    path = Path(path or p.path)
    required = [p.id_col, p.text_col] + (list(p.targets) if require_target else [])
    if p.group_col and require_target:
        required.append(p.group_col)
    labels = (p.target_col,) if task == "classification" else ()
    df = read_csv(path, required, id_col=p.id_col, verbatim=(p.id_col, p.text_col, *labels))
    validate_ids(df, p.id_col, path)
    validate_texts(df, p.text_col, path)
    dup = df.index[df[p.text_col].duplicated(keep=False)]
    if len(dup) and p.duplicate_texts == "error":
        raise DataError(f"{path}: column {p.text_col!r} has duplicate texts in {_rows(dup)}; remove them, or set "
                        "data.duplicate_texts: drop to drop them")
    out = pd.DataFrame({"id": df[p.id_col].astype(str), "text": df[p.text_col].astype(str)})
    if all(c in df.columns for c in p.targets):
        for col, name in zip(p.targets, target_columns(p)):
            out[name] = validate_labels(df, col, path, require_target) if labels else validate_target(df, col, path)
    if p.group_col and p.group_col in df.columns:
        out["group"] = df[p.group_col].astype(str)
    if len(dup) and require_target:   # data.duplicate_texts: drop (a file to score keeps every row)
        warnings.warn(f"{path}: dropped {len(dup)} rows whose text occurs more than once "
                      f"({df.loc[dup, p.text_col].nunique()} texts; data.duplicate_texts: drop)", stacklevel=2)
        out = out.drop(index=dup)
    return out

