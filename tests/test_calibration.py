"""Calibration of the adaptive study's verdicts on simulated studies (headbench.stats.calibration's noise model).

Each check simulates at least 2,000 studies. Fold share 0.8 with rho 0.2 is the harsh case (most of the noise
fold-level, where added seeds help least and the all-runs interval (stats.variance: runs) is liberal); 0.5 is the planned one.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from headbench.stats.calibration import (NOISE_LOG_MEAN, NOISE_LOG_SD, RUNLEVEL_EFFECTS, default_plan, fit_noise, no_spending,
                                   rates, simulate)

RUNLEVEL = Path(__file__).resolve().parents[1] / "docs" / "results" / "runlevel" / "plots" / "paired_runs.csv"
N = 4000
MARGIN = 0.02


@pytest.fixture(scope="module")
def aa_harsh():
    return simulate(np.random.default_rng(11), N, np.zeros(10), share=0.8)


def test_the_noise_model_is_fitted_to_the_committed_real_runs():
    paired = pd.read_csv(RUNLEVEL)
    log_mean, log_sd = fit_noise(paired)
    assert NOISE_LOG_MEAN == pytest.approx(log_mean, abs=0.01)
    assert log_sd <= NOISE_LOG_SD  # the committed runs cannot resolve a spread; the simulation assumes one
    assert RUNLEVEL_EFFECTS == {v: pytest.approx(g["delta"].mean(), abs=5e-5) for v, g in paired.groupby("variant")}


def test_aa_family_wise_false_calls_stay_under_5_percent_with_adaptive_stopping(aa_harsh):
    r = rates(default_plan(10, MARGIN), aa_harsh)
    assert r["any_better_or_worse"] <= 0.05, r
    assert r["any_excludes_zero"] <= 0.05, r


def test_break_the_same_loop_without_alpha_spending_fails_the_aa_bound(aa_harsh):
    assert rates(no_spending(default_plan(10, MARGIN)), aa_harsh)["any_excludes_zero"] > 0.05


def test_break_the_all_runs_interval_with_seeds_on_the_same_folds_fails_the_aa_bound(aa_harsh):
    fixed_5x3 = default_plan(10, MARGIN, seeds_per_look=(3,), variance="runs")
    assert rates(fixed_5x3, aa_harsh)["any_excludes_zero"] > 0.05


def test_a_true_difference_equal_to_the_margin_is_rarely_called_equivalent():
    for sign in (1, -1):
        d = simulate(np.random.default_rng(12 + sign), N // 2, np.full(10, sign * MARGIN), share=0.8)
        assert rates(default_plan(10, MARGIN), d)["any_equivalent"] <= 0.05


def test_no_difference_at_the_noise_of_the_committed_llrd_and_mean_runs_is_called_equivalent():
    paired = pd.read_csv(RUNLEVEL)
    sd = paired.groupby("variant")["delta"].std()
    noise = [sd["llrd"]] * 5 + [sd["mean"]] * 5
    d = simulate(np.random.default_rng(13), N // 2, np.zeros(10), share=0.5, sd=noise)
    assert rates(default_plan(10, MARGIN), d)["equivalent"] >= 0.8


def test_twice_the_margin_is_called_better_at_the_maximum_budget():
    d = simulate(np.random.default_rng(14), N // 2, np.full(10, -2 * MARGIN), share=0.5)
    assert rates(default_plan(10, MARGIN, futility=0.0), d)["better"] >= 0.8


def test_the_runlevel_effect_mix_costs_at_most_60_percent_of_the_fixed_design():
    d = simulate(np.random.default_rng(15), N // 2, list(RUNLEVEL_EFFECTS.values()), share=0.5)
    r = rates(default_plan(len(RUNLEVEL_EFFECTS), MARGIN), d)
    assert r["runs_over_fixed"] <= 0.6, r
    assert r["stopped_after_round_1"] > 0.5
