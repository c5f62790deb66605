"""The task metrics agree with scikit-learn's own functions, and the row influences of MCRMSE and log-loss are the
linearisations the verdicts' row term needs (headbench.stats.scoring, headbench.stats.verdict)."""
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_squared_error

from headbench.stats.scoring import classification_scores, regression_scores, rmse, row_log_loss
from headbench.stats.verdict import influence, mcrmse_influence, mean_loss_influence


def test_regression_scores_match_scikit_learn_for_one_and_several_targets():
    rng = np.random.default_rng(0)
    y = rng.normal(0, [1.0, 5.0, 0.2], (300, 3))
    p = y + rng.normal(0, [0.5, 2.0, 0.1], (300, 3))
    one = regression_scores(p[:, 0], y[:, 0], ["target"])
    assert one == {"rmse": pytest.approx(np.sqrt(mean_squared_error(y[:, 0], p[:, 0]))),
                   "rmse_target": pytest.approx(rmse(p[:, 0], y[:, 0]))}
    three = regression_scores(p, y, ["V", "A", "D"])
    per = np.sqrt(mean_squared_error(y, p, multioutput="raw_values"))
    assert three["mcrmse"] == pytest.approx(per.mean())
    assert [three[f"rmse_{t}"] for t in "VAD"] == pytest.approx(list(per))


def test_classification_scores_match_scikit_learn():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (200, 4))
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 4, 200)
    s = classification_scores(proba, labels)
    assert s["log_loss"] == pytest.approx(log_loss(labels, proba, labels=[0, 1, 2, 3]))
    assert s["accuracy"] == pytest.approx(accuracy_score(labels, proba.argmax(1)))
    assert s["macro_f1"] == pytest.approx(f1_score(labels, proba.argmax(1), average="macro"))
    assert row_log_loss(proba, labels).mean() == pytest.approx(s["log_loss"])


def test_mcrmse_influence_weighs_each_target_by_its_own_rmse():
    rng = np.random.default_rng(2)
    y = rng.normal(0, [1.0, 50.0], (400, 2))
    p_b = y + rng.normal(0, [0.5, 25.0], (400, 2))
    p_v = y + rng.normal(0, [0.4, 25.0], (400, 2))
    sq_b, sq_v = ((p_b - y) ** 2).T, ((p_v - y) ** 2).T      # [targets, rows]
    psi = mcrmse_influence(sq_v, sq_b)
    mc = lambda p: regression_scores(p, y, ["a", "b"])["mcrmse"]  # noqa: E731
    # each target's influence averages to half its RMSE difference, so ψ averages to half the MCRMSE difference
    assert psi.mean() == pytest.approx((mc(p_v) - mc(p_b)) / 2)
    assert psi == pytest.approx((influence(sq_v[0], sq_b[0]) + influence(sq_v[1], sq_b[1])) / 2)
    # its variance is the MCRMSE difference's sampling variance over rows (a bootstrap of the rows agrees)
    boot = np.random.default_rng(4).integers(0, 400, (2000, 400))
    mc_rows = lambda p, i: regression_scores(p[i], y[i], ["a", "b"])["mcrmse"]  # noqa: E731
    diffs = [mc_rows(p_v, i) - mc_rows(p_b, i) for i in boot]
    assert np.std(diffs) == pytest.approx(psi.std() / np.sqrt(400), rel=0.1)
    # the squared error averaged over targets, in squared units, would not give it
    naive = (sq_v - sq_b).mean(0)
    assert not np.std(diffs) == pytest.approx(naive.std() / np.sqrt(400), rel=0.5)


def test_log_loss_influence_is_the_row_loss_difference():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 100)
    pv, pb = (np.exp(z) / np.exp(z).sum(1, keepdims=True) for z in rng.normal(0, 1, (2, 100, 3)))
    psi = mean_loss_influence(row_log_loss(pv, labels), row_log_loss(pb, labels))
    assert psi.mean() == pytest.approx(log_loss(labels, pv, labels=[0, 1, 2]) - log_loss(labels, pb, labels=[0, 1, 2]))


