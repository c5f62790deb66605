import numpy as np
import pandas as pd
import pytest

from headbench.stats.scoring import rmse
from headbench.stats.sequential import Plan
from headbench.stats.compare import TOO_FEW, compare_runs, fold_table, paired_runs, run_rmse


def oof_frame(pred_by_run: dict, target: dict) -> pd.DataFrame:
    """OOF rows from {(fold, seed): predictions}; target[fold] holds that fold's targets."""
    rows = []
    for (fold, seed), pred in pred_by_run.items():
        for i, (p, y) in enumerate(zip(pred, target[fold])):
            rows.append({"id": f"f{fold}r{i}", "fold": fold, "seed": seed, "target": y, "prediction": p})
    return pd.DataFrame(rows)


def test_runs_pair_by_fold_and_seed_and_every_seed_counts():
    target = {0: [0.0, 0.0], 1: [1.0, 1.0]}
    base = oof_frame({(0, 1): [1, 1], (1, 1): [2, 2], (0, 2): [2, 2], (1, 2): [3, 3]}, target)   # RMSE 1, 1, 2, 2
    var = oof_frame({(0, 1): [0, 0], (1, 1): [1.5, 1.5], (0, 2): [1, 1], (1, 2): [2, 2]}, target)  # 0, .5, 1, 1
    pr = paired_runs(run_rmse(var), run_rmse(base)).set_index(["fold", "seed"])
    assert pr.loc[(0, 1), "delta"] == pytest.approx(-1) and pr.loc[(1, 1), "delta"] == pytest.approx(-0.5)
    assert pr.loc[(0, 2), "delta"] == pytest.approx(-1) and pr.loc[(1, 2), "delta"] == pytest.approx(-1)
    plan = Plan(alpha=0.05, m=1, seeds_per_look=(2,), n_folds=2, rho=0.2, margin=0.1)
    rmses = {"baseline": run_rmse(base), "v": run_rmse(var)}
    table, runs = compare_runs(rmses, "baseline", plan, [1, 2])
    row = table.set_index("variant").loc["v"]
    assert row["delta"] == pytest.approx(-0.875) and row["runs"] == 4  # taking one seed only would give -0.75
    assert len(runs) == 4
    assert row["verdict"] == TOO_FEW  # two folds cannot estimate the fold-level part, whatever the difference


def test_fold_table_reports_per_fold_and_per_seed():
    oof = pd.DataFrame({"id": list("abcdabcd"), "fold": [0, 0, 1, 1] * 2, "seed": [1] * 4 + [2] * 4,
                        "target": [0.0] * 8, "prediction": [1, 1, 2, 2, 1, 1, 0, 0]})
    t = fold_table(oof)
    assert t["oof_rmse_per_seed"] == {"1": pytest.approx(np.sqrt(2.5)), "2": pytest.approx(np.sqrt(0.5))}
    assert t["fold_rmse"] == {"0": 1.0, "1": 1.0}
    assert t["oof_rmse"] == pytest.approx((np.sqrt(2.5) + np.sqrt(0.5)) / 2) and t["seeds"] == 2 and t["rows"] == 4
    assert rmse([1, 2], [1, 0]) == pytest.approx(np.sqrt(2))
