"""From out-of-fold predictions to units, row influences and the verdict table (headbench.stats.compare)."""
import numpy as np
import pandas as pd
import pytest

from headbench.stats.compare import TOO_FEW, WORSE, compare_oof, fold_table, paired_runs, run_rmse
from headbench.stats.scoring import rmse
from headbench.stats.verdict import Design, influence


def oof_frame(pred_by_run: dict, target: dict, split: int = 1) -> pd.DataFrame:
    """OOF rows from {(fold, seed): predictions}; target[fold] holds that fold's targets."""
    rows = []
    for (fold, seed), pred in pred_by_run.items():
        for i, (p, y) in enumerate(zip(pred, target[fold])):
            rows.append({"id": f"f{fold}r{i}", "split": split, "fold": fold, "seed": seed, "target": y, "prediction": p})
    return pd.DataFrame(rows)


def design(**kw):
    return Design(**{**dict(alpha=0.05, m=1, looks=1, folds=2, n_folds=2, margin=0.1), **kw})


def test_runs_pair_by_split_fold_and_seed_and_a_unit_averages_its_seeds():
    target = {0: [0.0, 0.0], 1: [1.0, 1.0]}
    base = oof_frame({(0, 1): [1, 1], (1, 1): [2, 2], (0, 2): [2, 2], (1, 2): [3, 3]}, target)   # RMSE 1, 1, 2, 2
    var = oof_frame({(0, 1): [0, 0], (1, 1): [1.5, 1.5], (0, 2): [1, 1], (1, 2): [2, 2]}, target)  # 0, .5, 1, 1
    pr = paired_runs(run_rmse(var), run_rmse(base)).set_index(["split", "fold", "seed"])
    assert pr.loc[(1, 0, 1), "delta"] == pytest.approx(-1) and pr.loc[(1, 1, 1), "delta"] == pytest.approx(-0.5)
    assert pr.loc[(1, 0, 2), "delta"] == pytest.approx(-1) and pr.loc[(1, 1, 2), "delta"] == pytest.approx(-1)
    table, runs = compare_oof({"baseline": base, "v": var}, "baseline", design(), [1])
    row = table.set_index("variant").loc["v"]
    assert row["delta"] == pytest.approx(-0.875) and row["runs"] == 4 and row["runs_used"] == 4 and len(runs) == 4
    assert row["verdict"] == TOO_FEW  # two units cannot estimate a variance, whatever the difference


def test_fold_table_reports_per_fold_and_per_run_set():
    oof = pd.DataFrame({"id": list("abcdabcd"), "split": 7, "fold": [0, 0, 1, 1] * 2, "seed": [1] * 4 + [2] * 4,
                        "target": [0.0] * 8, "prediction": [1, 1, 2, 2, 1, 1, 0, 0]})
    t = fold_table(oof)
    assert t["oof_rmse_per_run_set"] == {"7-1": pytest.approx(np.sqrt(2.5)), "7-2": pytest.approx(np.sqrt(0.5))}
    assert t["fold_rmse"] == {"0": 1.0, "1": 1.0}
    assert t["oof_rmse"] == pytest.approx((np.sqrt(2.5) + np.sqrt(0.5)) / 2) and t["run_sets"] == 2 and t["rows"] == 4
    assert rmse([1, 2], [1, 0]) == pytest.approx(np.sqrt(2))


def _partition_frame(rng, ids, split, fold_of, pred, target):
    return pd.DataFrame({"id": ids, "split": split, "fold": fold_of, "seed": 42, "target": target, "prediction": pred})


