"""The comparison against the baseline: summary metrics, Markdown table, plots."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from headbench.config import Params, ParamError, Variant
from headbench.io import atomic_path, write_csv, write_json, write_text
from headbench.stats import paired_delta, prediction_matrix, verdict


def describe_options(v: Variant) -> str:
    opts = [f"{k}={val}" for k, val in v.head_options.items()]
    if v.llrd is not None:
        opts.append(f"llrd={v.llrd}")
    if v.reinit_layers:
        opts.append(f"reinit={v.reinit_layers}")
    if v.encoder_dropout is not None:
        opts.append(f"encoder_dropout={v.encoder_dropout}")
    return ", ".join(opts) or "-"


def compare(params: Params, metrics_dir: str | Path, eval_dir: str | Path) -> pd.DataFrame:
    base = params.stats.baseline
    oofs, rows = {}, []
    for name in params.variants:
        path = Path(eval_dir) / name / "oof.csv"
        if not path.is_file():
            raise ParamError(f"{path}: missing; run the evaluate stage for variant {name!r} (`dvc repro`)")
        oofs[name] = pd.read_csv(path, dtype={"id": str})
    ids = np.sort(oofs[base].loc[oofs[base]["seed"] == oofs[base]["seed"].iloc[0], "id"].to_numpy())
    target = oofs[base].drop_duplicates("id").set_index("id").loc[ids, "target"].to_numpy()
    pred_base = prediction_matrix(oofs[base], ids)
    st = params.stats
    for name, v in params.variants.items():
        m = json.loads((Path(metrics_dir) / f"{name}.json").read_text())
        row = {"variant": name, "head": v.head, "options": describe_options(v), "oof_rmse": m["oof_rmse"],
               "oof_rmse_std_seeds": m["oof_rmse_std_seeds"], "seeds": m["seeds"], "fold_rmse_std": m["fold_rmse_std"],
               "train_seconds": m["train_seconds"], "fold_rmse": m["fold_rmse"]}
        if name == base:
            row.update(delta=0.0, ci_low=0.0, ci_high=0.0, verdict="baseline")
        else:
            d = paired_delta(prediction_matrix(oofs[name], ids), pred_base, target, st.n_resamples, st.confidence, st.seed)
            row.update(d, verdict=verdict(d["ci_low"], d["ci_high"]))
        rows.append(row)
    return pd.DataFrame(rows)


def summary_metrics(table: pd.DataFrame) -> dict:
    """Flat, stable keys (variant -> figure) so that `dvc exp show` / `dvc metrics diff` stay readable."""
    out = {}
    for r in table.itertuples():
        out[r.variant] = {"oof_rmse": round(r.oof_rmse, 6), "delta_vs_baseline": round(r.delta, 6),
                          "ci_low": round(r.ci_low, 6), "ci_high": round(r.ci_high, 6),
                          "fold_rmse_std": round(r.fold_rmse_std, 6), "train_seconds": round(r.train_seconds, 1)}
    return out


def markdown(table: pd.DataFrame, confidence: float, baseline: str) -> str:
    pct = int(round(confidence * 100))
    lines = [
        f"| variant | head | options | OOF RMSE (mean ± std over seeds) | Δ vs {baseline} [{pct}% CI] | verdict | per-fold RMSE | train time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.sort_values("oof_rmse").itertuples():
        delta = "—" if r.verdict == "baseline" else f"{r.delta:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]"
        folds = " / ".join(f"{v:.3f}" for v in r.fold_rmse.values())
        lines.append(f"| {r.variant} | {r.head} | {r.options} | {r.oof_rmse:.4f} ± {r.oof_rmse_std_seeds:.4f} (n={r.seeds}) "
                     f"| {delta} | {r.verdict} | {folds} | {r.train_seconds / 60:.1f} min |")
    note = (f"\nΔ < 0 is better. The CI is a paired bootstrap over rows (same resample for both variants), "
            f"averaged over seeds; a verdict is 'better'/'worse' only when the whole {pct}% CI is below/above 0.\n")
    return "\n".join(lines) + "\n" + note


def plots(table: pd.DataFrame, eval_dir: str | Path, out_dir: str | Path, confidence: float) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name):
        with atomic_path(out_dir / name) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(out_dir / name)

    t = table.sort_values("delta")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(t) + 1.2))
    err = np.vstack([t["delta"] - t["ci_low"], t["ci_high"] - t["delta"]])
    colors = t["verdict"].map({"better": "tab:green", "worse": "tab:red"}).fillna("tab:gray")
    ax.errorbar(t["delta"], np.arange(len(t)), xerr=err, fmt="none", ecolor="black", capsize=3)
    ax.scatter(t["delta"], np.arange(len(t)), c=colors, zorder=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(np.arange(len(t)), t["variant"])
    ax.set_xlabel(f"Δ OOF RMSE vs baseline (lower is better), {int(confidence * 100)}% paired bootstrap CI")
    save(fig, "delta_vs_baseline.png")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    curves = []
    for name in table["variant"]:
        h = pd.read_csv(Path(eval_dir) / name / "history.csv")
        c = h.groupby("step", as_index=False)["valid_rmse"].mean()
        ax.plot(c["step"], c["valid_rmse"], label=name, marker=".")
        curves.append(c.assign(variant=name))
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("validation RMSE (mean over folds, seeds)")
    ax.legend(fontsize=7, ncol=2)
    save(fig, "learning_curves.png")
    write_csv(out_dir / "learning_curves.csv", pd.concat(curves, ignore_index=True))

    best = table.sort_values("oof_rmse").iloc[0]["variant"]
    oof = pd.read_csv(Path(eval_dir) / best / "oof.csv")
    p = oof.groupby("id", as_index=False)[["target", "prediction"]].mean()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(p["target"], p["prediction"], s=6, alpha=0.5)
    lo, hi = p[["target", "prediction"]].min().min(), p[["target", "prediction"]].max().max()
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8)
    ax.set_xlabel("true target")
    ax.set_ylabel("out-of-fold prediction")
    ax.set_title(f"best variant: {best}")
    save(fig, "pred_vs_true.png")
    write_csv(out_dir / "pred_vs_true.csv", p.assign(variant=best))
    write_csv(out_dir / "delta_vs_baseline.csv", t[["variant", "delta", "ci_low", "ci_high", "verdict"]])
    return written


def aggregate(params: Params, metrics_dir, eval_dir, summary_path, report_path, plots_dir) -> tuple[pd.DataFrame, str]:
    table = compare(params, metrics_dir, eval_dir)
    md = markdown(table, params.stats.confidence, params.stats.baseline)
    plots(table, eval_dir, plots_dir, params.stats.confidence)
    write_text(report_path, "# headbench comparison\n\n" + md)
    write_json(summary_path, summary_metrics(table))
    return table, md
