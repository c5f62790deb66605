"""Each statistic of headbench.stats.verdict against an independent computation, so that breaking it fails here."""
import numpy as np
import pytest
from scipy import stats as sps

from headbench.stats.verdict import (BETTER, CODE, EQUIVALENT, NEEDS_DATA, TOO_FEW, UNDECIDED, WORSE, Design,
                                     decision_probability, influence, look, pair_masks, read, replay, row_covariance,
                                     row_term)


def design(**kw):
    return Design(**{**dict(alpha=0.05, m=11, looks=3, folds=5, n_folds=5, margin=0.01, futility=0.0), **kw})


def test_the_union_bound_gives_the_critical_values_of_bonferroni_over_variants_and_rounds():
    d = design()
    assert d.level() == pytest.approx(0.05 / 33)
    # the figures: 7.7 / 4.5 / 3.9 at df 4 / 9 / 14 for 11 variants and 3 rounds
    assert [round(float(d.critical(df)), 1) for df in (4, 9, 14)] == [7.7, 4.5, 3.9]
    assert design(multiplicity="none").level() == pytest.approx(0.05 / 3)


@pytest.mark.parametrize("low, high, verdict", [
    (-0.05, -0.01, BETTER), (0.01, 0.05, WORSE), (-0.005, 0.008, EQUIVALENT), (0.001, 0.009, EQUIVALENT),
    (-0.03, 0.005, UNDECIDED), (-0.005, 0.02, UNDECIDED), (np.nan, np.nan, TOO_FEW)])
def test_one_interval_gives_every_verdict(low, high, verdict):
    assert read(np.array(low), np.array(high), 0.01) == CODE[verdict]


def test_new_rows_adds_the_row_term_and_new_data_the_overlap_term_at_the_variants_own_df():
    units = np.array([0.01, 0.02, -0.005, 0.0, 0.015])
    s2, n = units.var(ddof=1), 5
    rows = look(design(question="new_rows"), units, np.array(4e-5))
    assert rows.se == pytest.approx(np.sqrt(s2 / n + 4e-5)) and rows.df == 4
    crit = sps.t.isf(0.05 / 33 / 2, 4)
    assert rows.high - rows.delta == pytest.approx(crit * rows.se)
    data = look(design(question="new_data"), units, np.array(4e-5))   # Bouckaert & Frank: s²(1/n + n2/n1)
    assert data.se == pytest.approx(np.sqrt(s2 * (1 / n + 1 / 4)))
    assert look(design(), units, np.array(-1e-5)).se == pytest.approx(np.sqrt(s2 / n))   # τ² clipped at 0


def test_row_covariance_and_influence_by_formula():
    rng = np.random.default_rng(0)
    e_v, e_b = rng.normal(0, 1, (2, 3, 50)) ** 2
    psi = influence(e_v, e_b)
    assert psi[0] == pytest.approx(e_v[0] / (2 * np.sqrt(e_v[0].mean())) - e_b[0] / (2 * np.sqrt(e_b[0].mean())))
    assert row_covariance(psi) == pytest.approx(np.cov(psi) / 50)
    gaps = psi.copy()
    gaps[1, :10] = np.nan   # a run that did not score some rows: pairwise-complete covariance
    c = row_covariance(gaps)
    assert c[0, 1] == pytest.approx(np.cov(psi[0, 10:], psi[1, 10:])[0, 1] / np.mean([50, 40, 50]))


def test_the_row_term_prefers_pairs_across_partitions_then_seeds_then_the_run_itself():
    part = np.array([0, 0, 1, 1, 2, 2])   # two seeds per partition
    cov = np.arange(36, dtype=float).reshape(6, 6)
    cov = (cov + cov.T) / 2
    masks = pair_masks(part, 3)
    assert row_term(cov, masks[0]) == (pytest.approx(cov[0, 1]), 1)                      # one partition: its seeds
    assert row_term(cov, masks[1]) == (pytest.approx(np.mean([cov[i, j] for i in (0, 1) for j in (2, 3)])), 0)
    lone = cov.copy()
    lone[1, :] = lone[:, 1] = np.nan                                                     # a variant without seed 2
    assert row_term(lone, masks[0]) == (pytest.approx(cov[0, 0]), 2)                     # one run: its own variance
    assert row_term(lone, masks[1]) == (pytest.approx(np.mean([cov[0, 2], cov[0, 3]])), 0)


