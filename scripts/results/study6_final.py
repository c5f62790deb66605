"""study6's final table from its committed runs: both questions, the A/A row, the decided count, the cost, and the
comparison with the Kaggle write-up's claims and with study5 (re-judged post hoc).

    python scripts/results/study6_final.py     # docs/results/study6/final.md, final.csv and plots/

Runs still missing leave their variants open; the page says how many runs it holds, so it can be written at any time.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from collect_runs import committed_oofs, run_walls  # noqa: E402

from headbench.report.comparison import aa_controls, needed_short  # noqa: E402
from headbench.report.plots import plot_deltas  # noqa: E402
from headbench.stats.compare import BETTER, EQUIVALENT, WORSE, compare_oof, study_design  # noqa: E402

STUDY = ROOT / "docs/results/study6"
STUDY5 = ROOT / "docs/results/study5/rejudged.csv"
# The Kaggle write-up's one-split differences against its [CLS] baseline at 0.5299 (issue 36)
CLAIMS = {"conv1d": -0.037, "lstm": -0.025, "cat4": -0.006, "reinit1": -0.002, "max": 0.023, "llrd": 0.005}
# The CPUs the study's runs trained on, in order, each with the last commit that collected runs trained on it
# (the study's README, "Two CPUs" and "Interruptions"); runs collected later trained on the last one listed.
CPUS = [("74216c0", "AMD EPYC, AVX-512 and avx512_bf16 (`retrained/lscpu.txt`)"),
        ("d5d195f", "AMD EPYC, AVX2 without AVX-512 (`lscpu_avx2.txt`)"),
        (None, "AMD EPYC, AVX-512 and avx512_bf16 (`lscpu_avx512_2.txt`)")]


def judged(oofs, params, groups, question: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per variant, indexed by name; the paired runs) under ``question``."""
    design = replace(study_design(params), question=question)
    table, paired = compare_oof(oofs, params.stats.baseline, design, params.splits, groups)
    return table.set_index("variant"), paired


def plot(rows_q: pd.DataFrame, paired: pd.DataFrame, params) -> Path:
    """plots/delta_vs_baseline.png: each variant's paired runs, Δ, interval and verdict under the study's question."""
    table = rows_q.reset_index().assign(aa_control=lambda t: t["variant"].isin(aa_controls(params)))
    table.attrs["question"] = params.stats.question
    return plot_deltas(table, paired, STUDY / "plots", params.stats.confidence, params.stats.margin, params.metric)


def interval(r) -> str:
    return f"{r.delta:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]" if pd.notna(r.ci_low) else "—"


def reading(claim: float, r, margin: float) -> str:
    """A published difference against this study's verdict on it."""
    if r.verdict in (BETTER, WORSE):
        agrees = (r.verdict == BETTER) == (claim < 0)
        return "confirmed (direction)" if agrees else "contradicted (opposite direction)"
    if r.verdict == EQUIVALENT:
        return "consistent (both negligible)" if abs(claim) <= margin else "contradicted (no difference beyond the margin)"
    if pd.notna(r.ci_low) and not r.ci_low <= claim <= r.ci_high:
        return "not decided; the claimed size lies outside the interval"
    return "not decided"


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def run_cpus() -> pd.DataFrame:
    """One row per committed run: its wall time and the CPU it trained on, from the commit that added it."""
    log = git("log", "--diff-filter=A", "--name-only", "--format=commit %H", "--", "docs/results/study6/runs")
    added, commit = {}, None
    for line in log.stdout.splitlines():
        if line.startswith("commit "):
            commit = line.split()[1]
        elif line.endswith("/metrics.json"):
            added[ROOT / line] = commit  # newest first: an older add of the same path overwrites
    rows = []
    for f in sorted((STUDY / "runs").glob("*/split*/metrics.json")):
        c = added.get(f)
        cpu = next((name for last, name in CPUS
                    if c and (last is None or git("merge-base", "--is-ancestor", c, last).returncode == 0)), "not committed")
        rows.append({"run": str(f.parent.relative_to(STUDY / "runs")), "cpu": cpu,
                     "wall_s": json.loads(f.read_text())["time_wall_s"]})
    return pd.DataFrame(rows)


def cost_by_cpu(runs: pd.DataFrame) -> pd.DataFrame:
    """CPU-hours on each CPU: its runs at its median one-thread run (pauses do not move a median)."""
    by = runs.groupby("cpu", sort=False)["wall_s"].agg(["size", "median"])
    return by.assign(hours=by["size"] * by["median"] / 3600)


def cost_lines(by: pd.DataFrame) -> list[str]:
    lines = ["| CPU | runs | median wall per run (s) | CPU-hours |", "|---|---|---|---|"]
    lines += [f"| {cpu} | {int(r['size'])} | {r['median']:.0f} | {r.hours:.2f} |" for cpu, r in by.iterrows()]
    lines.append(f"| all | {int(by['size'].sum())} | | {by.hours.sum():.2f} |")
    return lines


