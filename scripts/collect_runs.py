"""Commit-sized copies of a study's finished runs, and its table rebuilt from them alone.

A study trains in its own clone (pinned commit, several worktrees); the DVC run-cache stays on that machine. This
copies each finished run's metrics.json, history.csv, model.json and oof.csv (predictions without the target column:
the data is never committed; rejoin it by id) into DEST/runs/<variant>/split<p>-fold<k>-seed<s>/, then judges every
variant from the runs' out-of-fold predictions (the target rejoined from data.path) with the study's frozen params:

    python scripts/collect_runs.py docs/results/study6 /work/study6 /work/study6/.dvc/tmp/workers/w*   # copy + judge
    python scripts/collect_runs.py docs/results/study6                                                # judge only

DEST/params.yaml is the study's params (frozen question, margin and rounds). Writes DEST/paired_runs.csv,
DEST/comparison.csv and DEST/comparison.md (runs still missing leave their variants open or not enough runs).
Studies before the partition design (study5 and older) use the layout fold<k>-seed<s>: judge them with the
scripts of their own commit, or post hoc with scripts/results/rejudge_study5.py.
"""
import argparse
import json
import shutil
from pathlib import Path

import pandas as pd

from headbench.config import load_params
from headbench.data.table import load_dataset
from headbench.report.comparison import needed_short
from headbench.stats.compare import compare_oof, study_design


def copy_runs(dest: Path, sources: list[Path]) -> int:
    """Each finished run of ``sources``' runs/ not yet in DEST/runs/, without the target column; how many."""
    params = load_params(dest / "params.yaml")
    copied = 0
    for src in sources:
        for d in sorted((src / params.paths.runs).glob("*/split*-fold*-seed*")):
            out = dest / "runs" / d.parent.name / d.name
            if not (d / "metrics.json").is_file() or d.parent.name not in params.variants or (out / "metrics.json").is_file():
                continue
            out.mkdir(parents=True, exist_ok=True)
            for name in ("metrics.json", "history.csv", "model.json"):
                shutil.copy(d / name, out / name)
            oof = pd.read_csv(d / "oof.csv", dtype={"id": str}, keep_default_na=False)
            oof.drop(columns=target_names(oof)).to_csv(out / "oof.csv", index=False)
            copied += 1
    return copied


def target_names(oof: pd.DataFrame) -> list[str]:
    """The target columns of a run's oof.csv: ``target`` (one target, or the class label) or ``target.<name>`` each."""
    return [c for c in oof.columns if c == "target" or c.startswith("target.")]


def targets_as_written(data: pd.DataFrame, task: str = "regression") -> pd.DataFrame:
    """Each id's targets as the train stage wrote them into oof.csv: a class label as read, a number fitted as float32
    and written back as float64."""
    cols = target_names(data)
    out = data[cols].to_numpy() if task == "classification" else data[cols].to_numpy("float32").astype("float64")
    return pd.DataFrame(out, columns=cols, index=data["id"].astype(str))


def with_targets(oof: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """A committed oof.csv (no target) with its targets rejoined by id, in the train stage's column order."""
    key = ["id", "split", "fold", "seed"]
    joined = targets.loc[oof["id"]].reset_index(drop=True)
    return pd.concat([oof[key].reset_index(drop=True), joined, oof.drop(columns=key).reset_index(drop=True)], axis=1)


def run_walls(dest: Path) -> pd.Series:
    """The wall time of each committed run (seconds; a pause while it ran is in it)."""
    return pd.Series([json.loads(f.read_text())["time_wall_s"] for f in (dest / "runs").glob("*/split*/metrics.json")])


def cpu_hours(walls: pd.Series) -> float:
    """A study's CPU-hours: its runs at the median one-thread run, which pauses do not move."""
    return len(walls) * walls.median() / 3600


def committed_oofs(dest: Path) -> tuple:
    """(params, data, {variant: out-of-fold predictions of its committed runs, the targets rejoined by id})."""
    params = load_params(dest / "params.yaml")
    data = load_dataset(params.data, task=params.task.type)
    targets = targets_as_written(data, params.task.type)
    oofs = {}
    for v in params.variants:
        files = sorted((dest / "runs" / v).glob("split*-fold*-seed*/oof.csv"))
        if files:
            oof = pd.concat([pd.read_csv(f, dtype={"id": str}, keep_default_na=False) for f in files], ignore_index=True)
            oofs[v] = with_targets(oof, targets)
    return params, data, oofs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dest", type=Path)
    ap.add_argument("sources", type=Path, nargs="*", help="checkouts whose runs/ to copy from")
    args = ap.parse_args()
    print(f"copied {copy_runs(args.dest, args.sources)} new runs into {args.dest / 'runs'}")
    params, data, oofs = committed_oofs(args.dest)
    if params.stats.baseline not in oofs:
        raise SystemExit(f"{args.dest / 'runs'}: no finished run of the baseline yet")
    groups = data.set_index("id")["group"] if "group" in data else None
    table, paired = compare_oof(oofs, params.stats.baseline, study_design(params), params.splits, groups)
    paired.to_csv(args.dest / "paired_runs.csv", index=False)
    table.to_csv(args.dest / "comparison.csv", index=False)
    lines = [f"Question: {params.stats.question}", "",
             f"| variant | runs | runs used | round | Δ [{params.stats.confidence:.0%} simultaneous] | verdict (margin "
             f"±{params.stats.margin:g}) | status | runs needed or floor |",
             "|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        ci = f"{r.delta:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]" if pd.notna(r.ci_low) else ("—" if pd.isna(r.delta) else f"{r.delta:+.4f}")
        rnd = r.round if r.runs else "—"
        lines.append(f"| {r.variant} | {r.runs} | {r.runs_used} | {rnd} | {ci} | {r.verdict} | {r.status} | {needed_short(r)} |")
    walls = run_walls(args.dest)
    lines += ["", f"Cost: {len(walls)} runs, {cpu_hours(walls):.2f} CPU-hours at the median {walls.median():.0f} s "
                  f"per one-thread run ({walls.sum() / 3600:.2f} summed over the runs' wall times, which hold any pause)."]
    (args.dest / "comparison.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
