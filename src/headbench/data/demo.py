"""DEMO DATA: synthetic English passages whose readability target follows from their difficulty.

Not real data. It exists so that `dvc repro` runs anywhere, offline, in minutes. Easy passages use
short sentences of common words; hard ones long sentences with rare words and subordinate clauses.
The target is on CommonLit's scale (higher = easier), a fixed function of those features plus noise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

EASY = {
    "adj": "big small red happy little old new good warm cold soft kind".split(),
    "noun": "dog cat boy girl sun tree ball house bird fish mom dad friend cake hat car".split(),
    "verb": "sees likes has finds wants gets helps takes makes loves".split(),
}
HARD = {
    "adj": ("ubiquitous ephemeral meticulous recalcitrant perfunctory esoteric pernicious laconic "
            "magnanimous obsequious quixotic sanguine taciturn vociferous").split(),
    "noun": ("paradigm hegemony juxtaposition epistemology dichotomy proclivity vicissitude "
             "ramification idiosyncrasy predilection conflagration equanimity").split(),
    "verb": ("elucidates circumvents exacerbates promulgates substantiates obfuscates "
             "precipitates ameliorates repudiates corroborates").split(),
}
CLAUSES = ["which", "although", "whereas", "notwithstanding that", "inasmuch as"]


def _phrase(rng, rare: float) -> str:
    pick = lambda kind: rng.choice(HARD[kind] if rng.random() < rare else EASY[kind])  # noqa: E731
    return f"the {pick('adj')} {pick('noun')} {pick('verb')} the {pick('adj')} {pick('noun')}"


def _sentence(rng, rare: float, clauses: int) -> str:
    parts = [_phrase(rng, rare)]
    for _ in range(clauses):
        parts.append(f"{rng.choice(CLAUSES)} {_phrase(rng, rare)}")
    s = ", ".join(parts)
    return s[0].upper() + s[1:] + "."


def make_demo(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    records, seen = [], set()
    while len(records) < rows:
        difficulty = rng.random()
        rare = 0.05 + 0.6 * difficulty
        clauses = min(int(rng.poisson(1.5 * difficulty)), 2)
        text = _sentence(rng, rare, clauses)  # one sentence (median 16 tokens) keeps the default run's training short
        if text in seen:
            continue
        seen.add(text)
        words = text.split()
        rare_frac = np.mean([w.strip(".,").lower() in _HARD_WORDS for w in words])
        words_per_sentence = len(words)
        target = 1.2 - 5.0 * rare_frac - 0.06 * words_per_sentence + rng.normal(0, 0.15)
        records.append({"id": f"demo{len(records):04d}", "excerpt": text, "target": round(float(target), 5)})
    return pd.DataFrame(records)


_HARD_WORDS = {w for ws in HARD.values() for w in ws}