def _oofs(task: str, rows=400, splits=(1, 2, 3), folds=5, better=0.0, seed=0):
    """Out-of-fold frames of a baseline, its A/A control (other noise, same quality) and a variant whose errors shrink
    by ``better``, as the train stage writes them for ``task`` (engine.run.oof_frame)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    classes = ["fiction", "letters", "news"]
    truth = rng.normal(0, [1.0, 3.0, 0.3], (rows, 3))
    labels = rng.integers(0, 3, rows)
    out = {"baseline": [], "aa": [], "variant": []}
    for split in splits:
        fold = rng.permutation(np.arange(rows) % folds)
        for name, gain in (("baseline", 0.0), ("aa", 0.0), ("variant", better)):
            key = pd.DataFrame({"id": [f"r{i}" for i in range(rows)], "split": split, "fold": fold, "seed": 42})
            if task == "classification":
                logits = rng.normal(0, 1, (rows, 3))
                logits[np.arange(rows), labels] += 1.0 + 3 * gain
                p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
                frame = key.assign(target=np.array(classes)[labels], **{f"proba.{c}": p[:, i] for i, c in enumerate(classes)},
                                   prediction=np.array(classes)[p.argmax(1)])
            else:
                pred = truth + rng.normal(0, [0.5, 1.5, 0.15], (rows, 3)) * (1 - gain)
                frame = key.assign(**{f"target.{t}": truth[:, i] for i, t in enumerate("VAD")},
                                   **{f"prediction.{t}": pred[:, i] for i, t in enumerate("VAD")})
            out[name].append(frame)
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


@pytest.mark.parametrize("task", ["mcrmse", "classification"])
def test_the_primary_metric_of_oof_rows_is_scikit_learns(task):
    from headbench.stats.scoring import oof_score

    oof = _oofs(task)["baseline"]
    if task == "classification":
        want = log_loss(oof["target"], oof[["proba.fiction", "proba.letters", "proba.news"]].to_numpy(),
                        labels=["fiction", "letters", "news"])
    else:
        want = np.mean([np.sqrt(mean_squared_error(oof[f"target.{t}"], oof[f"prediction.{t}"])) for t in "VAD"])
    assert oof_score(oof) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("task", ["mcrmse", "classification"])
def test_the_side_figures_are_scikit_learns_averaged_over_partitions(task):
    from headbench.stats.compare import fold_table

    oof = _oofs(task)["baseline"]
    want = {}
    for _, g in oof.groupby("split"):
        if task == "classification":
            labels, predicted = g["target"], g["prediction"]
            figures = {"accuracy": accuracy_score(labels, predicted), "macro_f1": f1_score(labels, predicted, average="macro")}
        else:
            figures = {f"rmse_{t}": np.sqrt(mean_squared_error(g[f"target.{t}"], g[f"prediction.{t}"])) for t in "VAD"}
        for k, v in figures.items():
            want.setdefault(k, []).append(v)
    side = fold_table(oof)["side"]
    assert list(side) == list(want) and all(side[k] == pytest.approx(np.mean(v), rel=1e-12) for k, v in want.items())
    if task != "classification":
        assert fold_table(oof)["oof_rmse"] == pytest.approx(np.mean(list(side.values())), rel=1e-12)  # MCRMSE: their mean


def test_one_target_has_no_side_figures():
    import pandas as pd
    from headbench.stats.compare import fold_table

    oof = pd.DataFrame({"id": ["a", "b", "c"], "split": 1, "fold": [0, 1, 2], "seed": 42, "target": [1.0, 2.0, 3.0],
                        "prediction": [1.5, 2.0, 2.0]})
    assert "side" not in fold_table(oof)


@pytest.mark.parametrize("task", ["mcrmse", "classification"])
def test_the_verdicts_call_a_clear_gain_better_and_leave_the_aa_control_alone_for_every_task(task):
    from headbench.stats.compare import compare_oof, run_rmse
    from headbench.stats.verdict import Design

    oofs = _oofs(task, better=0.3)
    table, runs = compare_oof(oofs, "baseline", Design(alpha=0.05, m=2, looks=3, folds=5, n_folds=5, margin=0.01),
                              [1, 2, 3])
    verdict = table.set_index("variant")["verdict"]
    assert verdict["variant"] == "better" and verdict["aa"] not in ("better", "worse")
    row = table.set_index("variant").loc["variant"]
    paired = runs[(runs["variant"] == "variant") & runs["split"].isin([1, 2, 3][:row["round"]])]
    assert row["delta"] == pytest.approx(paired["delta"].mean())  # Δ of the primary metric over the rounds it used
    assert (run_rmse(oofs["variant"]) < run_rmse(oofs["baseline"])).mean() > 0.9


@pytest.mark.parametrize("task", ["mcrmse", "classification"])
def test_aa_studies_of_every_task_call_no_more_than_their_alpha(task):
    """100 A/A studies per task type (the variant is the baseline's recipe, other noise): at α = 0.05 at most 5% may
    call a difference, plus sampling slack (2 SE). The power side is the test above."""
    from headbench.stats.compare import compare_oof
    from headbench.stats.verdict import Design

    design = Design(alpha=0.05, m=1, looks=1, folds=5, n_folds=5, margin=0.01)
    calls = 0
    for seed in range(100):
        oofs = _oofs(task, rows=300, splits=(1,), seed=seed)
        table, _ = compare_oof({"baseline": oofs["baseline"], "aa": oofs["aa"]}, "baseline", design, [1])
        calls += table.loc[0, "verdict"] in ("better", "worse")
    assert calls / 100 <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 100)
