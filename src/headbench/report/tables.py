"""The comparison against the baseline: summary metrics, Markdown table, plots."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from headbench.config import FIGURE_KEYS, QUESTIONS, SUMMARY_KEYS, Params, Variant
from headbench.errors import StudyError
from headbench.io import atomic_path, read_id_csv, write_csv, write_json, write_text
from headbench.stats.compare import (BETTER, EQUIVALENT, MIN_UNITS, NEEDS_DATA, TOO_FEW, UNDECIDED, WORSE, compare_oof,
                                     study_design)
from headbench.stats.verdict import ROW_TERM_KINDS


def describe_options(v: Variant) -> str:
    opts = [f"{k}={val}" for k, val in v.head_options.items()]
    if v.llrd is not None:
        opts.append(f"llrd={v.llrd}")
    if v.reinit_layers:
        opts.append(f"reinit={v.reinit_layers}")
    if v.encoder_dropout is not None:
        opts.append(f"encoder_dropout={v.encoder_dropout}")
    return ", ".join(opts) or "-"


def aa_controls(params: Params) -> list[str]:
    """Variants that are the baseline's recipe with other seeds: their rows are the study's noise floor."""
    base = params.variants[params.stats.baseline]
    same = lambda v: replace(v, name=base.name, seed_offset=base.seed_offset) == base
    return [n for n, v in params.variants.items() if n != base.name and v.seed_offset != base.seed_offset and same(v)]


def compare(params: Params, eval_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per variant (the baseline included) and the paired runs behind each difference."""
    base = params.stats.baseline
    oofs = {}
    for name in params.variants:
        path = Path(eval_dir) / name / "oof.csv"
        if not path.is_file():
            raise StudyError(f"{path}: missing; run the evaluate stage for variant {name!r} (`dvc repro`)")
        oofs[name] = read_id_csv(path)
    groups = None
    if params.data.group_col:
        from headbench.data.table import load_dataset

        groups = load_dataset(params.data).set_index("id")["group"]
    deltas, runs = compare_oof(oofs, base, study_design(params), params.splits, groups)
    aa = set(aa_controls(params))
    rows = []
    for name, v in params.variants.items():
        m = json.loads((Path(eval_dir) / name / "summary.json").read_text())
        rows.append({"variant": name, "head": v.head, "options": describe_options(v), "oof_rmse": m["oof_rmse"],
                     "oof_rmse_std_run_sets": m["oof_rmse_std_run_sets"], "run_sets": m["run_sets"], "fold_rmse_std": m["fold_rmse_std"],
                     "train_seconds": m["train_seconds"], "fold_rmse": m["fold_rmse"], "aa_control": name in aa,
                     **{f"{lap}_seconds": m.get("time_s", {}).get(lap, np.nan) for lap in ("wall", "eval")}})
    table = pd.DataFrame(rows).merge(deltas, on="variant", how="left")
    is_base = table["variant"] == base
    table.loc[is_base, ["delta", "ci_low", "ci_high"]] = 0.0
    table.loc[is_base, "verdict"] = "baseline"
    table.loc[is_base, ["runs_needed", "negligible"]] = [0, False]
    table.attrs["question"] = params.stats.question
    return table, runs


def aa_warnings(table: pd.DataFrame) -> list[str]:
    bad = table[table["aa_control"] & table["verdict"].isin([BETTER, WORSE])]
    return [f"WARNING: the A/A control {r.variant!r} (the baseline's recipe, other seeds) was called {r.verdict!r}: "
            f"this study's noise is larger than its statistics assume; trust none of its verdicts" for r in bad.itertuples()]


def marked_delta(delta: float, verdict: str) -> str:
    """A variant's Δ and verdict in one short cell: Δ RMSE in thousandths with its sign, ``*`` when called (better
    when negative, worse when positive), ``=`` when equivalent (no difference beyond ±margin), ``?`` when there are
    too few runs for a verdict, ``~`` when more runs cannot decide on this many rows (needs more data), no mark while
    undecided. -31* reads "0.031 lower RMSE than the baseline, called
    better"; +4= reads "0.004 higher, equivalent"; +4 reads "0.004 higher, undecided"."""
    if pd.isna(delta):
        return "?"
    mark = {BETTER: "*", WORSE: "*", EQUIVALENT: "=", TOO_FEW: "?", NEEDS_DATA: "~"}.get(verdict, "")
    return f"{round(1000 * float(delta)):+d}{mark}"


