"""Where a finished default `dvc repro` spent its time: every train stage's own metrics.json summed, beside the
run's wall time read from the `time dvc repro` log.

    python scripts/results/default_run_times.py CLONE REPRO_LOG --commit SHA --out docs/results/default_run/time_breakdown.json
"""
import argparse
import json
import re
from pathlib import Path

import pandas as pd


def wall_seconds(log: str) -> float:
    """`real 12m34.567s` (bash's `time`) -> seconds."""
    m = re.search(r"^real\s+(\d+)m([\d.]+)s", log, re.M)
    if m is None:
        raise SystemExit("no `real XmY.Zs` line from `time` in the log")
    return int(m.group(1)) * 60 + float(m.group(2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clone", type=Path, help="the checkout where `dvc repro` ran")
    ap.add_argument("log", type=Path, help="the output of `time dvc repro`")
    ap.add_argument("--commit", required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    runs = pd.DataFrame([json.loads(p.read_text()) for p in sorted((args.clone / "runs").glob("*/*/metrics.json"))])
    times = runs[[c for c in runs.columns if c.startswith("time_")]]
    wall = wall_seconds(args.log.read_text())
    in_stages = float(times["time_wall_s"].sum())
    out = {
        "runs": len(runs),
        "mean_s": times.mean().round(2).to_dict(),
        "sum_s": times.sum().round(1).to_dict(),
        "train_stages_wall_s": round(in_stages, 1),
        "dvc_repro_wall_s": wall,
        "outside_train_stages_s": round(wall - in_stages, 1),
        "command": f"fresh clone of {args.commit}; python3 -m venv .venv && . .venv/bin/activate && ./setup.sh; time dvc repro",
        "made_by": "python scripts/results/default_run_times.py CLONE LOG (the per-run metrics.json under runs/, summed)",
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
