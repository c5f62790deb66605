"""Study5 re-judged post hoc under both questions (headbench.stats.verdict), from its committed runs.

    python scripts/results/rejudge_study5.py     # docs/results/study5/rejudged_new_rows.md and rejudged.csv

POST HOC, NOT CONFIRMATORY: this design was chosen after study5's runs were seen. Study5 trained one partition
(split seed 42), seed 42 on every fold (seed 43 too for max, llrd and the baseline), so:
- every variant has one partition's 5 fold units (fold means over its seeds): one look of a design that planned
  3 rounds, so the union bound pays for 3 looks (α / (11 × 3));
- its run seed was shared by all folds of the partition (42 + seed_offset), which correlates the folds (the
  harness's first break test): these intervals can be too narrow, one more reason to read them as post hoc;
- the row term comes from pairs of seeds on the same partition where a variant has two (max, llrd), else from
  one run's own row variance: both conservative.
The margin is the new default, 0.01. The target column is rejoined by id from the CommonLit file.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "scripts")]

from collect_runs import targets_as_written  # noqa: E402
from headbench.config import DataParams  # noqa: E402
from headbench.data.table import load_dataset  # noqa: E402
from headbench.report.comparison import needed_short  # noqa: E402
from headbench.stats.compare import compare_oof  # noqa: E402
from headbench.stats.verdict import Design  # noqa: E402

STUDY = ROOT / "docs" / "results" / "study5"
COMMONLIT = ROOT.parent / "shared" / "data" / "commonlit" / "train.csv"
VARIANTS = ["baseline", "aa", "max", "mean", "meanmax", "conv1d", "lstm", "cat4", "wlayers", "attn", "llrd", "reinit1"]
SPLIT, MARGIN, LOOKS = 42, 0.01, 3


def load_oofs(study: Path = STUDY, data: Path = COMMONLIT) -> dict[str, pd.DataFrame]:
    """Each variant's committed out-of-fold predictions with the target rejoined (as the train stage wrote it)."""
    target = targets_as_written(load_dataset(DataParams(path=str(data), id_col="id", text_col="excerpt", target_col="target")))
    oofs = {}
    for v in VARIANTS:
        frames = [pd.read_csv(f, dtype={"id": str}) for f in sorted((study / "runs" / v).glob("fold*-seed*/oof.csv"))]
        oof = pd.concat(frames, ignore_index=True)
        oof.insert(1, "split", SPLIT)
        oof["target"] = target.loc[oof["id"], "target"].to_numpy()
        oofs[v] = oof[["id", "split", "fold", "seed", "target", "prediction"]]
    return oofs


def rejudge(oofs: dict[str, pd.DataFrame], question: str) -> pd.DataFrame:
    design = Design(alpha=0.05, m=len(VARIANTS) - 1, looks=LOOKS, folds=5, n_folds=5, margin=MARGIN, question=question,
                    futility=0.1)
    table, _ = compare_oof(oofs, "baseline", design, [SPLIT])
    return table.assign(question=question)


def markdown(tables: list[pd.DataFrame]) -> str:
    out = ["# Study5 re-judged: POST HOC, NOT CONFIRMATORY", "",
           "The design (fresh partitions, each variant's own variance, the row term, Bonferroni over 11 variants × 3 "
           "rounds) was chosen after these runs were seen. Study5's seeds were shared across the folds of its one "
           "partition, which correlates the folds, so these intervals may be too narrow. "
           f"Margin ±{MARGIN}; `python scripts/results/rejudge_study5.py` writes this page from the committed runs.", ""]
    for t in tables:
        q = t["question"].iloc[0]
        out += [f"## Question `{q}`", "",
                "| variant | units (runs) | Δ RMSE [95% simultaneous] | persistent SE | verdict | runs needed or floor |",
                "|---|---|---|---|---|---|"]
        for r in t.sort_values("delta").itertuples():
            out.append(f"| {r.variant} | 5 ({r.runs}) | {r.delta:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}] | "
                       f"{r.persistent_se:.4f} | {r.verdict} | {needed_short(r)} |")
        decided = t["verdict"].isin(["better", "worse", "equivalent"]).sum()
        out += ["", f"Decided: {decided} of {len(t)}.", ""]
    return "\n".join(out)


def main():
    oofs = load_oofs()
    tables = [rejudge(oofs, q) for q in ("new_rows", "new_data")]
    pd.concat(tables, ignore_index=True).to_csv(STUDY / "rejudged.csv", index=False)
    text = markdown(tables)
    (STUDY / "rejudged_new_rows.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
