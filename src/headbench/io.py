"""Where a run's outputs live, and atomic writes: an output appears complete or not at all."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; rename it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: str | Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_csv(path: str | Path, df) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def read_id_csv(path: str | Path):
    """A CSV the stages wrote, keyed by an ``id`` column: ids are read as written (an id such as "NA" or "None" is no
    missing value); only an empty field is."""
    import pandas as pd

    return pd.read_csv(path, dtype={"id": str}, keep_default_na=False, na_values=[""])


def run_dir(runs: str | Path, variant: str, split: int, fold: int, seed: int) -> Path:
    """The train stage's output for one run: runs/<variant>/split<p>-fold<k>-seed<s>."""
    return Path(runs) / variant / f"split{split}-fold{fold}-seed{seed}"


def folds_file(folds: str | Path, split: int) -> Path:
    """The split stage's output for one partition: <paths.folds>/split<p>.csv."""
    return Path(folds) / f"split{split}.csv"
