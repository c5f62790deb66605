"""How optimistic is choosing each run's best evaluation on the rows it is scored on (Kaggle style)?

Reads runs trained with frequent evaluations (history.csv: validation RMSE at each evaluation, the final step
included) and reports, per run, the selected RMSE (best evaluation) against the honest one (the final model),
with the mean difference and its t interval over runs. Usage:
    python scripts/results/optimism.py RUN_DIR [RUN_DIR ...] [--out optimism.json]
"""
import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("runs", nargs="+", type=Path)
ap.add_argument("--out", type=Path)
args = ap.parse_args()

rows = []
for d in args.runs:
    h = pd.read_csv(d / "history.csv")
    best = h.loc[h["valid_rmse"].idxmin()]
    rows.append({"run": d.name, "evaluations": len(h), "final_step": int(h["step"].iloc[-1]), "final_rmse": float(h["valid_rmse"].iloc[-1]),
                 "best_step": int(best["step"]), "selected_rmse": float(best["valid_rmse"])})
t = pd.DataFrame(rows)
gap = (t["final_rmse"] - t["selected_rmse"]).to_numpy()
res = {"runs": rows, "mean_optimism": float(gap.mean())}
if len(gap) >= 2:
    half = float(sps.t.ppf(0.975, len(gap) - 1) * gap.std(ddof=1) / np.sqrt(len(gap)))
    res["ci95"] = [float(gap.mean()) - half, float(gap.mean()) + half]
print(t.to_string(index=False))
print(json.dumps({k: v for k, v in res.items() if k != "runs"}))
if args.out:
    args.out.write_text(json.dumps(res, indent=2) + "\n")
