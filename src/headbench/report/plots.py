"""reports/plots/: Δ against the baseline with intervals, learning curves, predictions against truth (PNG and CSV)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from headbench.config import QUESTIONS
from headbench.io import atomic_path, read_id_csv, write_csv
from headbench.report.comparison import row_term_bounded
from headbench.stats.compare import BETTER, EQUIVALENT, NEEDS_DATA, UNDECIDED, WORSE


def _plot_verdict(r) -> str:
    if r.verdict == NEEDS_DATA:
        return f"needs more data (floor ±{r.floor:.3f})"
    if r.verdict == UNDECIDED:
        at_least = "≥ " if row_term_bounded(r) else ""
        return f"undecided, {at_least}~{int(r.runs_needed)} more runs" if r.runs_needed > 0 else "undecided"
    return str(r.verdict)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_deltas(table: pd.DataFrame, runs: pd.DataFrame, out_dir: Path, confidence: float, margin: float) -> Path:
    """Each variant's Δ with its simultaneous interval, its paired runs, its verdict, the ±margin band."""
    import matplotlib.pyplot as plt

    t = table[table["verdict"] != "baseline"].sort_values("delta").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(t) + 1.4))
    y = np.arange(len(t))
    has_ci = t["ci_low"].notna().to_numpy()
    err = np.vstack([t["delta"] - t["ci_low"], t["ci_high"] - t["delta"]])[:, has_ci]
    ax.errorbar(t["delta"][has_ci], y[has_ci], xerr=err, fmt="none", ecolor="black", capsize=3)
    if len(runs):
        pos = dict(zip(t["variant"], y))
        r = runs[runs["variant"].isin(pos)]
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(r))
        ax.scatter(r["delta"], r["variant"].map(pos) + jitter, s=10, color="tab:blue", alpha=0.5, label="one paired run (partition × fold × seed)")
    colors = t["verdict"].map({BETTER: "tab:green", WORSE: "tab:red", EQUIVALENT: "tab:blue"}).fillna("tab:gray")
    ax.scatter(t["delta"], y, c=colors, marker="D", zorder=3, label="mean over runs")
    ax.axvline(0, color="black", lw=0.8)
    for edge in (-margin, margin):
        ax.axvline(edge, color="tab:blue", lw=0.8, ls=":")
    ax.set_ylim(-0.6, len(t) - 0.4)
    ax.set_yticks(y, [f"{r.variant}{'  (A/A noise floor)' if r.aa_control else ''}  [{int(r.runs_used)} runs]" for r in t.itertuples()])
    for r, yy in zip(t.itertuples(), y):
        ax.annotate(_plot_verdict(r), (1.01, yy), xycoords=("axes fraction", "data"), va="center", fontsize=7)
    question = table.attrs.get("question", "")
    ax.set_title(f"question: {question} ({QUESTIONS.get(question, '')})", fontsize=8)
    for tick, aa in zip(ax.get_yticklabels(), t["aa_control"]):
        if aa:
            tick.set_fontweight("bold")
    ax.set_xlabel(f"Δ RMSE vs baseline (lower is better), {int(confidence * 100)}% simultaneous interval; dotted: ±margin")
    ax.legend(fontsize=7, loc="best")
    write_csv(out_dir / "delta_vs_baseline.csv", t[["variant", "delta", "ci_low", "ci_high", "verdict", "aa_control"]])
    return _save(fig, out_dir / "delta_vs_baseline.png")


def plot_learning_curves(table: pd.DataFrame, eval_dir: Path, out_dir: Path) -> Path:
    """Validation RMSE against the optimiser step, each variant's mean over its runs."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    curves = []
    for name in table["variant"]:
        h = pd.read_csv(eval_dir / name / "history.csv")
        c = h.groupby("step", as_index=False)["valid_rmse"].mean()
        ax.plot(c["step"], c["valid_rmse"], label=name, marker=".")
        curves.append(c.assign(variant=name))
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("validation RMSE (mean over folds, seeds)")
    ax.legend(fontsize=7, ncol=2)
    write_csv(out_dir / "learning_curves.csv", pd.concat(curves, ignore_index=True))
    return _save(fig, out_dir / "learning_curves.png")


def plot_pred_vs_true(table: pd.DataFrame, eval_dir: Path, out_dir: Path) -> Path:
    """The lowest-RMSE variant's out-of-fold predictions (mean over its runs) against the true target."""
    import matplotlib.pyplot as plt

    best = table.sort_values("oof_rmse").iloc[0]["variant"]
    oof = read_id_csv(eval_dir / best / "oof.csv")
    p = oof.groupby("id", as_index=False)[["target", "prediction"]].mean()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(p["target"], p["prediction"], s=6, alpha=0.5)
    lo, hi = p[["target", "prediction"]].min().min(), p[["target", "prediction"]].max().max()
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8)
    ax.set_xlabel("true target")
    ax.set_ylabel("out-of-fold prediction")
    ax.set_title(f"best variant: {best}")
    write_csv(out_dir / "pred_vs_true.csv", p.assign(variant=best))
    return _save(fig, out_dir / "pred_vs_true.png")


def plots(table: pd.DataFrame, runs: pd.DataFrame, eval_dir: str | Path, out_dir: str | Path, confidence: float,
          margin: float) -> list[Path]:
    """The three plots and their data as CSV (and the paired runs) in ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    eval_dir, out_dir = Path(eval_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [plot_deltas(table, runs, out_dir, confidence, margin), plot_learning_curves(table, eval_dir, out_dir),
               plot_pred_vs_true(table, eval_dir, out_dir)]
    if len(runs):
        write_csv(out_dir / "paired_runs.csv", runs)
    return written
