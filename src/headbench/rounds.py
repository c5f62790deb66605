"""The adaptive study's bookkeeping: which variants are still open, and the next round written into params.yaml.

A round adds one seed on every fold to each open variant and to the baseline. It is written to `study.more`
(a comment-preserving edit of params.yaml), so the plan is visible in params and `dvc repro` trains exactly
those runs (dvc.yaml's `train_more` stages) and rebuilds the table from them.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from headbench.config import Params, load_params
from headbench.errors import StudyError
from headbench.io import atomic_path


def open_variants(detail: str | Path) -> list[str]:
    """Variants the last aggregate left open (undecided, with rounds to go), from reports/comparison.csv."""
    path = Path(detail)
    if not path.is_file():
        raise StudyError(f"{path}: missing; run `dvc repro` first")
    table = pd.read_csv(path)
    if "status" not in table.columns:
        raise StudyError(f"{path}: has no 'status' column; it was written by an older headbench: run `dvc repro`")
    return table.loc[table["status"] == "open", "variant"].tolist()


def next_round(params: Params) -> tuple[int, int | None]:
    """(the round the study is in, the seed of the next one or None when the budget is spent)."""
    used = {s for _, s in params.study.more}
    done = sum(1 for s in params.study.round_seeds if s in used)
    rounds = params.study.round_seeds
    return done + 1, (rounds[done] if done < len(rounds) else None)


def add_round(params_path: str | Path, variants: list[str]) -> int | None:
    """Give ``variants`` and the baseline the next round's seed in params.yaml; returns the seed (None: no round left)."""
    params = load_params(params_path, heads=False)
    _, seed = next_round(params)
    if seed is None or not variants:
        return None
    yaml = YAML()  # round-trip: the user's comments and layout stay
    yaml.preserve_quotes = True
    path = Path(params_path)
    doc = yaml.load(path.read_text(encoding="utf-8"))
    more = doc["study"]["more"]
    if not isinstance(more, CommentedSeq):
        more = doc["study"]["more"] = CommentedSeq(more)
    for v in [params.stats.baseline, *variants]:
        entry = CommentedMap(variant=v, seed=seed)
        entry.fa.set_flow_style()
        more.append(entry)
    more.fa.set_block_style()
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            yaml.dump(doc, f)
        load_params(tmp, heads=False)  # the new plan must parse before it replaces the user's file
    return seed
