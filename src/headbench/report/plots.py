"""reports/plots/: Δ against the baseline with intervals, learning curves, predictions against truth (PNG and CSV)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from headbench.config import METRICS, QUESTIONS
from headbench.io import atomic_path, read_id_csv, write_csv
from headbench.report.comparison import needed_short
from headbench.stats.compare import BETTER, EQUIVALENT, WORSE


def _plot_verdict(r) -> str:
    need = needed_short(r)
    return f"{r.verdict}, {need}" if need else str(r.verdict)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_deltas(table: pd.DataFrame, runs: pd.DataFrame, out_dir: Path, confidence: float, margin: float,
                metric: str = "rmse") -> Path:
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
    ax.set_xlabel(f"Δ {METRICS[metric]} vs baseline (lower is better), {int(confidence * 100)}% simultaneous interval; "
                  "dotted: ±margin")
    ax.legend(fontsize=7, loc="best")
    write_csv(out_dir / "delta_vs_baseline.csv", t[["variant", "delta", "ci_low", "ci_high", "verdict", "aa_control"]])
    return _save(fig, out_dir / "delta_vs_baseline.png")


def plot_learning_curves(table: pd.DataFrame, eval_dir: Path, out_dir: Path, metric: str = "rmse") -> Path:
    """The validation score (the primary metric) against the optimiser step, each variant's mean over its runs. The
    CSV's column ``valid`` holds it, whatever the task, so that one dvc.yaml plot serves every task."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    curves = []
    for name in table["variant"]:
        h = pd.read_csv(eval_dir / name / "history.csv")
        c = h.groupby("step", as_index=False)[f"valid_{metric}"].mean().rename(columns={f"valid_{metric}": "valid"})
        ax.plot(c["step"], c["valid"], label=name, marker=".")
        curves.append(c.assign(variant=name, metric=metric))
    ax.set_xlabel("optimiser step")
    ax.set_ylabel(f"validation {METRICS[metric]} (mean over folds, seeds; lower is better)")
    ax.legend(fontsize=7, ncol=2)
    write_csv(out_dir / "learning_curves.csv", pd.concat(curves, ignore_index=True))
    return _save(fig, out_dir / "learning_curves.png")


def _long_targets(oof: pd.DataFrame) -> pd.DataFrame:
    """Several targets' columns (target.<t>, prediction.<t>) as rows with an ``output`` column; one target as it is."""
    names = [c.removeprefix("target.") for c in oof.columns if c.startswith("target.")]
    if not names:
        return oof
    return pd.concat([oof[["id", f"target.{t}", f"prediction.{t}"]].set_axis(["id", "target", "prediction"], axis=1)
                      .assign(output=t) for t in names], ignore_index=True)


def plot_pred_vs_true(table: pd.DataFrame, eval_dir: Path, out_dir: Path) -> Path:
    """The best variant's out-of-fold predictions against the truth: per target, its predictions (mean over its runs)
    against the true values; for classes, the confusion matrix of its runs' predicted classes."""
    import matplotlib.pyplot as plt

    best = table.sort_values("oof_rmse").iloc[0]["variant"]
    oof = read_id_csv(eval_dir / best / "oof.csv")
    if any(c.startswith("proba.") for c in oof.columns):
        from sklearn.metrics import ConfusionMatrixDisplay

        fig, ax = plt.subplots(figsize=(6, 6))
        ConfusionMatrixDisplay.from_predictions(oof["target"].astype(str), oof["prediction"].astype(str), ax=ax,
                                                colorbar=False, xticks_rotation=45)
        p = oof[["id", "target", "prediction"]]
    else:
        long = _long_targets(oof)
        keys = ["id", "output"] if "output" in long.columns else ["id"]
        p = long.groupby(keys, as_index=False)[["target", "prediction"]].mean()
        outputs = p["output"].unique().tolist() if "output" in p.columns else [None]
        fig, axes = plt.subplots(1, len(outputs), figsize=(5 * len(outputs), 5), squeeze=False)
        for ax, out in zip(axes[0], outputs):
            q = p if out is None else p[p["output"] == out]
            ax.scatter(q["target"], q["prediction"], s=6, alpha=0.5)
            lo, hi = q[["target", "prediction"]].min().min(), q[["target", "prediction"]].max().max()
            ax.plot([lo, hi], [lo, hi], color="black", lw=0.8)
            ax.set_xlabel("true target" if out is None else f"true {out}")
            ax.set_ylabel("out-of-fold prediction")
    fig.suptitle(f"best variant: {best}")
    write_csv(out_dir / "pred_vs_true.csv", p.assign(variant=best))
    return _save(fig, out_dir / "pred_vs_true.png")


def plots(table: pd.DataFrame, runs: pd.DataFrame, eval_dir: str | Path, out_dir: str | Path, confidence: float,
          margin: float, metric: str = "rmse") -> list[Path]:
    """The three plots and their data as CSV (and the paired runs) in ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    eval_dir, out_dir = Path(eval_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [plot_deltas(table, runs, out_dir, confidence, margin, metric), plot_learning_curves(table, eval_dir, out_dir, metric),
               plot_pred_vs_true(table, eval_dir, out_dir)]
    if len(runs):
        write_csv(out_dir / "paired_runs.csv", runs)
    return written
