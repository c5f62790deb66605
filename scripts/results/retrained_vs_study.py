"""Runs retrained with checkpoints against the study's committed runs of the same variant, fold and seed:

    python scripts/results/retrained_vs_study.py RETRAINED_RUNS docs/results/study5 OUT.json

RETRAINED_RUNS is a runs/ folder (runs/<variant>/[split<p>-]fold<k>-seed<s>/ with model.safetensors). For each run: rows, the
largest prediction difference against the committed oof.csv, both validation RMSEs and the checkpoint's size.
"""
import json
import sys
from pathlib import Path

import pandas as pd

retrained, study, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
rows = []
for run in sorted(retrained.glob("*/*fold*-seed*")):
    committed = study / "runs" / run.parent.name / run.name
    a = pd.read_csv(run / "oof.csv", dtype={"id": str})
    b = pd.read_csv(committed / "oof.csv", dtype={"id": str})
    m = a.merge(b, on="id", suffixes=("_retrained", "_study"))
    rows.append({"run": f"{run.parent.name}/{run.name}", "rows": len(a), "rows_matched": len(m),
                 "max_abs_prediction_diff": float((m.prediction_retrained - m.prediction_study).abs().max()),
                 "valid_rmse_retrained": json.loads((run / "metrics.json").read_text())["valid_rmse"],
                 "valid_rmse_study": json.loads((committed / "metrics.json").read_text())["valid_rmse"],
                 "checkpoint_mb": (run / "model.safetensors").stat().st_size / 2**20})
out.write_text(json.dumps({"runs": rows, "checkpoints_total_mb": sum(r["checkpoint_mb"] for r in rows)}, indent=1) + "\n")
print(json.dumps(rows, indent=1))
