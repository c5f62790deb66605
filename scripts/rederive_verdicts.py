"""Re-judge a committed one-fold study (docs/results/<name>/metrics/*.json) with the run-level statistics.

Those studies trained fold 0 only, so each seed's OOF RMSE is one run's RMSE and the runs pair by seed.
Writes <study dir>/verdicts.json and paired_runs.csv and prints a Markdown table. Usage:
    python scripts/rederive_verdicts.py docs/results/seeds [--n-folds 5] [--multiplicity holm]
"""
import argparse
import json
from pathlib import Path

import pandas as pd

from headbench.stats import MIN_RUNS, compare_runs

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("study", type=Path)
ap.add_argument("--baseline", default="baseline")
ap.add_argument("--n-folds", type=int, default=5, help="K of the K-fold split the runs came from (rho = 1/K)")
ap.add_argument("--confidence", type=float, default=0.95)
ap.add_argument("--multiplicity", default="holm")
args = ap.parse_args()

rmses = {}
for path in sorted((args.study / "metrics").glob("*.json")):
    per_seed = json.loads(path.read_text())["oof_rmse_per_seed"]  # fold 0 only: each seed's OOF RMSE is one run's
    rmses[path.stem] = pd.Series(per_seed.values(), index=pd.MultiIndex.from_tuples([(0, int(s)) for s in per_seed],
                                                                                  names=["fold", "seed"]))
table, paired = compare_runs(rmses, args.baseline, 1 / args.n_folds, args.confidence, args.multiplicity)
out = {r.variant: {k: (None if pd.isna(v) else v) for k, v in r._asdict().items() if k not in ("Index", "variant")}
       for r in table.itertuples()}
(args.study / "verdicts.json").write_text(json.dumps(out, indent=2) + "\n")
paired.to_csv(args.study / "paired_runs.csv", index=False)
print(f"| variant | runs | per-run Δ | Δ [{args.confidence:.0%} CI] | p ({args.multiplicity}) | verdict |")
print("|---|---|---|---|---|---|")
for r in table.itertuples():
    d = " / ".join(f"{x:+.4f}" for x in paired.loc[paired.variant == r.variant, "delta"])
    ci = f"{r.delta:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]" if r.runs >= MIN_RUNS else f"{r.delta:+.4f}"
    p = f"{r.p_adjusted:.3f}" if r.runs >= MIN_RUNS else ""
    print(f"| {r.variant} | {r.runs} | {d} | {ci} | {p} | {r.verdict} |")
