"""The adaptive study's bookkeeping: which variants are still open, and the next round written into params.yaml.

A round trains each open variant and the baseline on a fresh partition (the next of `study.split_seeds`), every
fold of `cv.folds` with every seed of `seeds`. It is written to `study.more`
(an edit of those lines of params.yaml alone), so the plan is visible in params and `dvc repro` trains exactly
those runs (dvc.yaml's `train_more` stages) and rebuilds the table from them.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
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
    """(the round the study is in, the split seed of the next one or None when the budget is spent)."""
    used = {s for _, s in params.study.more}
    done = sum(1 for s in params.study.split_seeds if s in used)
    rounds = params.study.split_seeds
    return done + 1, (rounds[done] if done < len(rounds) else None)


def add_round(params_path: str | Path, variants: list[str]) -> int | None:
    """Give ``variants`` and the baseline the next round's partition in params.yaml; returns its split seed (None: no
    round left).

    Only the `study.more` lines change (one run a line); every other byte of the user's file stays, and the new
    file must parse before it replaces the old one."""
    params = load_params(params_path)
    _, seed = next_round(params)
    if seed is None or not variants:
        return None
    path = Path(params_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    try:
        study = next(i for i, line in enumerate(lines) if re.match(r"study:\s*(#.*)?$", line))
        at = next(i for i in range(study + 1, len(lines)) if re.match(r"\s+more:", lines[i]))
    except StopIteration:
        raise StudyError(f"{path}: no `study.more` line to write the next round into") from None
    end = at + 1
    while end < len(lines) and re.match(r"\s+- *\{.*\}\s*$", lines[end]):
        end += 1
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    comment = lines[at][lines[at].index("#"):].rstrip("\n") if "#" in lines[at] else ""
    runs = [*params.study.more, *((v, seed) for v in [params.stats.baseline, *variants])]
    col = max(lines[at].find("#"), len(indent) + 6)  # the comment keeps its column
    block = [(f"{indent}more:".ljust(col) + comment).rstrip() + "\n"]
    block += [f"{indent}  - {{variant: {v}, split: {s}}}\n" for v, s in runs]
    with atomic_path(path) as tmp:
        tmp.write_text("".join(lines[:at] + block + lines[end:]), encoding="utf-8")
        load_params(tmp)  # the new plan must parse before it replaces the user's file
    return seed