def summary_metrics(table: pd.DataFrame) -> dict:
    """The study in few, short columns, for `dvc exp show` and `dvc metrics diff` (and the aggregate MLflow run, same
    names).

    First (plain `dvc exp show` lists metrics in file order), one column per compared variant, named after it: its
    Δ and verdict (`marked_delta`), so a 120-column terminal shows twelve variants' verdicts side by side.
    Study-wide: ``question`` (what the verdicts answer: stats.question), ``better`` / ``worse`` / ``equivalent`` (the variants called so, best first, or "-"), ``aa_verdict``
    (the A/A control's verdict: better or worse means the study's noise is underestimated) and ``runs`` (paired
    runs per variant used by its verdict, the fewest). Then by figure, per variant: ``rmse.<v>`` (OOF), and for all but the baseline
    ``delta.<v>`` (mean paired difference) and ``pm.<v>`` (half-width of its simultaneous interval: delta ± pm).
    Verdicts are adjusted for the variants and rounds. The rest (standard errors, the row term, the floor, runs
    needed, per-fold RMSE, times) is in reports/comparison.csv."""
    t = table.sort_values("delta")
    named = lambda verdict: ", ".join(t.loc[t["verdict"] == verdict, "variant"]) or "-"
    aa = table.loc[table["aa_control"], "verdict"]
    compared_rows = table[table["verdict"] != "baseline"]
    compared = compared_rows["runs_used"]
    study = (table.attrs.get("question", "-"), named(BETTER), named(WORSE), named(EQUIVALENT), ", ".join(aa) if len(aa) else "-",
             int(compared.min()) if len(compared) and compared.notna().all() else 0)
    out = {r.variant: marked_delta(r.delta, r.verdict) for r in compared_rows.itertuples()}
    out.update(zip(SUMMARY_KEYS, study, strict=True))
    figures = variant_figures(table)
    for figure in FIGURE_KEYS:
        out[figure] = {v: f[figure] for v, f in figures.items() if figure in f}
    return out


def variant_figures(table: pd.DataFrame) -> dict[str, dict]:
    """Each variant's own figures (rmse; delta, pm and verdict for all but the baseline): its MLflow parent run's."""
    r6 = lambda x: None if pd.isna(x) else round(float(x), 6)
    out = {}
    for r in table.itertuples():
        out[r.variant] = {"rmse": r6(r.oof_rmse)}
        if r.verdict != "baseline":
            out[r.variant].update(delta=r6(r.delta), pm=r6((r.ci_high - r.ci_low) / 2), verdict=r.verdict,
                                  runs=int(r.runs_used), round=int(r.round), runs_needed=int(r.runs_needed),
                                  floor=r6(r.floor))
    return out


DETAIL_COLUMNS = ["variant", "head", "options", "aa_control", "oof_rmse", "oof_rmse_std_run_sets", "run_sets", "runs",
                  "runs_used", "round", "status", "delta", "se", "persistent_se", "df", "ci_low", "ci_high", "verdict",
                  "negligible", "floor", "row_term", "runs_needed", "train_seconds", "eval_seconds", "wall_seconds"]


def detail(table: pd.DataFrame) -> pd.DataFrame:
    """Every figure of the comparison, one row per variant (reports/comparison.csv)."""
    folds = pd.DataFrame([{f"fold{k}_rmse": v for k, v in r.items()} for r in table["fold_rmse"]], index=table.index)
    return pd.concat([table[DETAIL_COLUMNS], folds], axis=1)


def _time(r) -> str:
    """The runs' wall time with the shares of training and evaluation; runs from before the time breakdown
    existed have training time only."""
    if pd.isna(r.wall_seconds) or r.wall_seconds <= 0:
        return f"{r.train_seconds / 60:.1f} min training"
    return f"{r.wall_seconds / 60:.1f} min ({r.train_seconds / r.wall_seconds:.0%}, {r.eval_seconds / r.wall_seconds:.0%})"


def _verdict_cell(r) -> str:
    if r.verdict == EQUIVALENT and r.negligible:
        return f"equivalent ({'better' if r.delta < 0 else 'worse'}, but within ±margin)"
    if r.verdict == UNDECIDED and r.status == "open":
        return f"undecided (open after round {int(r.round)})"
    if r.verdict == UNDECIDED and r.status.endswith("futile"):
        return f"undecided (stopped in round {int(r.round)}: no verdict likely within the budget)"
    return r.verdict


def _needed_cell(r, n_folds: int, n_seeds: int = 1) -> str:
    if r.verdict == NEEDS_DATA:
        return f"needs more data: ±{r.floor:.4f} is the floor more runs cannot go below"
    if r.verdict != UNDECIDED:
        return ""
    if r.runs_needed < 0:
        return "more runs are unlikely to decide"
    per_partition = max(n_folds * n_seeds, 1)
    seeds = f" × {n_seeds} seeds" if n_seeds > 1 else ""
    at_least = "at least " if _row_term_bounded(r) else ""   # projected without the row term, not yet estimated
    return f"{at_least}~{int(r.runs_needed)} more ({int(r.runs_needed) // per_partition} partitions × {n_folds} folds{seeds})"


def _row_term_bounded(r) -> bool:
    return getattr(r, "row_term", None) == ROW_TERM_KINDS[-1]


