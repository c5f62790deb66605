"""Each statistic of headbench.stats.sequential (the design of studies up to study5, kept so their committed
verdicts re-derive and the calibration harness can compare against it) against an independent computation, so that breaking it fails here."""
import numpy as np
import pandas as pd
import pytest
from scipy import special
from scipy import stats as sps

from headbench.stats.sequential import (BETTER, CODE, EQUIVALENT, UNDECIDED, WORSE, Plan, decision_probability, moderate,
                                  raw_estimates, read, run, runs_needed, spent, t_critical, z_boundaries)


def plan(**kw):
    base = dict(alpha=0.05, m=10, seeds_per_look=(1, 2, 3), n_folds=5, rho=0.2, margin=0.02)
    return Plan(**{**base, **kw})


@pytest.mark.parametrize("kind", ["pocock", "obrien_fleming"])
def test_boundaries_spend_exactly_the_planned_alpha_at_each_look(kind):
    """Brownian motion on the planned information: the crossing probability by look k is spent(t_k)."""
    t = (0.5, 0.8, 1.0)
    c = np.array(z_boundaries(0.01, t, kind))
    inc = np.random.default_rng(0).normal(size=(1_000_000, 3)) * np.sqrt(np.diff((0,) + t))
    z = np.abs(inc.cumsum(1)) / np.sqrt(t)
    for k in range(3):
        want = spent(kind, 0.01, t[k])
        assert (z[:, :k + 1] >= c[:k + 1]).any(1).mean() == pytest.approx(want, abs=4 * np.sqrt(want / 1e6))
    assert spent(kind, 0.01, 1.0) == pytest.approx(0.01)


def test_one_look_is_the_fixed_design_and_information_is_spent_by_the_corrected_variance():
    assert z_boundaries(0.005, (1.0,), "pocock")[0] == pytest.approx(sps.norm.isf(0.0025))
    p = plan(fold_share=0.5)
    # (0.5 + 0.5 / S) for S = 1, 2, 3: the first look holds 2/3 of the information, not 1/3 of the runs
    assert p.fractions() == pytest.approx((2 / 3, 8 / 9, 1.0))
    assert plan(variance="runs").fractions()[0] == pytest.approx((1 / 15 + 0.25) / (1 / 5 + 0.25))


def test_boundaries_are_converted_at_each_looks_degrees_of_freedom():
    assert t_critical(1.96, 4) == pytest.approx(sps.t.ppf(sps.norm.cdf(1.96), 4))
    assert t_critical(1.96, 1e9) == pytest.approx(1.96, abs=1e-6)


def test_moderated_variance_matches_limmas_formulas():
    rng = np.random.default_rng(1)
    s2 = 0.01 * rng.chisquare(4, 12) / 4 * np.exp(rng.normal(0, 0.6, 12))
    post, df = moderate(s2, 4.0)
    e = np.log(s2) - special.digamma(2) + np.log(2)
    spread = e.var(ddof=1) - special.polygamma(1, 2)
    d0 = 2 * _trigamma_inverse_by_bisection(spread)
    d0 = min(d0, 4.0 * 4)
    s0 = np.exp(e.mean() + special.digamma(d0 / 2) - np.log(d0 / 2))
    np.testing.assert_allclose(post, (d0 * s0 + 4 * s2) / (d0 + 4), rtol=1e-6)
    np.testing.assert_allclose(df, d0 + 4)
    # equal variances: no spread beyond sampling, the prior takes the capped weight and everything is pooled
    same, df_same = moderate(np.full(5, 0.3), 4.0)
    s0 = 0.3 * np.exp(special.digamma(8) - np.log(8) - special.digamma(2) + np.log(2))
    np.testing.assert_allclose(same, (16 * s0 + 4 * 0.3) / 20, rtol=1e-6)
    assert (df_same == 4 + 16).all()


def _trigamma_inverse_by_bisection(x):
    from scipy.optimize import brentq
    return brentq(lambda y: special.polygamma(1, y) - x, 1e-6, 1e6)


