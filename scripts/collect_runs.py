"""Commit-sized copies of a study's finished runs, and its table rebuilt from them alone.

A study trains in its own clone (pinned commit, several worktrees); the DVC run-cache stays on that machine. This
copies each finished run's metrics.json, history.csv, model.json and oof.csv (predictions without the target column:
the data is never committed; rejoin it by id) into DEST/runs/<variant>/fold<k>-seed<s>/, then judges every variant from the
runs' own RMSE (metrics.json "valid_rmse") with the study's frozen params:

    python scripts/collect_runs.py docs/results/study5 /work/study /work/study/.dvc/tmp/workers/w*   # copy + judge
    python scripts/collect_runs.py docs/results/study5                                              # judge only

DEST/params.yaml is the study's params (frozen margin, spending and rounds). Writes DEST/paired_runs.csv,
DEST/comparison.csv and DEST/comparison.md (runs still missing leave their variants open or not enough runs).
"""
import argparse
import json
import shutil
from pathlib import Path

import pandas as pd

from headbench.config import load_params
from headbench.stats.compare import compare_runs, study_plan

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("dest", type=Path)
ap.add_argument("sources", type=Path, nargs="*", help="checkouts whose runs/ to copy from")
args = ap.parse_args()

params = load_params(args.dest / "params.yaml")
runs = args.dest / "runs"
copied = 0
for src in args.sources:
    for d in sorted((src / params.paths.runs).glob("*/fold*-seed*")):
        if not (d / "metrics.json").is_file() or d.parent.name not in params.variants:
            continue
        out = runs / d.parent.name / d.name
        if (out / "metrics.json").is_file():
            if not (out / "model.json").is_file():  # runs committed before model.json was kept
                shutil.copy(d / "model.json", out / "model.json")
            continue
        out.mkdir(parents=True, exist_ok=True)
        for name in ("metrics.json", "history.csv", "model.json"):
            shutil.copy(d / name, out / name)
        pd.read_csv(d / "oof.csv", dtype={"id": str}).drop(columns=["target"]).to_csv(out / "oof.csv", index=False)
        copied += 1
print(f"copied {copied} new runs into {runs}")

rmses = {}
for v in params.variants:
    found = {}
    for seed in params.seed_order:
        for fold in params.cv.folds:
            m = runs / v / f"fold{fold}-seed{seed}" / "metrics.json"
            if m.is_file():
                found[(fold, seed)] = json.loads(m.read_text())["valid_rmse"]
    rmses[v] = pd.Series(found.values(), index=pd.MultiIndex.from_tuples(list(found), names=["fold", "seed"]), dtype=float)
if rmses[params.stats.baseline].empty:
    raise SystemExit(f"{runs}: no finished run of the baseline yet")
table, paired = compare_runs(rmses, params.stats.baseline, study_plan(params), params.seed_order)
paired.to_csv(args.dest / "paired_runs.csv", index=False)
table.to_csv(args.dest / "comparison.csv", index=False)
lines = [f"| variant | runs | runs used | round | Δ [{params.stats.confidence:.0%} simultaneous] | verdict (margin ±{params.stats.margin:g}) | status | runs needed |",
         "|---|---|---|---|---|---|---|---|"]
for r in table.itertuples():
    ci = f"{r.delta:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]" if pd.notna(r.ci_low) else ("—" if pd.isna(r.delta) else f"{r.delta:+.4f}")
    need = "" if r.verdict != "undecided" else ("more seeds cannot decide" if r.runs_needed < 0 else str(r.runs_needed))
    rnd = r.round if r.runs else "—"
    lines.append(f"| {r.variant} | {r.runs} | {r.runs_used} | {rnd} | {ci} | {r.verdict} | {r.status} | {need} |")
(args.dest / "comparison.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
