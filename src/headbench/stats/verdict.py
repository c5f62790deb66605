"""Verdicts against the baseline: which question, which units, which noise, and how the rounds stop.

**Units.** A unit is one fold of one partition (a K-fold split of the rows). Its paired difference is
d = RMSE(variant) − RMSE(baseline) on that fold's rows, averaged over the unit's seeds. The variant and the
baseline share the unit's run seed (data.folds.run_seed), so most of their seed noise cancels. Round r trains
the open variants and the baseline on a fresh partition (its own split seed): every round adds F units.
Seeds are not shared across folds, so units are not correlated through them.

**Two questions** (``stats.question``):

- ``new_rows``: the seed-averaged RMSE difference, on new rows of this data's population, of single models
  trained on (K−1)/K of this data (the fold models). SE² = s²/n + τ²/N. s² is the variant's own variance
  across its n units. τ²/N is the row-sampling term (Bayle et al. 2020; Sellam et al. 2022): the rows are one
  sample of the population, and every unit scores the same rows, so that part of the noise never averages
  out. Per row, the paired influence ψ = e²_v/(2·RMSE_v) − e²_b/(2·RMSE_b); τ² is the mean covariance of ψ
  over pairs of runs from *different* partitions, clipped at 0 (a run's own variance of ψ also holds seed
  noise). With one partition, pairs of runs with different seeds are used, and with one run its own variance:
  both are conservative.
- ``new_data``: the effect on a new data set of this size, with the corrected repeated-CV variance of
  Bouckaert & Frank (2004): SE² = s²·(1/n + 1/(K−1)). Its overlap term never shrinks with more runs.

**Alpha.** Each interval is a t interval at the variant's own df (n − 1) and level α/(m·L): Bonferroni over
the m compared variants and the L planned rounds. That union bound holds whatever the looks' correlation (the
row term is shared across looks, so alpha spending's independent increments do not hold).

**Reading.** Excludes 0 → better / worse; inside ±margin → equivalent (also when it excludes 0: a real but
negligible difference); otherwise undecided. An undecided variant gets the runs after which a verdict is 80%
likely, or, when no number of runs gets there because the part of the SE that runs do not shrink (the floor:
critical value × the persistent SE) reaches the margin, "needs more data". A row term from a single run is an
upper bound (it also holds that run's seed noise): the interval uses it, the floor and projections do not.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

BETTER, WORSE, EQUIVALENT, UNDECIDED, NEEDS_DATA, TOO_FEW = (
    "better", "worse", "equivalent", "undecided", "needs more data", "not enough runs")
VERDICTS = (BETTER, WORSE, EQUIVALENT, UNDECIDED, NEEDS_DATA, TOO_FEW)
CODE = {v: i for i, v in enumerate(VERDICTS)}
MIN_UNITS = 3             # fewer units cannot estimate a variance
DECIDE_PROBABILITY = 0.8  # "runs needed": the budget at which a verdict is this likely at the observed noise
MAX_PARTITIONS_PROJECTED = 50


@dataclass(frozen=True)
class Design:
    """The frozen design: the question, the error budget and the rounds."""
    alpha: float          # family-wise, over all variants and rounds
    m: int                # compared variants
    looks: int            # L: planned rounds, one fresh partition each
    folds: int            # F: folds trained per partition (units a round adds)
    n_folds: int          # K: folds of a partition (the new_data overlap term 1/(K−1))
    margin: float
    question: str = "new_rows"
    multiplicity: str = "bonferroni"
    futility: float = 0.1  # an open variant stops when a verdict by the last round is less likely than this

    def level(self) -> float:
        """Two-sided error of each single interval (the union bound over variants and rounds)."""
        return self.alpha / (self.m if self.multiplicity == "bonferroni" else 1) / self.looks

    def critical(self, df):
        return sps.t.isf(self.level() / 2, df)

    def overlap(self) -> float:
        return 1 / (self.n_folds - 1)


def row_covariance(psi: np.ndarray, groups=None) -> np.ndarray:
    """The row term's ingredients: for runs ψ[J, N] (one row of ψ per run; NaN where a run did not score the
    row), the [J, J] matrix whose entry (i, j) is the covariance of runs i and j's row influences over the rows
    both scored, divided by the rows a run scores: their contribution to Var(mean ψ). With ``groups`` (a label
    per row), ψ is summed per group first, since rows of a group are not independent: G·cov(S_i, S_j)/N²."""
    import pandas as pd

    frame = pd.DataFrame(np.atleast_2d(np.asarray(psi, dtype=np.float64)).T)
    n = float(frame.notna().sum().mean())
    if groups is None:
        return frame.cov(min_periods=2).to_numpy() / n
    sums = frame.groupby(np.asarray(groups)).sum(min_count=1)
    g = float(sums.notna().sum().mean())
    return sums.cov(min_periods=2).to_numpy() * g / n ** 2


def influence(sq_variant: np.ndarray, sq_baseline: np.ndarray) -> np.ndarray:
    """Per row, the paired influence on the RMSE difference: e²_v/(2·RMSE_v) − e²_b/(2·RMSE_b)."""
    return sq_variant / (2 * np.sqrt(sq_variant.mean(-1, keepdims=True))) - \
        sq_baseline / (2 * np.sqrt(sq_baseline.mean(-1, keepdims=True)))


def mcrmse_influence(sq_variant: np.ndarray, sq_baseline: np.ndarray) -> np.ndarray:
    """Per row, the paired influence on the difference in mean column-wise RMSE, from squared errors [..., T, rows]:
    Σ_t e²_vt/(2T·RMSE_vt) − e²_bt/(2T·RMSE_bt). Each target weighs by its own RMSE, so the target with the largest
    spread does not dominate, as it would in the squared error averaged over targets."""
    return influence(sq_variant, sq_baseline).mean(axis=-2)


def mean_loss_influence(loss_variant: np.ndarray, loss_baseline: np.ndarray) -> np.ndarray:
    """Per row, the paired influence on the difference in a metric that is a mean of row losses (log-loss): the
    row's loss difference itself."""
    return np.asarray(loss_variant, dtype=np.float64) - np.asarray(loss_baseline, dtype=np.float64)


