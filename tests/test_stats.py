import numpy as np
import pandas as pd
import pytest

from headbench.stats import BETTER, NOISE, WORSE, fold_table, paired_delta, rmse, verdict


def synthetic(n=3000, gap=0.05, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    base = y + rng.normal(0, 0.6, n)
    better = y + rng.normal(0, 0.6 - gap, n)
    return y, base, better


def test_bootstrap_ci_covers_the_known_difference_and_is_reproducible():
    y, base, better = synthetic()
    true_delta = rmse(better, y) - rmse(base, y)
    a = paired_delta(better, base, y, n_resamples=1000, confidence=0.95, seed=1)
    b = paired_delta(better, base, y, n_resamples=1000, confidence=0.95, seed=1)
    assert a == b
    assert a["delta"] == pytest.approx(true_delta)
    assert a["ci_low"] < true_delta < a["ci_high"] < 0  # a 0.05 gain on 3000 rows is detectable
    c = paired_delta(better, base, y, n_resamples=1000, confidence=0.95, seed=2)
    assert c["ci_low"] != a["ci_low"]


def test_identical_models_are_within_noise():
    y, base, _ = synthetic()
    rng = np.random.default_rng(5)
    twin = base + rng.normal(0, 0.01, len(y))
    d = paired_delta(twin, base, y, 500, 0.95, 0)
    assert d["ci_low"] < 0 < d["ci_high"] and verdict(d["ci_low"], d["ci_high"]) == NOISE


def test_seed_axis_is_averaged():
    y, base, better = synthetic(n=500)
    d1 = paired_delta(np.stack([better, better]), np.stack([base, base]), y, 300, 0.9, 0)
    d2 = paired_delta(better, base, y, 300, 0.9, 0)
    assert d1["delta"] == pytest.approx(d2["delta"])


@pytest.mark.parametrize("low, high, expected", [(-0.02, -0.001, BETTER), (0.001, 0.03, WORSE), (-0.01, 0.01, NOISE),
                                                 (-0.01, 0.0, NOISE), (0.0, 0.01, NOISE)])
def test_verdict(low, high, expected):
    assert verdict(low, high) == expected


def test_fold_table_reports_per_fold_and_per_seed():
    oof = pd.DataFrame({"id": list("abcdabcd"), "fold": [0, 0, 1, 1] * 2, "seed": [1] * 4 + [2] * 4,
                        "target": [0.0] * 8, "prediction": [1, 1, 2, 2, 1, 1, 0, 0]})
    t = fold_table(oof)
    assert t["oof_rmse_per_seed"] == {"1": pytest.approx(np.sqrt(2.5)), "2": pytest.approx(np.sqrt(0.5))}
    assert t["fold_rmse"] == {"0": 1.0, "1": 1.0}
    assert t["oof_rmse"] == pytest.approx((np.sqrt(2.5) + np.sqrt(0.5)) / 2) and t["seeds"] == 2 and t["rows"] == 4
