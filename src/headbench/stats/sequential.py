"""Verdicts that hold under optional stopping: repeated confidence intervals, read for superiority and equivalence.

The paired difference of a variant and the baseline on fold f with seed s is modelled as

    d_fs = Δ + a_f + e_fs

a_f is the fold-level part (the effect varying with the training set; folds of one K-fold split share most
training rows, so the a_f correlate, rho ~ 1/K as Nadeau & Bengio model it); e_fs is seed noise. A variant's
fold means (over its S seeds) have variance sigma_a^2 + sigma_e^2 / S; the variance of their mean is that times
1/F + rho / (1 - rho). Three ways to estimate it (``stats.variance``):

- ``runs``: every run alike (J = F x S runs, J - 1 df, 1/J + rho/(1 - rho)); liberal once seeds share folds;
- ``fold_means``: the sample variance of the F fold means, F - 1 df;
- ``moderated``: the same, shrunk toward a prior fitted over the study's variants (Smyth 2004, limma's eBayes),
  which adds the prior's degrees of freedom while still letting variants differ.

Every decision is read from one interval per variant: a repeated confidence interval (Jennison & Turnbull)
whose critical value at each look comes from a Lan-DeMets alpha-spending function over the planned information
fractions, at the per-variant level alpha / m (Bonferroni across the m compared variants). All the intervals
of all variants at all looks cover their true differences together with probability >= 1 - alpha, so stopping
whenever a verdict is reached keeps every kind of false call (better, worse, equivalent) under alpha family-wise.
An interval that excludes 0 is a real difference; one inside +-margin is an equivalence (a TOST at alpha/2 per
side); when both hold the difference is real but negligible, and the verdict says "equivalent".
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special
from scipy import stats as sps

from headbench.stats.verdict import BETTER, CODE, EQUIVALENT, TOO_FEW, UNDECIDED, VERDICTS, WORSE, read  # noqa: F401 (shared)
from headbench.stats.verdict import Interval as Look

VARIANCE_MODELS = ("moderated", "fold_means", "runs")
SPENDING = ("pocock", "obrien_fleming")
MIN_FOLDS = 3          # fewer folds cannot estimate the fold-level part of the noise
DECIDE_PROBABILITY = 0.8  # "runs needed": the budget at which a verdict is this likely at the observed noise
MAX_SEEDS_PROJECTED = 100
# The prior counts for at most this many times a variant's own degrees of freedom. With ~10 variants its df is
# poorly estimated, and an overconfident prior makes the noisiest variants liberal: in simulated A/A studies with
# per-variant noise levels differing as log-normal(sd 0.5) and fold share 0.8 (one draw of 10,000), the uncapped
# prior gave 5.9% family-wise false differences, a cap of 4 gave 3.9% (docs/methodology.md).
PRIOR_DF_CAP = 4


@dataclass(frozen=True)
class Plan:
    """The frozen design: seeds per fold at each look, the spending function and the noise assumptions."""
    alpha: float                 # family-wise, over all variants and looks
    m: int                       # compared variants (Bonferroni: each gets alpha / m)
    seeds_per_look: tuple[int, ...]
    n_folds: int                 # F: folds every run of the study is on
    rho: float                   # training-set overlap correlation, 1 / K
    margin: float
    fold_share: float = 0.5      # planned share of the fold-level part in a run's paired difference
    spending: str = "pocock"
    variance: str = "moderated"
    multiplicity: str = "bonferroni"
    futility: float = 0.1        # stop an open variant when a verdict by the last look is less likely than this

    @property
    def looks(self) -> int:
        return len(self.seeds_per_look)

    @property
    def overlap(self) -> float:
        return self.rho / (1 - self.rho)

    def fractions(self) -> tuple[float, ...]:
        """Planned information at each look over the last one: by the corrected variance, not by run count."""
        info = np.array([1 / self.variance_factor(s) for s in self.seeds_per_look])
        return tuple(float(x) for x in info / info[-1])

    def variance_factor(self, seeds: float) -> float:
        """Var(mean Δ) in units of a run's paired-difference variance, under the planned fold share."""
        if self.variance == "runs":
            return 1 / (self.n_folds * seeds) + self.overlap
        return (self.fold_share + (1 - self.fold_share) / seeds) * (1 / self.n_folds + self.overlap)

    def z_bounds(self) -> tuple[float, ...]:
        level = self.alpha / self.m if self.multiplicity == "bonferroni" else self.alpha
        return z_boundaries(level, self.fractions(), self.spending)


