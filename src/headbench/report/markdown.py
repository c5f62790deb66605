"""reports/comparison.md: the comparison table with its reading notes."""
from __future__ import annotations

import pandas as pd

from headbench.config import METRICS, QUESTIONS, Params
from headbench.report.comparison import row_term_bounded
from headbench.report.summary import aa_warnings, side_keys
from headbench.stats.compare import EQUIVALENT, MIN_UNITS, NEEDS_DATA, TOO_FEW, UNDECIDED
from headbench.stats.verdict import ROW_TERM_KINDS


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
    at_least = "at least " if row_term_bounded(r) else ""   # projected without the row term, not yet estimated
    return f"{at_least}~{int(r.runs_needed)} more ({int(r.runs_needed) // per_partition} partitions × {n_folds} folds{seeds})"


def markdown(table: pd.DataFrame, params: Params) -> str:
    st = params.stats
    pct = int(round(st.confidence * 100))
    rounds = len(params.splits)
    adj = {"bonferroni": f"Bonferroni over {len(params.variants) - 1} variants × {rounds} round(s)",
           "none": f"Bonferroni over {rounds} round(s) only"}[st.multiplicity]
    optimistic = params.train.checkpoint == "best_on_valid"
    metric = METRICS[params.metric]
    rmse_head = f"OOF {metric} (optimistic)" if optimistic else f"OOF {metric}"
    lines = [
        f"Question: **{st.question}** ({QUESTIONS[st.question]})",
        "",
        f"| variant | head | options | {rmse_head} (mean ± std over partitions × seeds) | runs used | round | Δ vs {st.baseline} "
        f"[{pct}% simultaneous interval] | verdict (margin ±{st.margin:g}) | runs needed or floor | per-fold {metric} | time: runs' wall (training, evaluation) |",
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
        f"Δ < 0 is better (lower {metric}): the mean over units (one fold of one partition) of {metric}(variant) − "
        f"{metric}({st.baseline}) "
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
    return "\n".join(lines) + "\n" + "\n".join(note) + "\n" + side_table(table)


SIDE_LABELS = {"accuracy": "accuracy (higher is better)", "macro_f1": "macro-F1 (higher is better)"}


def side_table(table: pd.DataFrame) -> str:
    """The figures beside the primary metric (each target's RMSE, or accuracy and macro-F1), out of fold, per variant.
    They are reported, not judged: every verdict is by the primary metric."""
    keys = side_keys(table)
    if not keys:
        return ""
    labels = [SIDE_LABELS.get(k, f"RMSE {k.removeprefix('rmse_')} (lower is better)") for k in keys]
    lines = ["", "Beside the primary metric (out of fold, mean over partitions × seeds; reported, not judged):", "",
             "| variant | " + " | ".join(labels) + " |", "|---|" + "---|" * len(keys)]
    for r in table.sort_values("oof_rmse").itertuples():
        lines.append(f"| {r.variant} | " + " | ".join(f"{r.side[k]:.4f}" for k in keys) + " |")
    return "\n".join(lines) + "\n"
