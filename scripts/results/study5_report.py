"""The 5-fold study's cost and its comparisons, from the committed runs alone (after scripts/collect_runs.py):

    python scripts/results/study5_report.py docs/results/study5 docs/results/runlevel

Writes into the study folder:
- cost.json: runs trained and CPU-hours, per variant and in all, against the fixed design of every variant on every
  fold at all 3 seeds. Each run has one core to itself, so its wall time is its core time; a run is priced at its
  variant's median wall time, because the workers were paused now and then while other work timed the machine,
  which stretched a few runs' wall clocks (the plain sum of wall times is given too);
- claims.csv: the Kaggle write-up's one-split claims against the study's interval and verdict;
- vs_3fold.csv: each variant's Δ and verdict here against the 3-fold study, and how far the runs they share
  (same variant, fold and seed) moved between the two code versions.
"""
import argparse
import json
import subprocess
from pathlib import Path

import pandas as pd

from headbench.config import load_params

# The write-up's best validation RMSE minus its [CLS] baseline's (0.5299), one split, one run each.
CLAIMS = {"conv1d": -0.037, "lstm": -0.025, "cat4": -0.006, "reinit1": -0.002, "max": +0.023, "llrd": +0.005}
# variant names of the 3-fold study (docs/results/runlevel) for this study's
OLD_NAMES = {"aa": "baseline_aa", "meanmax": "mean_max", "cat4": "concat4", "wlayers": "weighted_layers",
             "attn": "attention"}


def run_table(runs: Path) -> pd.DataFrame:
    rows = []
    for m in sorted(runs.glob("*/fold*-seed*/metrics.json")):
        fold, seed = m.parent.name.removeprefix("fold").split("-seed")
        d = json.loads(m.read_text())
        rows.append({"variant": m.parent.parent.name, "fold": int(fold), "seed": int(seed), "rmse": d["valid_rmse"],
                     "wall_s": d.get("time_wall_s")})
    return pd.DataFrame(rows)


def cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "unknown")


def cost(runs: pd.DataFrame, params) -> dict:
    n_fixed = len(params.cv.folds) * len(params.seed_order)
    per = {}
    for v, g in runs.groupby("variant"):
        run_s = g["wall_s"].median()
        per[v] = {"runs": len(g), "median_run_minutes": run_s / 60, "cpu_hours": len(g) * run_s / 3600,
                  "wall_sum_hours": g["wall_s"].sum() / 3600, "fixed_runs": n_fixed, "fixed_cpu_hours": n_fixed * run_s / 3600}
    total = {k: sum(p[k] for p in per.values()) for k in ("runs", "cpu_hours", "wall_sum_hours", "fixed_runs", "fixed_cpu_hours")}
    total["saving_ratio"] = total["fixed_cpu_hours"] / total["cpu_hours"]
    return {"cpu": cpu_model(), "cores_per_run": 1, "workers": 2,
            "fixed_design": f"every variant on folds {params.cv.folds} x seeds {params.seed_order}",
            "total": total, "per_variant": per}


def claims(table: pd.DataFrame, margin: float) -> pd.DataFrame:
    rows = []
    for v, claim in CLAIMS.items():
        r = table.set_index("variant").loc[v]
        inside = bool(r.ci_low <= claim <= r.ci_high) if pd.notna(r.ci_low) else None
        if inside is False:  # the simultaneous interval rejects the claimed difference itself
            reading = "contradicts the claimed size (outside the interval)"
        elif r.verdict == "better":
            reading = "confirms" if claim < 0 else "contradicts"
        elif r.verdict == "worse":
            reading = "confirms" if claim > 0 else "contradicts"
        elif r.verdict == "equivalent":
            reading = "confirms (a difference under the margin)" if abs(claim) < margin else "contradicts (no difference worth having)"
        else:
            reading = "cannot decide"
        rows.append({"variant": v, "claim": claim, "delta": r.delta, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "claim_inside_interval": inside, "verdict": r.verdict, "reading": reading})
    return pd.DataFrame(rows)


def vs_3fold(table: pd.DataFrame, runs: pd.DataFrame, old: Path) -> pd.DataFrame:
    old_table = pd.DataFrame.from_dict(json.loads((old / "rejudged.json").read_text()), orient="index")
    old_runs = run_table(old / "runs")
    rows = []
    for r in table.itertuples():
        name = OLD_NAMES.get(r.variant, r.variant)
        o = old_table.loc[name] if name in old_table.index else None
        shared = runs[runs.variant == r.variant].merge(old_runs[old_runs.variant == name], on=["fold", "seed"], suffixes=("", "_old"))
        rows.append({"variant": r.variant, "delta_5fold": r.delta, "ci_low_5fold": r.ci_low, "ci_high_5fold": r.ci_high,
                     "verdict_5fold": r.verdict,
                     "delta_3fold": None if o is None else o["delta"], "ci_low_3fold": None if o is None else o["ci_low"],
                     "ci_high_3fold": None if o is None else o["ci_high"], "verdict_3fold": None if o is None else o["verdict"],
                     "shared_runs": len(shared),
                     "max_abs_rmse_change_shared": (shared["rmse"] - shared["rmse_old"]).abs().max() if len(shared) else None})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study", type=Path)
    ap.add_argument("three_fold", type=Path)
    args = ap.parse_args()
    params = load_params(args.study / "params.yaml")
    runs = run_table(args.study / "runs")
    table = pd.read_csv(args.study / "comparison.csv")
    c = cost(runs, params)
    (args.study / "cost.json").write_text(json.dumps(c, indent=1) + "\n")
    claims(table, params.stats.margin).to_csv(args.study / "claims.csv", index=False)
    vs_3fold(table, runs, args.three_fold).to_csv(args.study / "vs_3fold.csv", index=False)
    t = c["total"]
    print(f"{t['runs']} runs, {t['cpu_hours']:.1f} CPU-hours on {c['cpu']}; the fixed design: {t['fixed_runs']} runs, "
          f"{t['fixed_cpu_hours']:.1f} CPU-hours ({t['saving_ratio']:.2f}x)")
    print(pd.read_csv(args.study / "claims.csv").to_string(index=False))
    print(pd.read_csv(args.study / "vs_3fold.csv").to_string(index=False))


if __name__ == "__main__":
    main()