def spent(kind: str, alpha: float, t: float) -> float:
    """Lan-DeMets alpha spending: the share of two-sided ``alpha`` used up by information fraction ``t``."""
    if kind == "pocock":
        return alpha * np.log1p((np.e - 1) * t)
    return float(2 - 2 * sps.norm.cdf(sps.norm.isf(alpha / 2) / np.sqrt(t)))


@lru_cache(maxsize=256)
def z_boundaries(alpha: float, fractions: tuple[float, ...], kind: str) -> tuple[float, ...]:
    """Two-sided normal critical values c_1..c_K with P(|Z_j| >= c_j at some look j <= k) = spent(t_k) under
    the null, where corr(Z_i, Z_j) = sqrt(t_i / t_j) (independent increments of information)."""
    from scipy.optimize import brentq
    t = np.asarray(fractions, dtype=np.float64)
    bounds: list[float] = []
    for k in range(len(t)):
        target = spent(kind, alpha, t[k])
        if k == 0:
            bounds.append(float(sps.norm.isf(target / 2)))
            continue
        cov = np.sqrt(np.minimum.outer(t[:k + 1], t[:k + 1]) / np.maximum.outer(t[:k + 1], t[:k + 1]))

        def crossed(c):
            hi = np.array(bounds + [c])
            inside = sps.multivariate_normal.cdf(hi, np.zeros(k + 1), cov, allow_singular=True, lower_limit=-hi,
                                                 abseps=1e-9, releps=1e-7, maxpts=200_000 * (k + 1),
                                                 rng=np.random.default_rng(0))  # fixed: the same boundaries every time
            return (1 - inside) - target
        bounds.append(float(brentq(crossed, 0.5, 12.0, xtol=1e-6)) if crossed(12.0) < 0 else float("inf"))
    return tuple(bounds)


def t_critical(z: float | np.ndarray, df) -> np.ndarray:
    """A normal boundary converted at this look's degrees of freedom (same two-sided tail probability)."""
    return sps.t.isf(sps.norm.sf(z), df)


def _trigamma_inverse(x: np.ndarray) -> np.ndarray:
    """y with trigamma(y) = x, by Newton's method (as limma's trigammaInverse)."""
    y = 0.5 + 1 / x
    for _ in range(50):
        tri = special.polygamma(1, y)
        step = tri * (1 - tri / x) / special.polygamma(2, y)
        y = y + step
        if np.all(-step / y < 1e-8):
            break
    return y


def moderate(s2: np.ndarray, df: float) -> tuple[np.ndarray, np.ndarray]:
    """Smyth's (2004) empirical-Bayes variances over the last axis (one study's variants): each s2 is shrunk
    toward a scaled-inverse-chi2 prior fitted to all of them; returns the posterior variances and their
    degrees of freedom (df + the prior's d0, at most the pooled df). NaN entries (no estimate) are ignored."""
    s2 = np.asarray(s2, dtype=np.float64)
    ok = np.isfinite(s2)
    n = ok.sum(-1, keepdims=True)
    z = np.log(np.where(ok, np.maximum(s2, 1e-300), np.nan))
    e = z - special.digamma(df / 2) + np.log(df / 2)
    e_bar = np.nanmean(e, -1, keepdims=True)
    spread = np.nansum((e - e_bar) ** 2, -1, keepdims=True) / np.maximum(n - 1, 1) - special.polygamma(1, df / 2)
    cap = df * np.minimum(n, PRIOR_DF_CAP)
    d0 = np.where(spread > 0, 2 * _trigamma_inverse(np.where(spread > 0, spread, 1.0)), np.inf)
    d0 = np.minimum(d0, cap)
    s0 = np.exp(e_bar + special.digamma(d0 / 2) - np.log(d0 / 2))
    post = (d0 * s0 + df * s2) / (d0 + df)
    return post, np.broadcast_to(d0 + df, post.shape).copy()


