"""The verdicts on real data where the truth is known: a smaller run of the calibration harness
(scripts/results/harness.py; the full table is in docs/methodology.md), on the real CommonLit rows.

A cheap seeded learner stands in for the encoder; headbench's own verdict code (headbench.stats.verdict.replay, what
the aggregate stage calls) judges its studies. The checks must hold for the design, and must fail for the two
designs known to be wrong: one seed for every fold of a partition, and a fixed multi-partition design without
the row term. Missing data fails under CI, skips elsewhere.
"""
import os
import sys

import pytest

from conftest import COMMONLIT, ROOT

sys.path.insert(0, str(ROOT / "scripts" / "results"))
import harness  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
ALPHA = harness.SMALL.alpha
BOUND = 0.05


@pytest.fixture(scope="module")
def table():
    if not COMMONLIT.is_file():
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{COMMONLIT} not present")
    setup = harness.SMALL
    assert setup.draws * setup.studies >= 500
    t = harness.table(setup, harness.build_pool(setup, workers=1))
    print({name: {k: round(v, 3) for k, v in r.items() if not isinstance(v, list)} for name, r in t["designs"].items()})
    return t


def test_the_learner_is_as_noisy_as_the_encoder_and_the_margin_is_the_studys_ratio(table):
    assert 0.005 <= table["aa_sd"] <= 0.015
    assert table["margin"] == pytest.approx(table["aa_sd"] * 0.01 / 0.0117)


@pytest.mark.parametrize("question", ["new_rows", "new_data"])
def test_the_design_is_calibrated_for_its_question(table, question):
    r = table["designs"][f"new, {question}"]
    assert r["non_coverage"] <= BOUND, r
    assert r["non_coverage_worst_variant"] <= r["per_variant_bound"], r
    assert r["false_better_or_worse"] <= BOUND, r
    if question == "new_rows":   # new_data's overlap term never shrinks: only its calibration is asserted
        assert r["false_equivalence"] <= BOUND, r
        assert r["correct_at_2_margins"] >= 0.8, r
        assert r["runs_over_fixed"] <= 0.6, r


def test_break_one_seed_for_every_fold_of_a_partition_fails_the_bound_clearly(table):
    assert table["designs"]["break: one seed for all folds of a partition, new_rows"]["non_coverage"] > 2 * BOUND


def test_break_a_fixed_design_without_the_row_term_fails_the_bound_clearly(table):
    assert table["designs"]["break: fixed 3 partitions without the row term, new_rows"]["non_coverage"] > 2 * BOUND
