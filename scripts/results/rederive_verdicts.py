"""Re-judge a committed study with the current verdicts: paired runs in, rejudged.json and a Markdown table out.

    python scripts/results/rederive_verdicts.py docs/results/runlevel             # plots/paired_runs.csv (3 folds x 1 seed)
    python scripts/results/rederive_verdicts.py docs/results/seeds --folds 1      # paired_runs.csv (fold 0 x 3 seeds)

The design is judged as one look (the study was fixed, not adaptive), Bonferroni over its variants, with the
default margin and variance model of params.yaml.
"""
import argparse
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd

from headbench.config import load_params
from headbench.stats.compare import compare_runs, study_plan

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("study", type=Path)
ap.add_argument("--baseline", default="baseline")
ap.add_argument("--n-folds", type=int, default=5, help="K of the K-fold split the runs came from (rho = 1/K)")
ap.add_argument("--params", default="params.yaml", help="margin, variance model and confidence come from here")
args = ap.parse_args()

found = [p for p in (args.study / "paired_runs.csv", args.study / "plots" / "paired_runs.csv") if p.is_file()]
paired = pd.read_csv(found[0])
base = paired.drop_duplicates(["fold", "seed"]).set_index(["fold", "seed"])["baseline"]
rmses = {args.baseline: base}
for v, g in paired.groupby("variant", sort=False):
    rmses[v] = g.set_index(["fold", "seed"])["baseline"] + g.set_index(["fold", "seed"])["delta"]
params = load_params(args.params)
seeds = sorted({int(s) for _, s in base.index})
folds = sorted({int(f) for f, _ in base.index})
plan = study_plan(params)
plan = replace(plan, m=len(rmses) - 1, seeds_per_look=(len(seeds),), n_folds=len(folds), rho=1 / args.n_folds)
table, _ = compare_runs(rmses, args.baseline, plan, seeds)
out = {r.variant: {k: (None if pd.isna(v) else v) for k, v in r._asdict().items() if k not in ("Index", "variant")}
       for r in table.itertuples()}
(args.study / "rejudged.json").write_text(json.dumps(out, indent=2, default=str) + "\n")
print(f"| variant | runs | Δ [{params.stats.confidence:.0%} simultaneous] | verdict (margin ±{plan.margin:g}) | runs needed |")
print("|---|---|---|---|---|")
for r in table.itertuples():
    ci = f"{r.delta:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]" if pd.notna(r.ci_low) else f"{r.delta:+.4f}"
    need = "" if r.verdict != "undecided" else ("more seeds cannot decide" if r.runs_needed < 0 else f"{r.runs_needed}")
    print(f"| {r.variant} | {r.runs} | {ci} | {r.verdict} | {need} |")
