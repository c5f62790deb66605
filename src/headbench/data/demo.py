"""DEMO DATA: synthetic English passages whose readability target is the share of rare words in them.

Not real data. It exists so that `dvc repro` runs anywhere, offline, in minutes, and shows what a verdict looks
like. Each passage is two clauses of five content words (adjective, noun, verb, adjective, noun), each rare with the
passage's own probability; every passage holds at least one rare and one common word, so that whether a rare word
occurs says little and how many do says everything. The target is on CommonLit's scale (higher = easier): a fixed
function of the rare share plus noise.
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
SLOTS = ("adj", "noun", "verb", "adj", "noun") * 2   # two clauses
NOISE = 0.1


def _rare_slots(rng, share: float) -> np.ndarray:
    rare = rng.random(len(SLOTS)) < share
    rare[rng.integers(len(SLOTS))] = True  # at least one rare word
    common = rng.integers(len(SLOTS))
    if rare.sum() > 1:
        rare[common] = False                # and at least one common word
    return rare


def _passage(rng, rare: np.ndarray) -> str:
    w = [rng.choice(HARD[kind] if r else EASY[kind]) for kind, r in zip(SLOTS, rare)]
    text = f"the {w[0]} {w[1]} {w[2]} the {w[3]} {w[4]}, {rng.choice(CLAUSES)} the {w[5]} {w[6]} {w[7]} the {w[8]} {w[9]}."
    return text[0].upper() + text[1:]


def make_demo(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    records, seen = [], set()
    while len(records) < rows:
        rare = _rare_slots(rng, rng.uniform(0.1, 0.9))
        text = _passage(rng, rare)
        if text in seen:
            continue
        seen.add(text)
        target = 1.0 - 3.0 * rare.mean() + rng.normal(0, NOISE)
        records.append({"id": f"demo{len(records):04d}", "excerpt": text, "target": round(float(target), 5)})
    return pd.DataFrame(records)