def test_raw_estimates_use_fold_means_or_every_run():
    d = np.array([[1.0, 3.0], [2.0, 2.0], [6.0, 4.0]])  # 3 folds x 2 seeds
    mean, var, within, df = raw_estimates(d, "fold_means")
    assert mean == pytest.approx(3.0) and var == pytest.approx(np.var([2, 2, 5], ddof=1)) and df == 2
    assert within == pytest.approx(np.mean([2.0, 0.0, 2.0]))
    mean, var, _, df = raw_estimates(d, "runs")
    assert var == pytest.approx(np.var(d.ravel(), ddof=1)) and df == 5


@pytest.mark.parametrize("low, high, verdict", [
    (-0.05, -0.01, BETTER), (0.01, 0.05, WORSE), (-0.01, 0.015, EQUIVALENT), (0.001, 0.015, EQUIVALENT),
    (-0.03, 0.01, UNDECIDED), (-0.01, 0.02, UNDECIDED)])
def test_one_interval_gives_every_verdict(low, high, verdict):
    assert read(np.array(low), np.array(high), 0.02) == CODE[verdict]


def test_decision_probability_by_hand():
    # later estimate ~ N(0.01, 0.01^2 - 0.006^2 = 0.008^2); decided when |D| > 0.015 or |D| < 0.02 - 0.015
    p = decision_probability(0.01, 0.01, 0.006, 0.015, 0.02)
    sd = 0.008
    want = sps.norm.sf((0.015 - 0.01) / sd) + sps.norm.cdf((-0.015 - 0.01) / sd) + \
        sps.norm.cdf((0.005 - 0.01) / sd) - sps.norm.cdf((-0.005 - 0.01) / sd)
    assert p == pytest.approx(want)


def test_a_study_stops_decided_variants_and_gives_open_ones_more_seeds():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.004, (3, 5, 3))
    d = noise + np.array([0.08, 0.0, 0.012])[:, None, None]   # clearly worse, clearly null, in between
    p = plan(m=3, futility=0.0)
    out = run(p, d)
    codes = [list(CODE)[c] for c in out.final.code]
    assert codes[0] == WORSE and out.stop[0] == 0 and out.seeds[0] == 1
    assert codes[1] == EQUIVALENT
    assert out.stop[2] >= 0 and out.seeds[2] == p.seeds_per_look[out.stop[2]]
    # the replay only sees a round's runs once they exist: without seed 2, variant 2 stays open after round 1
    partial = d.copy()
    partial[:, :, 1:] = np.nan
    if out.stop[2] > 0:
        assert run(p, partial).stop[2] == -1


def test_runs_needed_grows_with_noise_and_says_when_seeds_cannot_help():
    p = plan(m=1, seeds_per_look=(1,), futility=0.0)
    quiet = np.random.default_rng(4).normal(0.012, 0.004, (1, 5, 1))
    out = run(p, quiet)
    need = runs_needed(p, out)
    if out.final.code[0] == CODE[UNDECIDED]:
        assert need[0] > 0 and need[0] % 5 == 0
    # all of the noise fold-level (the seeds agree on every fold): more seeds cannot narrow the interval
    fold_level = np.repeat(np.random.default_rng(5).normal(0.01, 0.03, (1, 5, 1)), 3, axis=2)
    p3 = plan(m=1, seeds_per_look=(3,), futility=0.0)
    out3 = run(p3, fold_level)
    assert out3.final.code[0] == CODE[UNDECIDED] and runs_needed(p3, out3)[0] == -1


def test_spending_functions_by_formula():
    assert spent("pocock", 0.01, 0.5) == pytest.approx(0.01 * np.log(1 + (np.e - 1) * 0.5))
    assert spent("obrien_fleming", 0.01, 0.5) == pytest.approx(2 - 2 * sps.norm.cdf(sps.norm.isf(0.005) / np.sqrt(0.5)))


def test_a_hopeless_variant_stops_for_futility_after_round_1_and_only_when_futility_is_on():
    d = np.random.default_rng(8).normal(0.02, 0.08, (2, 5, 3))  # noise far beyond what 3 seeds can resolve
    d[1] = np.random.default_rng(9).normal(0.0, 0.002, (5, 3))   # a quiet companion for the prior
    out = run(plan(m=2, futility=0.1), d)
    assert out.futile[0] and out.stop[0] == 0 and out.final.code[0] == CODE[UNDECIDED]
    kept = run(plan(m=2, futility=0.0), d)
    assert not kept.futile[0] and kept.stop[0] == 2 and kept.seeds[0] == 3