def markdown(table: pd.DataFrame, params: Params) -> str:
    st = params.stats
    pct = int(round(st.confidence * 100))
    rounds = len(params.splits)
    adj = {"bonferroni": f"Bonferroni over {len(params.variants) - 1} variants × {rounds} round(s)",
           "none": f"Bonferroni over {rounds} round(s) only"}[st.multiplicity]
    optimistic = params.train.checkpoint == "best_on_valid"
    rmse_head = "OOF RMSE (optimistic)" if optimistic else "OOF RMSE"
    lines = [
        f"Question: **{st.question}** ({QUESTIONS[st.question]})",
        "",
        f"| variant | head | options | {rmse_head} (mean ± std over partitions × seeds) | runs used | round | Δ vs {st.baseline} "
        f"[{pct}% simultaneous interval] | verdict (margin ±{st.margin:g}) | runs needed or floor | per-fold RMSE | time: runs' wall (training, evaluation) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.sort_values("oof_rmse").itertuples():
        name = f"{r.variant} (A/A)" if r.aa_control else r.variant
        if r.verdict == "baseline":
            delta, runs, rnd = "—", "", ""
        elif r.verdict == TOO_FEW:
            delta, runs, rnd = (f"{r.delta:+.4f}" if pd.notna(r.delta) else "—"), f"{int(r.runs)}", ""
        else:
            delta, runs, rnd = f"{r.delta:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]", f"{int(r.runs_used)}", f"{int(r.round)} of {rounds}"
        folds = " / ".join(f"{v:.3f}" for v in r.fold_rmse.values())
        verdict = "baseline" if r.verdict == "baseline" else _verdict_cell(r)
        needed = "" if r.verdict == "baseline" else _needed_cell(r, len(params.cv.folds), len(params.seeds))
        lines.append(f"| {name} | {r.head} | {r.options} | {r.oof_rmse:.4f} ± {r.oof_rmse_std_run_sets:.4f} (n={r.run_sets}) | {runs} "
                     f"| {rnd} | {delta} | {verdict} | {needed} | {folds} | {_time(r)} |")
    persistent = ("the row-sampling term τ²/N (the rows are one sample of their population; more runs do not shrink it)"
                  if st.question == "new_rows" else
                  "the corrected repeated-CV overlap term s²/(K−1) (Bouckaert & Frank; more runs do not shrink it)")
    note = [
        "",
        f"Δ < 0 is better (lower RMSE): the mean over units (one fold of one partition) of RMSE(variant) − RMSE({st.baseline}) "
        f"on the fold's rows, with the same run seed on both sides. Each round is a fresh {params.cv.n_folds}-fold partition. "
        f"Each interval is a t interval at the variant's own variance and degrees of freedom, plus {persistent}. With {adj}, "
        f"all intervals cover their true differences together with probability ≥ {pct}%, however the rounds stopped. "
        "Verdicts: the interval excludes 0 → better / worse; it lies inside "
        f"±{st.margin:g} → equivalent (also when it excludes 0: a real but negligible difference, marked); otherwise "
        "undecided, with the further runs after which a verdict is likely (80%), or **needs more data** where the part "
        "of the interval that runs cannot shrink (its floor) reaches the margin. "
        f"Fewer than {MIN_UNITS} units: not enough runs.",
    ]
    if "row_term" in table and (table["row_term"] == ROW_TERM_KINDS[-1]).any():
        note.append("The row term of some variants comes from one run's own row variance (one partition, one seed): it also "
                    "holds that run's seed noise, so their intervals are conservative until a second partition estimates it, and "
                    "their runs needed, projected without it, are a lower bound (\"at least\").")
    if table["aa_control"].any():
        note.append("Rows marked (A/A) train the baseline's recipe with other seeds: their Δ is pure noise, the study's noise floor.")
    if optimistic:
        note.append("**Optimistic figures:** train.checkpoint is best_on_valid, so each run reports its best evaluation "
                    "on the very rows it is scored on.")
    note += aa_warnings(table)
    return "\n".join(lines) + "\n" + "\n".join(note) + "\n"


def _plot_verdict(r) -> str:
    if r.verdict == NEEDS_DATA:
        return f"needs more data (floor ±{r.floor:.3f})"
    if r.verdict == UNDECIDED:
        at_least = "≥ " if _row_term_bounded(r) else ""
        return f"undecided, {at_least}~{int(r.runs_needed)} more runs" if r.runs_needed > 0 else "undecided"
    return str(r.verdict)


def plots(table: pd.DataFrame, runs: pd.DataFrame, eval_dir: str | Path, out_dir: str | Path, confidence: float,
          margin: float) -> list[Path]:
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
    oof = read_id_csv(Path(eval_dir) / best / "oof.csv")
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
    write_csv(out_dir / "delta_vs_baseline.csv", t[["variant", "delta", "ci_low", "ci_high", "verdict", "aa_control"]])
    if len(runs):
        write_csv(out_dir / "paired_runs.csv", runs)
    return written


def aggregate(params: Params, eval_dir, summary_path, report_path, detail_path, plots_dir) -> tuple[pd.DataFrame, str, dict]:
    table, runs = compare(params, eval_dir)
    md = markdown(table, params)
    plots(table, runs, eval_dir, plots_dir, params.stats.confidence, params.stats.margin)
    write_text(report_path, "# headbench comparison\n\n" + md)
    write_csv(detail_path, detail(table))
    summary = summary_metrics(table)
    write_json(summary_path, summary)
    return table, md, summary
