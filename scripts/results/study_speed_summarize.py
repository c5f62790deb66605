"""Summarise scripts/results/study_speed_alternating.py's study: each arm's wall time, each run's time breakdown and RMSE, and the
RMSE difference after - before over the paired runs (same variant, fold, seed), with headbench's own interval.
Usage: python scripts/results/study_speed_summarize.py TIMINGS.jsonl BEFORE_CLONE AFTER_CLONE OUT_DIR (writes summary.json and runs.csv there)."""
import json
import sys
from pathlib import Path

import pandas as pd

from headbench.stats.compare import corrected_t

timings, before, after, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
rows = pd.DataFrame([json.loads(line) for line in timings.read_text().splitlines()])
wall = rows.groupby("arm")["wall_s"].sum()


def runs(arm: str, root: Path) -> pd.DataFrame:
    out = []
    for m in sorted(root.glob("runs/*/fold*-seed*/metrics.json")):
        fold, seed = m.parent.name.removeprefix("fold").split("-seed")
        out.append({"arm": arm, "variant": m.parent.parent.name, "fold": int(fold), "seed": int(seed), **json.loads(m.read_text())})
    return pd.DataFrame(out)


per_run = pd.concat([runs("before", before), runs("after", after)], ignore_index=True)
time_cols = [c for c in per_run.columns if c.startswith("time_")]
keep = ["arm", "variant", "fold", "seed", "valid_rmse", "steps", "samples_per_s", *time_cols]
per_run[keep].to_csv(out / "runs.csv", index=False)
paired = per_run.pivot_table(index=["variant", "fold", "seed"], columns="arm", values="valid_rmse")
diff = corrected_t((paired["after"] - paired["before"]).to_numpy(), rho=1 / 5, confidence=0.95)
summary = {
    "study_wall_s": wall.round(1).to_dict(),
    "speedup": round(float(wall["before"] / wall["after"]), 3),
    "train_stage_wall_s": rows[rows.command.str.contains("train@")].groupby("arm")["wall_s"].sum().round(1).to_dict(),
    "mean_run_breakdown_s": per_run.groupby("arm")[time_cols].mean().round(2).to_dict(orient="index"),
    "eval_share_percent": (100 * per_run.groupby("arm")["time_eval_s"].sum() / per_run.groupby("arm")["time_wall_s"].sum()).round(1).to_dict(),
    "outside_train_eval_s": (per_run.groupby("arm")[["time_startup_s", "time_data_s", "time_model_s", "time_tracking_s", "time_loop_s", "time_write_s"]]
                             .mean().sum(axis=1).round(2).to_dict()),
    "rmse_mean": per_run.groupby("arm")["valid_rmse"].mean().round(4).to_dict(),
    "rmse_after_minus_before": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in diff.items()},
    "runs_per_arm": per_run.groupby("arm").size().to_dict(),
}
(out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
print(json.dumps(summary, indent=1))
