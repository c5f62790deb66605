"""metrics/summary.json: the study in few, short columns for `dvc exp show` and `dvc metrics diff`."""
from __future__ import annotations

import pandas as pd

from headbench.config import METRICS
from headbench.stats.compare import BETTER, EQUIVALENT, NEEDS_DATA, TOO_FEW, WORSE
from headbench.summary_keys import SUMMARY_KEYS


def marked_delta(delta: float, verdict: str) -> str:
    """A variant's Δ and verdict in one short cell: Δ of the primary metric (RMSE here) in thousandths with its sign, ``*`` when called (better
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
    (the A/A control's verdict: better or worse means the study's noise is underestimated), ``runs`` (paired
    runs per variant used by its verdict, the fewest) and ``metric`` (the primary metric and its direction). Then by
    figure, per variant: the primary metric out of fold, ``rmse.<v>`` (``mcrmse.<v>``, ``log_loss.<v>`` for the other
    tasks), and for all but the baseline ``delta.<v>`` (mean paired difference) and ``pm.<v>`` (half-width of its
    simultaneous interval: delta ± pm); then the side figures, ``rmse_<target>.<v>`` or ``accuracy.<v>`` and
    ``macro_f1.<v>``.
    Verdicts are adjusted for the variants and rounds. The rest (standard errors, the row term, the floor, runs
    needed, per-fold RMSE, times) is in reports/comparison.csv."""
    t = table.sort_values("delta")
    named = lambda verdict: ", ".join(t.loc[t["verdict"] == verdict, "variant"]) or "-"
    aa = table.loc[table["aa_control"], "verdict"]
    compared_rows = table[table["verdict"] != "baseline"]
    compared = compared_rows["runs_used"]
    metric = table.attrs.get("metric", "rmse")
    study = (table.attrs.get("question", "-"), named(BETTER), named(WORSE), named(EQUIVALENT), ", ".join(aa) if len(aa) else "-",
             int(compared.min()) if len(compared) and compared.notna().all() else 0, f"{METRICS[metric]}, lower is better")
    out = {r.variant: marked_delta(r.delta, r.verdict) for r in compared_rows.itertuples()}
    out.update(zip(SUMMARY_KEYS, study, strict=True))
    figures = variant_figures(table)
    for figure in (metric, "delta", "pm", *side_keys(table)):
        out[figure] = {v: f[figure] for v, f in figures.items() if figure in f}
    return out


def side_keys(table: pd.DataFrame) -> list[str]:
    """The side figures' names (stats.compare.fold_table's ``side``): per-target RMSE, or accuracy and macro-F1; none for one target."""
    return list(table["side"].iloc[0]) if "side" in table and len(table) else []


def variant_figures(table: pd.DataFrame) -> dict[str, dict]:
    """Each variant's own figures (the primary metric, named by the task; delta, pm and verdict for all but the
    baseline; the side figures): its MLflow parent run's."""
    r6 = lambda x: None if pd.isna(x) else round(float(x), 6)
    metric = table.attrs.get("metric", "rmse")
    out = {}
    for r in table.itertuples():
        out[r.variant] = {metric: r6(r.oof_rmse), **{k: r6(v) for k, v in getattr(r, "side", {}).items()}}
        if r.verdict != "baseline":
            out[r.variant].update(delta=r6(r.delta), pm=r6((r.ci_high - r.ci_low) / 2), verdict=r.verdict,
                                  runs=int(r.runs_used), round=int(r.round), runs_needed=int(r.runs_needed),
                                  floor=r6(r.floor))
    return out


def aa_warnings(table: pd.DataFrame) -> list[str]:
    bad = table[table["aa_control"] & table["verdict"].isin([BETTER, WORSE])]
    return [f"WARNING: the A/A control {r.variant!r} (the baseline's recipe, other seeds) was called {r.verdict!r}: "
            f"this study's noise is larger than its statistics assume; trust none of its verdicts" for r in bad.itertuples()]
