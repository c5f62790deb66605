"""The recipe trial (before the confirmatory study): does weight averaging cut the A/A noise enough to pay for itself?

    python scripts/results/recipe_trial.py CLONE_PLAIN CLONE_EMA     # copy finished runs, rebuild the table
    python scripts/results/recipe_trial.py                           # rebuild the table from the committed runs

Each arm trains the baseline and its A/A control (`aa`) on the 5 folds of two partitions reserved for the trial
(split seeds 7001 and 7002, which the study does not use): 10 A/A pairs, 20 runs. The arms differ only in
`train.ema` (docs/results/recipe_trial/<arm>/params.yaml). They train side by side, one pinned one-thread worker
each, so their times compare on the same CPU.

The rule, fixed before the trial (README.md): adopt the arm with the lowest A/A SD × √(time per run) if it beats
the current recipe by ≥ 20% on that figure and its baseline OOF RMSE is not worse than the current recipe's by
more than the margin (0.01); otherwise keep the current recipe.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "scripts")]

from collect_runs import committed_oofs, copy_runs  # noqa: E402
from headbench.stats.compare import fold_table, run_rmse  # noqa: E402

TRIAL = ROOT / "docs" / "results" / "recipe_trial"
ARMS = ("plain", "ema")
GAIN, MARGIN = 0.20, 0.01


def arm_figures(arm: str) -> dict:
    params, _, oofs = committed_oofs(TRIAL / arm)
    if set(oofs) != {"baseline", "aa"}:
        return {"arm": arm, "pairs": 0}
    seconds = [json.loads(f.read_text())["time_wall_s"] for f in (TRIAL / arm / "runs").glob("*/split*/metrics.json")]
    pairs = pd.concat({"aa": run_rmse(oofs["aa"]), "baseline": run_rmse(oofs["baseline"])}, axis=1).dropna()
    d = pairs["aa"] - pairs["baseline"]
    whole = oofs["baseline"].groupby("split").filter(lambda g: g["fold"].nunique() == params.cv.n_folds)
    complete = int(whole["split"].nunique())
    sd = float(d.std(ddof=1)) if len(d) > 1 else float("nan")
    time_per_run = float(np.median(seconds))
    return {"arm": arm, "ema": params.train.ema, "pairs": int(len(d)), "runs": len(seconds), "aa_paired_sd": sd,
            "baseline_oof_rmse": fold_table(whole)["oof_rmse"] if complete else float("nan"),
            "partitions_complete": complete, "median_run_s": time_per_run,
            "figure": sd * np.sqrt(time_per_run / 60)}


def decide(rows: dict) -> str:
    plain, ema = rows["plain"], rows["ema"]
    if plain.get("pairs", 0) < 10 or ema.get("pairs", 0) < 10:
        return f"not yet: {plain.get('pairs', 0)} and {ema.get('pairs', 0)} of 10 A/A pairs; the rule applies at 10 each"
    best = min(ARMS, key=lambda a: rows[a]["figure"])
    if best == "plain":
        return "keep the current recipe: it has the lower A/A SD × √(time per run)"
    gain = 1 - ema["figure"] / plain["figure"]
    worse = ema["baseline_oof_rmse"] - plain["baseline_oof_rmse"]
    if gain >= GAIN and worse <= MARGIN:
        return f"adopt ema: {gain:.0%} lower A/A SD × √(time per run), baseline OOF RMSE {worse:+.4f}"
    return f"keep the current recipe: ema is {gain:.0%} better on the figure (needs ≥ {GAIN:.0%}), OOF RMSE {worse:+.4f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clones", type=Path, nargs="*", help="the plain arm's clone, then the ema arm's")
    args = ap.parse_args()
    for arm, clone in zip(ARMS, args.clones):
        print(f"{arm}: copied {copy_runs(TRIAL / arm, [clone])} new runs")
    rows = {a: arm_figures(a) for a in ARMS}
    verdict = decide(rows)
    (TRIAL / "trial.json").write_text(json.dumps({"arms": rows, "decision": verdict}, indent=1) + "\n")
    lines = ["| arm | train.ema | A/A pairs | A/A paired SD | baseline OOF RMSE | median run (s) | SD × √(min per run) |",
             "|---|---|---|---|---|---|---|"]
    for a in ARMS:
        r = rows[a]
        if r.get("pairs"):
            lines.append(f"| {a} | {r['ema']} | {r['pairs']} | {r['aa_paired_sd']:.4f} | {r['baseline_oof_rmse']:.4f} "
                         f"({r['partitions_complete']} partitions) | {r['median_run_s']:.0f} | {r['figure']:.4f} |")
    text = "\n".join(lines) + f"\n\nDecision by the frozen rule: {verdict}\n"
    (TRIAL / "trial.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