def raw_estimates(deltas: np.ndarray, variance: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Mean, raw variance, within-fold seed variance and df from paired differences [..., F, S] (all present)."""
    f, s = deltas.shape[-2:]
    within = deltas.var(-1, ddof=1).mean(-1) if s > 1 else np.full(deltas.shape[:-2], np.nan)
    x = deltas.reshape(*deltas.shape[:-2], f * s) if variance == "runs" else deltas.mean(-1)
    return x.mean(-1), x.var(-1, ddof=1), within, x.shape[-1] - 1


def se_at(plan: Plan, var_now, within, seeds_now, seeds) -> np.ndarray:
    """The standard error a variant would have with ``seeds`` per fold, from its variance estimate now (fold
    means' or runs'), split into fold-level and seed parts by the pooled within-fold seed variance when there
    are repeated seeds, else by the planned fold share."""
    if plan.variance == "runs":
        return np.sqrt(var_now * (1 / (plan.n_folds * seeds) + plan.overlap))
    planned = var_now * (1 - plan.fold_share) / seeds_now / (plan.fold_share + (1 - plan.fold_share) / seeds_now)
    seed_part = np.where(np.isfinite(within) & (seeds_now > 1), np.minimum(within / seeds_now, var_now), planned)
    fold_part = var_now - seed_part
    return np.sqrt((fold_part + seed_part * seeds_now / seeds) * (1 / plan.n_folds + plan.overlap))


def decision_probability(delta, se_now, se_later, half_later, margin: float) -> np.ndarray:
    """Predictive probability that a later interval of half-width ``half_later`` decides, given the estimate now:
    the later estimate ~ N(delta, se_now^2 - se_later^2)."""
    sd = np.sqrt(np.maximum(se_now ** 2 - se_later ** 2, 1e-24))
    outside = sps.norm.cdf((-half_later - delta) / sd) + sps.norm.sf((half_later - delta) / sd)
    room = margin - half_later
    inside = np.where(room > 0, sps.norm.cdf((room - delta) / sd) - sps.norm.cdf((-room - delta) / sd), 0.0)
    return np.minimum(outside + inside, 1.0)


def look(plan: Plan, k: int, delta, s2_raw, df_raw) -> Look:
    """Intervals and verdicts at look k (0-based) from every variant's current raw estimates."""
    s2, df = moderate(s2_raw, df_raw) if plan.variance == "moderated" else (s2_raw, np.full(np.shape(s2_raw), float(df_raw)))
    n = plan.n_folds * plan.seeds_per_look[k] if plan.variance == "runs" else plan.n_folds
    se = np.sqrt(s2 * (1 / n + plan.overlap)) if plan.variance == "runs" else np.sqrt(s2 * (1 / plan.n_folds + plan.overlap))
    crit = np.where(n >= MIN_FOLDS, t_critical(plan.z_bounds()[k], df), np.nan)
    return Look(delta, se, df, delta - crit * se, delta + crit * se, read(delta - crit * se, delta + crit * se, plan.margin))


@dataclass
class Outcome:
    """The whole sequential study: per variant, the look it stopped at and its state there."""
    looks: list
    stop: np.ndarray        # look index (0-based) at which each variant stopped; -1 while still open
    final: Look             # each variant's state at its stopping look (or the latest look while open)
    futile: np.ndarray      # stopped early as undecided
    var_raw: np.ndarray     # the raw variance estimate behind ``final`` (for projections)
    within: np.ndarray
    seeds: np.ndarray       # seeds per fold each variant used


def run(plan: Plan, deltas: np.ndarray) -> Outcome:
    """See _run; a study with too few folds or runs gives NaN estimates (TOO_FEW), not warnings."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _run(plan, deltas)


def _run(plan: Plan, deltas: np.ndarray) -> Outcome:
    """Replay the adaptive design on paired differences [..., V, F, S_max] (seeds in round order; NaN = not run).

    At each look every open variant is judged on its first seeds_per_look[k] seeds; a decided variant stops, and
    so does one whose chance of a verdict by the last look is below ``plan.futility``. A variant without the runs of
    its next look (a study in progress) stays open there.
    """
    deltas = np.asarray(deltas, dtype=np.float64)
    lead = deltas.shape[:-2]
    open_ = np.ones(lead, dtype=bool)
    stop = np.full(lead, -1)
    futile = np.zeros(lead, dtype=bool)
    delta = np.full(lead, np.nan)
    var_raw = np.full(lead, np.nan)
    within = np.full(lead, np.nan)
    seeds = np.zeros(lead, dtype=int)
    df_raw = None
    history, final = [], None
    for k in range(plan.looks):
        s_k = plan.seeds_per_look[k]
        d, v, w, df_raw = raw_estimates(deltas[..., :s_k], plan.variance)
        have = np.isfinite(d)
        upd = open_ & have
        delta, var_raw, within = np.where(upd, d, delta), np.where(upd, v, var_raw), np.where(upd, w, within)
        seeds = np.where(upd, s_k, seeds)
        state = look(plan, k, delta, var_raw, df_raw)
        decided = state.code != CODE[UNDECIDED]
        if k < plan.looks - 1:
            last = plan.looks - 1
            se_last = se_at(plan, var_raw, within, s_k, plan.seeds_per_look[last])
            se_last = se_last * state.se / np.maximum(se_at(plan, var_raw, within, s_k, s_k), 1e-300)  # moderated scale
            half = t_critical(plan.z_bounds()[last], state.df) * se_last
            hopeless = decision_probability(state.delta, state.se, se_last, half, plan.margin) < plan.futility
        else:
            hopeless = np.zeros(lead, dtype=bool)
        ends = upd & (decided | hopeless | (k == plan.looks - 1))
        futile |= ends & hopeless & ~decided
        stop = np.where(ends, k, stop)
        final = state if final is None else Look(*(np.where(upd, getattr(state, f), getattr(final, f))
                                                   for f in ("delta", "se", "df", "low", "high", "code")))
        history.append(state)
        open_ &= ~ends
    return Outcome(history, stop, final, futile, var_raw, within, seeds)


def runs_needed(plan: Plan, out: Outcome) -> np.ndarray:
    """For each undecided variant, the further paired runs (F x extra seeds) after which a verdict becomes
    ``DECIDE_PROBABILITY`` likely at the observed noise (judged at the last look's boundary); -1 where no number
    of seeds on this split gets there (the fold-level part dominates: only more folds or more data will); 0 for
    decided variants."""
    f = out.final
    need = np.zeros(f.delta.shape, dtype=int)
    undecided = f.code == CODE[UNDECIDED]
    if not undecided.any():
        return need
    crit = t_critical(plan.z_bounds()[-1], f.df)
    scale = f.se / np.maximum(se_at(plan, out.var_raw, out.within, np.maximum(out.seeds, 1), np.maximum(out.seeds, 1)), 1e-300)
    need = np.where(undecided, -1, need)
    for s in range(1, MAX_SEEDS_PROJECTED + 1):
        later = se_at(plan, out.var_raw, out.within, np.maximum(out.seeds, 1), s) * scale
        ok = undecided & (s > out.seeds) & (need < 0) & \
            (decision_probability(f.delta, f.se, later, crit * later, plan.margin) >= DECIDE_PROBABILITY)
        need = np.where(ok, plan.n_folds * (s - out.seeds), need)
    return need