def pair_masks(run_partition, looks: int) -> list[tuple[np.ndarray, ...]]:
    """For each look k, the entries of the runs' row-covariance matrix that may estimate τ²/N, best first: pairs
    of runs from different partitions seen by look k; pairs of different seeds in one partition; a run's own
    variance (the last two are conservative: they also hold seed and training-set noise)."""
    part = np.asarray(run_partition)
    eye = np.eye(len(part), dtype=bool)
    out = []
    for k in range(looks):
        seen = part <= k
        both = np.outer(seen, seen)
        same = part[:, None] == part[None, :]
        out.append((both & ~same, both & same & ~eye, both & eye))
    return out


ROW_TERM_KINDS = ("across partitions", "across seeds", "one run (an upper bound)")


def row_term(row_cov: np.ndarray, masks: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """τ²/N from each variant's row covariances [..., J, J] (NaN: runs it lacks): the mean over the first kind of
    pair in ``masks`` that the variant has (pair_masks), and which kind that was (index into ROW_TERM_KINDS)."""
    found = np.isfinite(row_cov)
    term = np.full(row_cov.shape[:-2], np.nan)
    kind = np.full(row_cov.shape[:-2], len(masks))
    for k in reversed(range(len(masks))):
        use = found & masks[k]
        count = use.sum((-1, -2))
        mean = np.where(use, row_cov, 0.0).sum((-1, -2)) / np.maximum(count, 1)
        term = np.where(count > 0, mean, term)
        kind = np.where(count > 0, k, kind)
    return term, kind


@dataclass
class Interval:
    """Every variant's interval and verdict (arrays over [..., variants])."""
    delta: np.ndarray
    se: np.ndarray
    df: np.ndarray
    low: np.ndarray
    high: np.ndarray
    code: np.ndarray      # index into VERDICTS


@dataclass
class Look(Interval):
    """Every variant's state after one look: its interval and what projections need."""
    s2: np.ndarray        # the variant's own variance across units
    n: np.ndarray         # units
    persistent: np.ndarray  # variance that more runs do not shrink: τ²/N (new_rows) or s²/(K−1) (new_data)
    planned: np.ndarray   # the persistent variance projections use: 0 where τ² is only bounded (one run)
    row_kind: np.ndarray  # how τ² was estimated (ROW_TERM_KINDS)


def read(low, high, margin: float) -> np.ndarray:
    """Verdict codes from an interval (NaN: too few units)."""
    code = np.full(np.shape(low), CODE[UNDECIDED])
    code = np.where(high < 0, CODE[BETTER], code)
    code = np.where(low > 0, CODE[WORSE], code)
    code = np.where((low > -margin) & (high < margin), CODE[EQUIVALENT], code)
    return np.where(np.isfinite(low) & np.isfinite(high), code, CODE[TOO_FEW])


def look(design: Design, units: np.ndarray, row: np.ndarray, row_kind=0) -> Look:
    """Intervals and verdicts from units [..., n] (all present) and the row term τ²/N [...], estimated as
    ``row_kind`` says. One run's own row variance also holds its seed noise: the interval uses it (conservative),
    but projections (futility, runs needed, the floor) do not, since the next partition estimates τ² properly."""
    n = units.shape[-1]
    delta = units.mean(-1)
    s2 = units.var(-1, ddof=1) if n > 1 else np.full(delta.shape, np.nan)
    if design.question == "new_rows":
        persistent = np.maximum(row, 0.0)
    else:
        persistent = s2 * design.overlap()
    se = np.sqrt(s2 / n + persistent)
    df = np.full(delta.shape, float(n - 1))
    crit = design.critical(df) if n >= MIN_UNITS else np.nan
    low, high = delta - crit * se, delta + crit * se
    kind = np.broadcast_to(row_kind, delta.shape)
    planned = np.where((kind == len(ROW_TERM_KINDS) - 1) & (design.question == "new_rows"), 0.0, persistent)
    return Look(delta, se, df, low, high, read(low, high, design.margin), s2, np.full(delta.shape, n), persistent,
                planned, kind)


def decision_probability(design: Design, state: Look, n_later) -> np.ndarray:
    """Predictive probability that the interval with ``n_later`` units decides, given the estimate now: the later
    estimate ~ N(Δ̂, s²(1/n − 1/n_later)) (the persistent part is already in Δ̂), judged at df n_later − 1."""
    n_later = np.asarray(n_later, dtype=np.float64)
    shift = np.sqrt(np.maximum(state.s2 * (1 / state.n - 1 / n_later), 1e-24))
    half = design.critical(n_later - 1) * np.sqrt(state.s2 / n_later + state.planned)
    outside = sps.norm.cdf((-half - state.delta) / shift) + sps.norm.sf((half - state.delta) / shift)
    room = design.margin - half
    inside = np.where(room > 0, sps.norm.cdf((room - state.delta) / shift) - sps.norm.cdf((-room - state.delta) / shift), 0.0)
    return np.minimum(outside + inside, 1.0)


@dataclass
class Outcome:
    """The whole study: per variant, the look it stopped at and its state there."""
    looks: list
    stop: np.ndarray        # look index (0-based) at which each variant stopped; -1 while still open
    seen: np.ndarray        # looks each variant has all units of
    final: Look
    futile: np.ndarray      # stopped early as undecided
    floor: np.ndarray       # critical value (last look) × the persistent SE
    runs_needed: np.ndarray  # further runs (F per partition) after which a verdict is 80% likely; -1: none; 0: decided


def replay(design: Design, units: np.ndarray, row_cov: np.ndarray, run_partition) -> Outcome:
    """See _replay; too few units give NaN estimates (TOO_FEW), not warnings."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _replay(design, np.asarray(units, dtype=np.float64), np.asarray(row_cov, dtype=np.float64), run_partition)


def _replay(design: Design, units: np.ndarray, row_cov: np.ndarray, run_partition) -> Outcome:
    """Replay the adaptive design on units [..., V, P, F] (partitions in round order; NaN = not run) and the runs'
    row covariances [..., V, J, J] (``run_partition[j]``: the partition index of run j).

    At look k every open variant with all units of partitions 0..k is judged on them; a decided variant stops,
    and so does one whose chance of a verdict by the last look is below ``design.futility``. A variant without
    the units of its next look (a study in progress) stays open there."""
    lead = units.shape[:-2]
    p_max, f = units.shape[-2:]
    looks = min(design.looks, p_max)
    masks = pair_masks(run_partition, looks)
    open_ = np.ones(lead, dtype=bool)
    stop = np.full(lead, -1)
    seen = np.zeros(lead, dtype=int)
    futile = np.zeros(lead, dtype=bool)
    history, final = [], None
    for k in range(looks):
        x = units[..., :k + 1, :].reshape(*lead, (k + 1) * f)
        have = np.isfinite(x).all(-1)
        seen = np.where(have, k + 1, seen)
        state = look(design, x, *row_term(row_cov, masks[k]))
        upd = open_ & have
        decided = (state.code != CODE[UNDECIDED]) & (state.code != CODE[TOO_FEW])
        if k < design.looks - 1:
            hopeless = decision_probability(design, state, design.looks * f) < design.futility
        else:
            hopeless = np.zeros(lead, dtype=bool)
        ends = upd & (decided | hopeless | (k == design.looks - 1))
        futile |= ends & hopeless & ~decided
        stop = np.where(ends, k, stop)
        final = state if final is None else Look(*(np.where(upd, getattr(state, a), getattr(final, a))
                                                   for a in Look.__dataclass_fields__))
        history.append(state)
        open_ &= ~ends
    floor = design.critical(design.looks * f - 1) * np.sqrt(final.planned)
    need = _runs_needed(design, final, f)
    final.code = np.where((final.code == CODE[UNDECIDED]) & (need < 0) & (floor >= design.margin), CODE[NEEDS_DATA], final.code)
    return Outcome(history, stop, seen, final, futile, floor, need)


def _runs_needed(design: Design, final: Look, f: int) -> np.ndarray:
    need = np.where(final.code == CODE[UNDECIDED], -1, 0)
    for extra in range(1, MAX_PARTITIONS_PROJECTED + 1):
        likely = decision_probability(design, final, final.n + extra * f) >= DECIDE_PROBABILITY
        need = np.where((need < 0) & likely, extra * f, need)
    return need