def test_decision_probability_by_hand():
    d = design(margin=0.02)
    state = look(d, np.array([0.01, 0.02, 0.0, 0.015, 0.005]), np.array(1e-6))
    p = decision_probability(d, state, 15)
    shift = np.sqrt(state.s2 * (1 / 5 - 1 / 15))
    half = sps.t.isf(d.level() / 2, 14) * np.sqrt(state.s2 / 15 + 1e-6)
    want = sps.norm.sf((half - state.delta) / shift) + sps.norm.cdf((-half - state.delta) / shift)
    room = 0.02 - half
    if room > 0:
        want += sps.norm.cdf((room - state.delta) / shift) - sps.norm.cdf((-room - state.delta) / shift)
    assert p == pytest.approx(min(want, 1.0))   # the regions overlap when half < margin / 2: then always decided
    wide = decision_probability(design(margin=0.002), state, 15)
    assert 0 < wide < 1


def _study(effects, sd, rows=0.0, p=3, f=5, seed=0):
    """Units whose mean and SD within each partition are exactly ``effects`` and ``sd``."""
    z = np.random.default_rng(seed).normal(0, 1, (len(effects), p, f))
    z = (z - z.mean(-1, keepdims=True)) / z.std(-1, ddof=1, keepdims=True)
    units = np.asarray(effects)[:, None, None] + z * np.asarray(sd)[:, None, None]
    cov = np.broadcast_to(np.full((p, p), rows), (len(effects), p, p)).copy()
    return units, cov, np.arange(p)


def test_a_study_stops_decided_variants_and_only_sees_rounds_whose_units_exist():
    units, cov, part = _study([0.08, 0.0, 0.012], [0.004, 0.001, 0.008], seed=3)
    d = design(m=3)
    out = replay(d, units, cov, part)
    codes = [list(CODE)[c] for c in out.final.code]
    assert codes[0] == WORSE and out.stop[0] == 0 and out.final.n[0] == 5
    assert codes[1] == EQUIVALENT
    assert out.looks[0].code[2] == CODE[UNDECIDED] and out.stop[2] > 0   # 0.012 ± 0.008: round 1 cannot tell
    partial = units.copy()
    partial[:, 1:] = np.nan   # round 2 not trained yet
    half = replay(d, partial, cov, part)
    assert half.stop[2] == -1 and half.seen[2] == 1 and half.stop[0] == 0


def test_a_row_floor_at_the_margin_says_needs_more_data_and_promises_no_runs():
    # a near-zero tweak: tiny unit noise, but a row term whose floor (critical value x row SE) exceeds the margin
    units, cov, part = _study([0.001], [0.0005], rows=(0.01 / 2.0) ** 2)
    d = design(m=1)
    out = replay(d, units, cov, part)
    assert out.floor[0] == pytest.approx(d.critical(14) * 0.01 / 2.0)
    assert out.floor[0] >= d.margin
    assert list(CODE)[out.final.code[0]] == NEEDS_DATA and out.runs_needed[0] == -1
    # after round 1 alone, one run's row variance bounds τ² from above: the interval uses it, the floor does not
    first = replay(design(m=1, looks=1), units[:, :1], cov[:, :1, :1], part[:1])
    assert first.final.row_kind[0] == 2 and first.floor[0] == 0 and list(CODE)[first.final.code[0]] != NEEDS_DATA
    # the same variant on more rows (a smaller row term): equivalent
    small, cov_small, _ = _study([0.001], [0.0005], rows=(0.001 / 3.0) ** 2)
    assert list(CODE)[replay(d, small, cov_small, part).final.code[0]] == EQUIVALENT


def test_runs_needed_counts_partitions_times_folds_for_an_undecided_variant():
    units, cov, part = _study([0.012], [0.02], p=1, seed=4)
    out = replay(design(m=1, looks=1), units, cov, part)
    if out.final.code[0] == CODE[UNDECIDED]:
        assert out.runs_needed[0] > 0 and out.runs_needed[0] % 5 == 0


def test_a_hopeless_variant_stops_for_futility_after_round_1_and_only_when_futility_is_on():
    units, cov, part = _study([0.005], [0.2], seed=8)
    out = replay(design(m=1, futility=0.1), units, cov, part)
    assert out.futile[0] and out.stop[0] == 0 and out.final.code[0] != CODE[BETTER]
    kept = replay(design(m=1, futility=0.0), units, cov, part)
    assert not kept.futile[0] and kept.stop[0] == 2 and kept.final.n[0] == 15