def fixed_runs(params) -> int:
    return len(params.variants) * study_design(params).looks * len(params.cv.folds) * len(params.seeds)


def plan_figure(key: str) -> float:
    plan = json.loads((STUDY / "plan.json").read_text())
    return plan["rounds"][str(plan["chosen_rounds"])][key]


def main() -> None:
    params, data, oofs = committed_oofs(STUDY)
    groups = data.set_index("id")["group"] if "group" in data else None
    rows_q, paired = judged(oofs, params, groups, "new_rows")
    data_q, _ = judged(oofs, params, groups, "new_data")
    plot(rows_q, paired, params)
    walls = run_walls(STUDY)
    by_cpu = cost_by_cpu(run_cpus())
    hours = by_cpu.hours.sum()
    decided = rows_q["verdict"].isin([BETTER, WORSE, EQUIVALENT])
    aa = "aa"
    m = params.stats.margin
    lines = [
        "# study6: the final table", "",
        f"From the {len(walls)} committed runs (`python scripts/results/study6_final.py`). Margin ±{m:g} RMSE; "
        f"{params.stats.confidence:.0%} family-wise, Bonferroni over {len(params.variants) - 1} variants × "
        f"{study_design(params).looks} rounds. Δ < 0 is better (lower RMSE).", "",
        "| variant | runs used | rounds | Δ RMSE, new_rows [simultaneous] | verdict | runs needed or floor | "
        "Δ RMSE, new_data [simultaneous] | verdict (new_data) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v, r in rows_q.sort_values("delta").iterrows():
        d = data_q.loc[v]
        name = f"{v} (A/A)" if v == aa else v
        lines.append(f"| {name} | {r.runs_used} | {r['round']} | {interval(r)} | {r.verdict} | {needed_short(r)} | "
                     f"{interval(d)} | {d.verdict} |")
    n_dec = int(decided.sum())
    missing = [v for v in params.variants if v != params.stats.baseline and v not in rows_q.index]
    if missing:
        lines.append(f"| {', '.join(missing)} | 0 | | no runs yet | | | | |")
    lines += ["", f"Decided under new_rows: **{n_dec} of {len(rows_q)}** "
                  f"(new_data: {int(data_q['verdict'].isin([BETTER, WORSE, EQUIVALENT]).sum())}). "
                  f"Cost: {len(walls)} runs, {hours:.1f} CPU-hours (each CPU's runs at its median one-thread run, below)"
                  + (f", {hours / n_dec:.2f} CPU-hours per decided verdict." if n_dec else "."),
              "", *cost_lines(by_cpu),
              "", f"Against a fixed design of the same maximum size (every variant and the baseline on all "
                  f"{study_design(params).looks} partitions: {fixed_runs(params)} runs): this study used {len(walls)} runs "
                  f"({len(walls) / fixed_runs(params):.0%} of it); the harness expected "
                  f"{plan_figure('runs_over_fixed'):.0%} at this design ({plan_figure('study_runs_mean'):.0f} runs).",
              "", f"The A/A row (`{aa}`: the baseline's recipe, other seeds): {rows_q.loc[aa, 'verdict']}, "
                  f"Δ {interval(rows_q.loc[aa])}. A called A/A would mean the study's noise is larger than its "
                  "intervals assume.", ""]
    lines += ["## Against the published claims and study5", "",
              "The Kaggle write-up's one-split differences against its [CLS] baseline (RMSE 0.5299); study5 re-judged "
              "post hoc under new_rows (`../study5/rejudged_new_rows.md`).", "",
              "| variant | claimed Δ | study6 Δ [new_rows] | study6 verdict | reading | study5 Δ (post hoc) | study5 verdict |",
              "|---|---|---|---|---|---|---|"]
    s5 = pd.read_csv(STUDY5).query("question == 'new_rows'").set_index("variant") if STUDY5.is_file() else pd.DataFrame()
    for v, claim in CLAIMS.items():
        if v not in rows_q.index:
            lines.append(f"| {v} | {claim:+.3f} | — | no runs yet | | | |")
            continue
        r = rows_q.loc[v]
        old = s5.loc[v] if v in s5.index else None
        lines.append(f"| {v} | {claim:+.3f} | {interval(r)} | {r.verdict} | {reading(claim, r, m)} | "
                     f"{interval(old) if old is not None else '—'} | {old.verdict if old is not None else '—'} |")
    (STUDY / "final.md").write_text("\n".join(lines) + "\n")
    pd.concat({"new_rows": rows_q, "new_data": data_q}, names=["question"]).to_csv(STUDY / "final.csv")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
