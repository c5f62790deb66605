"""The real-data calibration harness: headbench's own verdict code judging studies of a cheap seeded learner on
the real CommonLit rows, where the truth is known.

    python scripts/results/harness.py                 # the full table: docs/results/harness/ (about 10 min on 2 cores)
    python scripts/results/harness.py --from-pool     # re-judge the committed pool (seconds)
    python scripts/results/harness.py --small         # the CI test's harness (tests/test_harness.py): ci_small.json
    python scripts/results/harness.py --plan 0.85     # rounds 1..5 at margin = 0.85 A/A SDs, on the committed pool: plan.json
    python scripts/results/harness.py --plan 0.85 --budget-runs 120 --plan-out docs/results/study6/plan.json  # a study's rounds

**The learner.** Ridge regression on hashed word (1-2 gram) and character (3-4 gram) counts of the excerpt. Hashing
fits nothing on the rows, so out-of-fold rows stay out of sample. A run's seed (headbench.data.folds.run_seed,
the train stage's own derivation) draws a random 80% of the features and of its training rows: an A/A paired
difference then moves about as much per fold as MiniLM's. Variants are learner settings: A/A controls, near-zero
tweaks that share the baseline's random streams, ones near the margin, clearly better and clearly worse ones.

**The truth.** Each draw splits the rows into "your data" (half) and "the population" (the other half).
- ``new_rows``: the RMSE difference on the population rows of the fold models trained on your data, averaged
  over the fold models of ``truth`` partitions that no study uses.
- ``new_data``: the mean of the draws' ``new_rows`` truths (the effect over data sets of this size).

**Studies.** Each simulated study draws ``looks`` of the draw's ``pool`` partitions in random order and replays
the adaptive design (headbench.stats.verdict.replay, what the aggregate stage calls) on their fold units and
row covariances. Two designs must fail, and are run to show that the checks have teeth: one seed shared by all
folds of a partition (the ``shared`` pool), and a fixed multi-partition design without the row term.
Today's design before this one (headbench.stats.sequential: seeds added on the same folds, moderated
variance, the Nadeau-Bengio overlap, Pocock spending) is judged on the ``shared`` pool's seeds for comparison.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from headbench.config import CVParams  # noqa: E402
from headbench.data.folds import make_folds, run_seed  # noqa: E402
from headbench.stats.verdict import CODE, Design, influence, replay, row_covariance  # noqa: E402

COMMONLIT = ROOT.parent / "shared" / "data" / "commonlit" / "train.csv"
OUT = ROOT / "docs" / "results" / "harness"
BASE_ALPHA = 2.5
FRACTION = 0.9          # of features and of training rows, drawn per run
ALPHA_JITTER = 0.3      # log-sd of a run's own ridge penalty: a seed effect common to all rows, like an encoder's
# name: (ridge alpha, feature fraction, row fraction, word n-grams only, seed_offset)
VARIANTS = {
    "baseline": (BASE_ALPHA, FRACTION, FRACTION, False, 0),
    "aa": (BASE_ALPHA, FRACTION, FRACTION, False, 1000),
    "aa2": (BASE_ALPHA, FRACTION, FRACTION, False, 2000),
    "alpha_x1.1": (BASE_ALPHA * 1.1, FRACTION, FRACTION, False, 0),
    "alpha_x0.9": (BASE_ALPHA * 0.9, FRACTION, FRACTION, False, 0),
    "alpha_1.8": (1.8, FRACTION, FRACTION, False, 0),
    "alpha_3.5": (3.5, FRACTION, FRACTION, False, 0),
    "alpha_1": (1.0, FRACTION, FRACTION, False, 0),
    "alpha_0.4": (0.4, FRACTION, FRACTION, False, 0),
    "rows_0.6": (BASE_ALPHA, FRACTION, 0.6, False, 0),
    "features_0.5": (BASE_ALPHA, 0.5, FRACTION, False, 0),
    "words_only": (BASE_ALPHA, FRACTION, FRACTION, True, 0),
}
AA = ("aa", "aa2")
K = 5
MARGIN_OVER_AA_SD = 0.01 / 0.0117   # the CommonLit study's margin over MiniLM's A/A paired SD per fold


@dataclass(frozen=True)
class Setup:
    draws: int = 6
    pool: int = 10       # partitions studies draw from, per draw
    truth: int = 6       # partitions that give the new_rows truth, per draw
    shared: int = 8      # partitions with one seed for all folds (break test and today's design)
    shared_seeds: int = 3
    studies: int = 400   # per draw and design
    looks: int = 3
    alpha: float = 0.05
    futility: float = 0.1
    seed: int = 0


SMALL = Setup(draws=2, pool=5, truth=2, shared=5, shared_seeds=1, studies=300, seed=1)


def features(texts):
    from scipy import sparse
    from sklearn.feature_extraction.text import HashingVectorizer

    words = HashingVectorizer(ngram_range=(1, 2), n_features=2 ** 13, alternate_sign=False, norm="l2").transform(texts)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 4), n_features=2 ** 13, alternate_sign=False,
                              norm="l2").transform(texts)
    return sparse.hstack([words, chars]).tocsr(), words.shape[1]


def fit_predict(X, y, n_words, variant, seed, train, tests):
    """One run of the learner: its seed draws the feature and row subsets; predictions for each row set in ``tests``."""
    from sklearn.linear_model import Ridge

    alpha, feat, rows, words_only, _ = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    alpha = alpha * np.exp(ALPHA_JITTER * rng.standard_normal())
    keep = (rng.random(X.shape[1]) < feat).astype(np.float64)
    if words_only:
        keep[n_words:] = 0.0
    sub = train[rng.random(len(train)) < rows]
    Xs = X[sub]
    Xs.data *= keep[Xs.indices]   # the dropped features' columns become zeros
    model = Ridge(alpha=alpha, solver="sparse_cg", tol=1e-3).fit(Xs, y[sub])
    coef = model.coef_ * keep
    return [X[t] @ coef + model.intercept_ for t in tests]


def partition(y_data, split):
    return make_folds(pd.DataFrame({"id": np.arange(len(y_data)), "target": y_data}),
                      CVParams(n_folds=K, folds=tuple(range(K)), n_bins=10, seed=split))["fold"].to_numpy()


def train_partition(X, y, n_words, data, pop, split, seed_of_fold, with_pop):
    """Every variant on every fold of one partition of ``data``: OOF predictions [V, n_data] and, with ``with_pop``,
    each fold model's population RMSE [V, K] and the fold-0 models' squared errors on the population [V, N_pop]."""
    fold = partition(y[data], split)
    oof = np.zeros((len(VARIANTS), len(data)))
    pop_rmse = np.full((len(VARIANTS), K), np.nan)
    pop_sq0 = np.full((len(VARIANTS), len(pop)), np.nan)
    for k in range(K):
        train, valid = data[fold != k], np.flatnonzero(fold == k)
        for i, v in enumerate(VARIANTS):
            tests = [data[valid], pop] if with_pop else [data[valid]]
            preds = fit_predict(X, y, n_words, v, seed_of_fold(k, VARIANTS[v][4]), train, tests)
            oof[i, valid] = preds[0]
            if with_pop:
                sq = (preds[1] - y[pop]) ** 2
                pop_rmse[i, k] = np.sqrt(np.mean(sq))
                if k == 0:
                    pop_sq0[i] = sq
    return fold, oof, pop_rmse, pop_sq0


def units_and_psi(y, fold, oof):
    """Fold-level paired differences [V, K] and per-row paired influences [V, N] of one run set against the baseline."""
    sq = (oof - y[None]) ** 2
    rmse = np.stack([np.sqrt(sq[:, fold == k].mean(-1)) for k in range(K)], -1)
    return rmse - rmse[:1], influence(sq, sq[:1])


def build_draw(args) -> dict:
    """One draw's pool: units, row covariances and truths (see the module doc)."""
    setup, d, X, y, n_words = args
    rng = np.random.default_rng([setup.seed, d])
    perm = rng.permutation(len(y))
    data, pop = np.sort(perm[: len(y) // 2]), np.sort(perm[len(y) // 2:])
    yd = y[data]
    splits = 1000 * (d + 1) + np.arange(setup.pool + setup.truth + setup.shared)
    units, psis, pop_diff, pop_sq0 = [], [], [], []
    for j, split in enumerate(splits[: setup.pool + setup.truth]):
        fold, oof, pop_rmse, sq0 = train_partition(X, y, n_words, data, pop, int(split),
                                              lambda k, off, s=int(split): run_seed(42, s, k, off), j >= setup.pool)
        u, psi = units_and_psi(yd, fold, oof)
        if j < setup.pool:
            units.append(u)
            psis.append(psi)
        else:
            pop_diff.append(pop_rmse - pop_rmse[:1])
            pop_sq0.append(sq0)
    shared_units, shared_psis = [], []
    for split in splits[setup.pool + setup.truth:]:
        per_seed = []
        for s in range(setup.shared_seeds):
            fold, oof, _, _ = train_partition(X, y, n_words, data, pop, int(split),
                                           lambda k, off, s=s, sp=int(split): run_seed(42 + s, sp, 0, off), False)
            per_seed.append(units_and_psi(yd, fold, oof))
        shared_units.append(np.stack([u for u, _ in per_seed], 1))    # [V, S, K]
        shared_psis.append(np.stack([p for _, p in per_seed], 1))     # [V, S, N]
    psis = np.stack(psis, 1)                                          # [V, P, N]
    row_cov = np.stack([row_covariance(psis[v]) for v in range(len(VARIANTS))])
    shared_psis = np.stack(shared_psis, 1)                            # [V, Ps, S, N]
    flat = shared_psis[:, :, 0]
    shared_cov = np.stack([row_covariance(flat[v]) for v in range(len(VARIANTS))])
    pop_diff = np.stack(pop_diff, 1)                                  # [V, T, K]
    return {"units": np.stack(units, 1), "row_cov": row_cov, "shared_units": np.stack(shared_units, 1),
            "shared_cov": shared_cov, "truth_rows": pop_diff.mean((1, 2)),
            "truth_models_se": pop_diff.reshape(len(VARIANTS), -1).std(-1, ddof=1) / np.sqrt(pop_diff[0].size),
            # the population part's own row noise: the SE of a paired RMSE difference over its rows, from the fold-0
            # models of the first truth partition (the influence's row variance over N_pop)
            "truth_rows_se": np.sqrt(row_covariance(influence(pop_sq0[0], pop_sq0[0][:1])).diagonal())}


def build_pool(setup: Setup, workers: int = 2) -> dict:
    df = pd.read_csv(COMMONLIT)
    X, n_words = features(df["excerpt"])
    y = df["target"].to_numpy(dtype=np.float64)
    jobs = [(setup, d, X, y, n_words) for d in range(setup.draws)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            draws = list(ex.map(build_draw, jobs))
    else:
        draws = [build_draw(j) for j in jobs]
    pool = {k: np.stack([dr[k] for dr in draws]) for k in draws[0]}   # [D, ...]
    aa = [list(VARIANTS).index(a) for a in AA]
    pool["truth_aa_estimated"] = pool["truth_rows"][:, aa].copy()   # the truth's own noise, where it is known to be 0
    pool["truth_rows"][:, aa] = 0.0                                  # an A/A control is the baseline's recipe
    pool["truth_data"] = pool["truth_rows"].mean(0)
    pool["rows"] = np.array(len(y) // 2)
    return pool


def aa_sd(pool) -> float:
    """The A/A paired SD per fold, over every unit of the pool."""
    idx = [list(VARIANTS).index(a) for a in AA]
    return float(np.sqrt(np.mean(pool["units"][:, idx].var(-1, ddof=1))))


def margin_of(pool) -> float:
    return float(MARGIN_OVER_AA_SD * aa_sd(pool))


def _studies(rng, n_partitions: int, looks: int, n: int) -> np.ndarray:
    return np.stack([rng.permutation(n_partitions)[:looks] for _ in range(n)])


def judge_new(setup, pool, margin, question, studies_rng, *, shared=False, row_term=True, fixed=False):
    """The new design on every draw's studies: codes, lows, highs [D, n, V-1] and runs per variant [D, n, V-1]."""
    m = len(VARIANTS) - 1
    out = {"code": [], "low": [], "high": [], "runs": []}
    for d in range(setup.draws):
        units = pool["shared_units"][d][:, :, 0] if shared else pool["units"][d]       # [V, P, K]
        cov = pool["shared_cov"][d] if shared else pool["row_cov"][d]                  # [V, P, P]
        pick = _studies(studies_rng, units.shape[1], setup.looks, setup.studies)       # [n, L]
        u = units[:, pick].transpose(1, 0, 2, 3)[:, 1:]                                 # [n, V-1, L, K]
        c = cov[:, pick[:, :, None], pick[:, None, :]].transpose(1, 0, 2, 3)[:, 1:]     # [n, V-1, L, L]
        if fixed:   # every partition at once, one look: 3K units of one "partition", no row term
            design = Design(alpha=setup.alpha, m=m, looks=1, folds=K * setup.looks, n_folds=K, margin=margin,
                            question=question, futility=0.0)
            u, c = u.reshape(*u.shape[:2], 1, -1), np.zeros((*c.shape[:2], 1, 1))
        else:
            design = Design(alpha=setup.alpha, m=m, looks=setup.looks, folds=K, n_folds=K, margin=margin,
                            question=question, futility=setup.futility)
            c = c if row_term else np.zeros_like(c)
        o = replay(design, u, c, np.arange(u.shape[-2]))
        f = o.final
        out["code"].append(f.code)
        out["low"].append(f.low)
        out["high"].append(f.high)
        out["runs"].append(f.n)
    return {k: np.stack(v) for k, v in out.items()}


def judge_today(setup, pool, margin, studies_rng):
    """Today's design before this one (headbench.stats.sequential) on the shared pool: one partition, seeds
    42, 43, 44 on the same folds, moderated variance, overlap term, Pocock spending."""
    from headbench.stats.sequential import Plan, run   # its verdict codes are headbench.stats.verdict's

    plan = Plan(alpha=setup.alpha, m=len(VARIANTS) - 1, seeds_per_look=tuple(range(1, setup.shared_seeds + 1)),
                n_folds=K, rho=1 / K, margin=margin)
    out = {"code": [], "low": [], "high": [], "runs": []}
    for d in range(setup.draws):
        units = pool["shared_units"][d]                                     # [V, Ps, S, K]
        pick = studies_rng.integers(0, units.shape[1], setup.studies)
        cube = units[:, pick].transpose(1, 0, 3, 2)[:, 1:]                  # [n, V-1, K, S]
        o = run(plan, cube)
        out["code"].append(o.final.code)
        out["low"].append(o.final.low)
        out["high"].append(o.final.high)
        out["runs"].append(K * o.seeds)
    return {k: np.stack(v) for k, v in out.items()}


def rates(res: dict, truth: np.ndarray, margin: float, alpha: float, fixed_runs: int) -> dict:
    """The checks' figures for one design against one truth [D, V-1] (or [V-1])."""
    truth = np.broadcast_to(truth[..., None, :] if truth.ndim == 2 else truth, res["code"].shape)
    code, low, high = res["code"], res["low"], res["high"]
    miss = (truth < low) | (truth > high)
    better, worse, equiv = code == CODE["better"], code == CODE["worse"], code == CODE["equivalent"]
    false_call = (better & (truth >= 0)) | (worse & (truth <= 0))
    big = np.abs(truth) >= 2 * margin
    right = (better & (truth < 0)) | (worse & (truth > 0)) | (equiv & (np.abs(truth) < margin))
    decided = better | worse | equiv
    m = code.shape[-1]
    return {
        "non_coverage": float(miss.any(-1).mean()),
        "non_coverage_worst_variant": float(miss.reshape(-1, m).mean(0).max()),
        "non_coverage_per_variant": miss.reshape(-1, m).mean(0).round(4).tolist(),
        "per_variant_bound": 3 * alpha / m,
        "false_better_or_worse": float(false_call.any(-1).mean()),
        "false_equivalence": float((equiv & (np.abs(truth) >= margin)).any(-1).mean()),
        "correct_at_2_margins": float(right[big].mean()) if big.any() else float("nan"),
        "decided_correctly": float((right & decided).mean()),
        "needs_more_data": float((code == CODE["needs more data"]).mean()),
        "runs_per_variant": float(res["runs"].mean()),
        "runs_over_fixed": float(res["runs"].mean() / fixed_runs),
    }


def correlations(pool) -> dict:
    """Within one partition, the correlation of fold differences (pairs of folds); on the same fold, of seeds."""
    u = pool["units"][:, 1:]                                         # [D, V-1, P, K]
    within = []
    for v in range(u.shape[1]):
        c = np.corrcoef(u[:, v].reshape(-1, K).T)
        within.append(float(c[np.triu_indices(K, 1)].mean()))
    from scipy.stats import skew

    out = {"within_partition_fold_correlation": dict(zip(list(VARIANTS)[1:], within)),
           "unit_skewness": {v: float(skew(u[:, i].ravel())) for i, v in enumerate(list(VARIANTS)[1:])}}
    shared = pool["shared_units"][:, 1:, :, 0]                      # [D, V-1, Ps, K]: one seed for all folds
    out["one_seed_per_partition_fold_correlation"] = {
        v: float(np.corrcoef(shared[:, i].reshape(-1, K).T)[np.triu_indices(K, 1)].mean()) for i, v in enumerate(list(VARIANTS)[1:])}
    s = pool["shared_units"][:, 1:]                                  # [D, V-1, Ps, S, K]
    if s.shape[3] > 1:   # two seeds on the same fold of the same partition, around the variant's mean in that draw
        x = s - s.mean((2, 3, 4), keepdims=True)
        out["same_fold_seed_correlation"] = {
            v: float(np.corrcoef(x[:, i, :, 0].ravel(), x[:, i, :, 1].ravel())[0, 1]) for i, v in enumerate(list(VARIANTS)[1:])}
    return out


def table(setup: Setup, pool: dict) -> dict:
    margin = margin_of(pool)
    rng = np.random.default_rng([setup.seed, 99])
    truth_rows, truth_data = pool["truth_rows"][:, 1:], pool["truth_data"][1:]
    fixed = K * setup.looks
    out = {"setup": setup.__dict__, "rows_per_study": int(pool["rows"]), "aa_sd": aa_sd(pool), "margin": margin,
           "truth_new_rows": dict(zip(list(VARIANTS)[1:], truth_rows.mean(0).round(5).tolist())),
           "truth_new_data": dict(zip(list(VARIANTS)[1:], truth_data.round(5).tolist())),
           "truth_new_rows_row_se": dict(zip(list(VARIANTS)[1:], pool["truth_rows_se"][:, 1:].mean(0).round(5).tolist())),
           "truth_new_rows_models_se": dict(zip(list(VARIANTS)[1:], pool["truth_models_se"][:, 1:].mean(0).round(5).tolist())),
           "truth_new_data_draws_se": dict(zip(list(VARIANTS)[1:], (pool["truth_rows"][:, 1:].std(0, ddof=1)
                                                                   / np.sqrt(setup.draws)).round(5).tolist())),
           "designs": {}}
    new_rows = judge_new(setup, pool, margin, "new_rows", rng)
    new_data = judge_new(setup, pool, margin, "new_data", rng)
    out["designs"]["new, new_rows"] = rates(new_rows, truth_rows, margin, setup.alpha, fixed)
    out["designs"]["new, new_data"] = rates(new_data, truth_data, margin, setup.alpha, fixed)
    no_row = judge_new(setup, pool, margin, "new_rows", rng, row_term=False)
    out["designs"]["new without the row term, new_rows"] = rates(no_row, truth_rows, margin, setup.alpha, fixed)
    broken_seed = judge_new(setup, pool, margin, "new_rows", rng, shared=True)
    out["designs"]["break: one seed for all folds of a partition, new_rows"] = rates(broken_seed, truth_rows, margin, setup.alpha, fixed)
    broken_fixed = judge_new(setup, pool, margin, "new_rows", rng, row_term=False, fixed=True)
    out["designs"]["break: fixed 3 partitions without the row term, new_rows"] = rates(broken_fixed, truth_rows, margin, setup.alpha, fixed)
    if setup.shared_seeds > 1:
        today = judge_today(setup, pool, margin, rng)
        out["designs"]["today (seeds on the same folds), new_rows"] = rates(today, truth_rows, margin, setup.alpha, fixed)
        out["designs"]["today (seeds on the same folds), new_data"] = rates(today, truth_data, margin, setup.alpha, fixed)
    out["correlations"] = correlations(pool)
    return out


def plan(pool: dict, margin_over_aa_sd: float, budget_runs: int | None = None, setup: Setup = Setup()) -> dict:
    """A study's number of rounds chosen on the harness: for 1..5 rounds (Bonferroni over variants × rounds), the
    `new_rows` calibration, decisions and runs at margin = ``margin_over_aa_sd`` × the pool's A/A SD (the ratio a
    study's margin bears to its recipe's measured A/A SD). A study's runs are its variants' plus the baseline's,
    which trains every round while any variant is open. With ``budget_runs``, the chosen plan is the one with the
    most correct verdicts expected whose expected runs fit the budget."""
    from dataclasses import replace

    margin = margin_over_aa_sd * aa_sd(pool)
    m = len(VARIANTS) - 1
    out = {"margin_over_aa_sd": margin_over_aa_sd, "margin": margin, "variants": m, "budget_runs": budget_runs,
           "rounds": {}}
    for looks in range(1, 6):
        s = replace(setup, looks=looks)
        res = judge_new(s, pool, margin, "new_rows", np.random.default_rng([setup.seed, 7, looks]))
        r = rates(res, pool["truth_rows"][:, 1:], margin, s.alpha, K * looks)
        r["decided_per_100_runs"] = 100 * r["decided_correctly"] / r["runs_per_variant"]
        study_runs = res["runs"].sum(-1) + res["runs"].max(-1)     # [D, n]: the variants' runs and the baseline's
        r["study_runs_mean"] = float(study_runs.mean())
        r["study_runs_max"] = K * looks * (m + 1)
        r["study_runs_p90"] = float(np.quantile(study_runs, 0.9))
        if budget_runs is not None:
            r["over_budget"] = float((study_runs > budget_runs).mean())
        r["correct_verdicts_mean"] = r["decided_correctly"] * m
        out["rounds"][looks] = r
    if budget_runs is not None:
        fits = [L for L, r in out["rounds"].items() if r["study_runs_mean"] <= budget_runs]
        out["chosen_rounds"] = max(fits, key=lambda L: out["rounds"][L]["decided_correctly"]) if fits else None
    return out


def markdown(t: dict) -> str:
    cols = ["non_coverage", "non_coverage_worst_variant", "false_better_or_worse", "false_equivalence",
            "correct_at_2_margins", "decided_correctly", "needs_more_data", "runs_per_variant", "runs_over_fixed"]
    lines = ["| design, question | " + " | ".join(c.replace("_", " ") for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for name, r in t["designs"].items():
        lines.append(f"| {name} | " + " | ".join(f"{r[c]:.3f}" if c != "runs_per_variant" else f"{r[c]:.1f}" for c in cols) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from-pool", action="store_true", help="judge the committed pool instead of training it anew")
    ap.add_argument("--small", action="store_true", help="the CI test's smaller harness, written to ci_small.json / .md")
    ap.add_argument("--plan", type=float, metavar="MARGIN_OVER_AA_SD",
                    help="compare 1..5 rounds on the committed pool at this margin / A/A SD ratio: plan.json")
    ap.add_argument("--budget-runs", type=int, help="with --plan: the study's budget in runs (expected)")
    ap.add_argument("--plan-out", type=Path, help="with --plan: where to write it (default: OUT/plan_<ratio>.json)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.plan is not None:
        out = plan(dict(np.load(args.out / "pool.npz")), args.plan, args.budget_runs)
        (args.plan_out or args.out / f"plan_{args.plan:g}.json").write_text(json.dumps(out, indent=1) + "\n")
        for looks, r in out["rounds"].items():
            print(f"{looks} rounds: non-coverage {r['non_coverage']:.3f}, decided correctly {r['decided_correctly']:.3f}, "
                  f"runs per variant {r['runs_per_variant']:.1f}, study runs {r['study_runs_mean']:.0f} "
                  f"(at most {r['study_runs_max']}), correct decisions per 100 runs {r['decided_per_100_runs']:.1f}")
        if args.budget_runs is not None:
            print(f"chosen within {args.budget_runs} runs: {out['chosen_rounds']} rounds")
        return
    setup = SMALL if args.small else Setup()
    name = "ci_small" if args.small else "harness"
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.small:
        pool = build_pool(setup, workers=1)   # as the CI test builds it
    elif args.from_pool:
        pool = dict(np.load(args.out / "pool.npz"))
    else:
        pool = build_pool(setup, args.workers)
        np.savez_compressed(args.out / "pool.npz", **pool)
    t = table(setup, pool)
    t["seconds"] = round(time.perf_counter() - t0, 1)
    (args.out / f"{name}.json").write_text(json.dumps(t, indent=1) + "\n")
    (args.out / f"{name}.md").write_text(markdown(t))
    print(markdown(t))


if __name__ == "__main__":
    main()