def test_the_row_term_is_the_covariance_of_row_influences_across_partitions_over_n():
    rng = np.random.default_rng(0)
    n, ids = 200, [f"r{i}" for i in range(200)]
    y = rng.normal(0, 1, n)
    hard = rng.normal(0, 0.5, n)                 # a per-row effect every partition sees: what the row term is for
    oofs = {"baseline": [], "v": []}
    for split in (1, 2):
        fold_of = rng.permutation(np.arange(n) % 5)
        oofs["baseline"].append(_partition_frame(rng, ids, split, fold_of, y + rng.normal(0, 0.5, n), y))
        oofs["v"].append(_partition_frame(rng, ids, split, fold_of, y + hard + rng.normal(0, 0.5, n), y))
    oofs = {k: pd.concat(v, ignore_index=True) for k, v in oofs.items()}
    d = design(looks=2, folds=5, n_folds=5, margin=0.01, futility=0.0)
    table, _ = compare_oof(oofs, "baseline", d, [1, 2])
    psi = []
    for split in (1, 2):
        sq = {k: ((o[o.split == split].set_index("id").loc[ids, "prediction"] - y) ** 2).to_numpy() for k, o in oofs.items()}
        psi.append(influence(sq["v"], sq["baseline"]))
    row = table.set_index("variant").loc["v"]
    assert row["persistent_se"] == pytest.approx(np.sqrt(max(np.cov(psi[0], psi[1])[0, 1], 0) / n))
    assert row["row_term"] == "across partitions"
    units = np.array([[rmse(o.prediction[(o.split == s) & (o.fold == k)], o.target[(o.split == s) & (o.fold == k)])
                       for o in (oofs["v"], oofs["baseline"])] for s in (1, 2) for k in range(5)])
    diff = units[:, 0] - units[:, 1]
    assert row["delta"] == pytest.approx(diff.mean())
    assert row["se"] == pytest.approx(np.sqrt(diff.var(ddof=1) / 10 + row["persistent_se"] ** 2))
    # grouped rows: the influences are summed per group before their covariance
    groups = pd.Series([f"g{i // 4}" for i in range(n)], index=ids)
    grouped, _ = compare_oof(oofs, "baseline", d, [1, 2], groups)
    sums = [pd.Series(p).groupby(np.arange(n) // 4).sum().to_numpy() for p in psi]
    want = max(np.cov(sums[0], sums[1])[0, 1], 0) * len(sums[0]) / n ** 2
    assert grouped.set_index("variant").loc["v", "persistent_se"] == pytest.approx(np.sqrt(want))


def test_compare_reports_rounds_runs_used_and_status():
    rng = np.random.default_rng(6)
    n = 100
    ids, y = [f"r{i}" for i in range(n)], rng.normal(0, 1, n)
    frames = {"baseline": [], "bad": []}
    for split in (1, 2):
        fold_of = rng.permutation(np.arange(n) % 5)
        base = y + rng.normal(0, 0.3, n)
        frames["baseline"].append(_partition_frame(rng, ids, split, fold_of, base, y))
        if split == 1:
            frames["bad"].append(_partition_frame(rng, ids, split, fold_of, base + 1.0, y))
    oofs = {k: pd.concat(v, ignore_index=True) for k, v in frames.items()}
    table, _ = compare_oof(oofs, "baseline", design(looks=2, folds=5, n_folds=5), [1, 2])
    row = table.set_index("variant").loc["bad"]
    assert row["verdict"] == WORSE and row["round"] == 1 and row["runs_used"] == 5 and row["status"] == "stopped"


def test_runs_used_and_needed_count_the_variants_own_seeds():
    """The baseline has two seeds on every fold, the variant one (as in study5): its runs are its own."""
    rng = np.random.default_rng(7)
    n, ids, y = 100, [f"r{i}" for i in range(100)], rng.normal(0, 1, 100)
    fold_of = rng.permutation(np.arange(n) % 5)
    base = pd.concat([_partition_frame(rng, ids, 1, fold_of, y + rng.normal(0, 0.5, n), y).assign(seed=s) for s in (42, 43)])
    var = _partition_frame(rng, ids, 1, fold_of, y + rng.normal(0, 0.5, n), y)
    table, _ = compare_oof({"baseline": base, "v": var}, "baseline", design(looks=3, folds=5, n_folds=5, margin=0.1), [1, 2, 3])
    row = table.set_index("variant").loc["v"]
    assert row["runs"] == 5 and row["runs_used"] == 5
    # undecided at margin 0.1: 4 more partitions × 5 folds × its 1 seed (the baseline's second seed doubled it once)
    assert row["verdict"] == "undecided" and row["runs_needed"] == 20
