import math

import numpy as np
import pytest
import torch

from headbench.data.batching import LengthGroupedBatches, TokenDataset, make_loader
from headbench.config import parse
from headbench.engine.device import autocast, grad_scaler, precision_for
from headbench.model.encoder import build_model, build_regressor, load_encoder, load_tokenizer
from headbench.data.tokens import tokenize
from headbench.stats.scoring import rmse
from headbench.errors import NonFiniteLoss
from headbench.engine.inference import predict
from headbench.engine.callbacks import Callback
from headbench.engine.loop import seed_everything, train
from conftest import tiny_params


def data(tiny_dir, csv, n_valid=12):
    import pandas as pd

    tok = load_tokenizer(tiny_dir)
    df = pd.read_csv(csv)
    ids, _ = tokenize(df["excerpt"].tolist(), tok, 64)
    y = df["target"].to_numpy(np.float32)
    return tok, ids[n_valid:], y[n_valid:], ids[:n_valid], y[:n_valid]


def run(tiny_dir, csv, variant="baseline", seed=0, **overrides):
    p = parse(tiny_params(tiny_dir, csv, **overrides))
    v = p.variant(variant)
    tok, tr_ids, tr_y, va_ids, va_y = data(tiny_dir, csv)
    seed_everything(seed)
    model = build_model(p.model, v)
    return train(model, tok, tr_ids, tr_y, va_ids, va_y, p.train, seed, llrd=v.llrd, label=variant)


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_one_step_smoke(tiny_models, demo_csv, kind):
    res = run(tiny_models(kind), demo_csv, max_steps=1, eval_every=1)
    assert res.steps == 1 and res.best_step == 1 and math.isfinite(res.best_score)
    assert res.predictions.shape == (12,) and np.isfinite(res.predictions).all()
    assert res.samples_per_s > 0 and res.memory["peak_rss_mb"] > 0


@pytest.mark.parametrize("every, steps, expected", [(3, 8, [3, 6, 8]), (4, 8, [4, 8]), (100, 5, [5])])
def test_evaluations_happen_every_n_steps_and_after_the_last(tiny_models, demo_csv, every, steps, expected):
    res = run(tiny_models("bert"), demo_csv, epochs=3, max_steps=steps, eval_every=every)
    assert [h["step"] for h in res.history] == expected and res.steps == steps


def test_combined_variant_trains_and_learns(tiny_models, demo_csv):
    tiny = tiny_models("bert")
    raw = tiny_params(tiny, demo_csv, epochs=10, max_steps=60, eval_every=30, lr=1e-3, head_lr=1e-2)
    raw["variants"]["conv1d_llrd_reinit2"] = {"head": "conv1d", "head_options": {"channels": 8}, "llrd": 0.9, "reinit_layers": 2}
    p = parse(raw)
    v = p.variant("conv1d_llrd_reinit2")
    tok, tr_ids, tr_y, va_ids, va_y = data(tiny, demo_csv)
    seed_everything(0)
    model = build_model(p.model, v)
    before = {k: t.clone() for k, t in model.state_dict().items()}
    untrained = rmse(predict(model, tok, va_ids, 16, torch.device("cpu"), "fp32"), va_y)
    res = train(model, tok, tr_ids, tr_y, va_ids, va_y, p.train, 0, llrd=v.llrd)
    assert res.steps == 60 and [h["step"] for h in res.history] == [30, 60]
    # it learns from the text, not just the targets' spread: the training mean scores 0.951 here and these 60 steps
    # 0.833, while gradient ascent ends at 27 and labels shuffled within each batch at 0.965
    mean_predictor = rmse(np.full(len(va_y), tr_y.mean()), va_y)
    assert res.final_score < min(untrained, mean_predictor) - 0.05, (untrained, mean_predictor, res.history)
    changed = [k for k, t in res.state.items() if not torch.equal(t, before[k])]
    assert any(k.startswith("head.conv1") for k in changed) and any(k.startswith("encoder.embeddings") for k in changed)


def test_checkpoint_rule_decides_what_is_reported(tiny_models, demo_csv):
    """final: the last step's model, whatever the evaluations said; best_on_valid: the best evaluation."""
    final = run(tiny_models("bert"), demo_csv, seed=1, max_steps=6, eval_every=1, lr=2e-2, head_lr=2e-2, checkpoint="final")
    best = run(tiny_models("bert"), demo_csv, seed=1, max_steps=6, eval_every=1, lr=2e-2, head_lr=2e-2, checkpoint="best_on_valid")
    curve = [h["valid_rmse"] for h in final.history]
    assert curve == [h["valid_rmse"] for h in best.history] and len(curve) == 6
    assert min(curve) < curve[-1]  # this setting overshoots, so the two rules must differ
    assert final.valid_score == curve[-1] == final.final_score and final.best_score == min(curve)
    assert best.valid_score == min(curve) and best.best_step == 1 + int(np.argmin(curve))
    _, _, _, _, va_y = data(tiny_models("bert"), demo_csv)
    assert rmse(final.predictions, va_y) == pytest.approx(curve[-1])
    assert rmse(best.predictions, va_y) == pytest.approx(min(curve))


def test_same_seed_same_rmse_to_six_decimals(tiny_models, demo_csv):
    a = run(tiny_models("bert"), demo_csv, seed=3, max_steps=4, eval_every=2)
    b = run(tiny_models("bert"), demo_csv, seed=3, max_steps=4, eval_every=2)
    assert round(a.best_score, 6) == round(b.best_score, 6)
    np.testing.assert_allclose(a.predictions, b.predictions, atol=1e-6)


def test_nan_loss_stops_with_step_variant_and_fold(tiny_models, demo_csv):
    p = parse(tiny_params(tiny_models("bert"), demo_csv, max_steps=3))
    tok, tr_ids, tr_y, va_ids, va_y = data(tiny_models("bert"), demo_csv)
    tr_y = tr_y.copy()
    tr_y[:] = np.nan
    model = build_regressor(load_encoder(tiny_models("bert")), "cls")
    with pytest.raises(NonFiniteLoss, match=r"baseline fold 2 seed 0: the training loss became nan at step 1"):
        train(model, tok, tr_ids, tr_y, va_ids, va_y, p.train, 0, label="baseline fold 2 seed 0")


@pytest.mark.parametrize("rows, batch_size", [(203, 8), (96, 16)])  # (96, 16): transformers' default would not group
def test_length_grouped_sampler_sees_every_row_once_in_similar_length_batches(rows, batch_size):
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 200, size=rows).tolist()
    sampler = LengthGroupedBatches(lengths, batch_size, torch.Generator().manual_seed(0))
    epochs = [list(sampler), list(sampler)]
    random_spread = np.mean([np.ptp(rng.choice(lengths, batch_size)) for _ in range(200)])
    for batches in epochs:
        assert len(batches) == len(sampler)
        flat = [i for b in batches for i in b]
        assert sorted(flat) == list(range(rows))
        spread = np.mean([np.ptp([lengths[i] for i in b]) for b in batches])
        assert spread < random_spread / 2
    assert epochs[0] != epochs[1]  # a new random order every epoch
    firsts = [max(lengths[i] for i in b) for b in epochs[0]]
    assert firsts != sorted(firsts, reverse=True)  # the batches are shuffled, not longest first


def test_padding_to_a_multiple_keeps_every_row_once_per_epoch(tiny_models, demo_csv):
    tok, tr_ids, *_ = data(tiny_models("bert"), demo_csv)
    rows = np.arange(len(tr_ids), dtype=np.float32)  # the label of each row is its index
    ds = TokenDataset(tr_ids, rows)
    loader = make_loader(ds, tok, LengthGroupedBatches(ds.lengths, 8, torch.Generator().manual_seed(1)), pad_to_multiple_of=8)
    for _ in range(2):
        seen = []
        for batch in loader:
            assert batch["input_ids"].shape[1] % 8 == 0
            for row, ids, mask in zip(batch["labels"].long().tolist(), batch["input_ids"], batch["attention_mask"]):
                assert ids[mask.bool()].tolist() == tr_ids[row].tolist()  # the row itself, padding aside
                seen.append(row)
        assert sorted(seen) == list(range(len(tr_ids)))


def test_dynamic_padding_gives_the_same_loss_as_max_length_padding(tiny_models, demo_csv):
    tiny = tiny_models("bert")
    tok, tr_ids, tr_y, *_ = data(tiny, demo_csv)
    model = build_regressor(load_encoder(tiny), "mean").eval()
    rows = np.argsort([len(x) for x in tr_ids])[:8]  # short rows, so dynamic padding is shorter than 64
    ids, y = [tr_ids[i] for i in rows], torch.tensor(tr_y[rows])
    dynamic = next(iter(make_loader(TokenDataset(ids, y.numpy()), tok, [list(range(8))])))
    fixed = tok.pad([{"input_ids": x.tolist()} for x in ids], padding="max_length", max_length=64, return_tensors="pt")
    assert dynamic["input_ids"].shape[1] < 64
    with torch.no_grad():
        l1 = torch.nn.functional.mse_loss(model(dynamic["input_ids"], dynamic["attention_mask"]), y)
        l2 = torch.nn.functional.mse_loss(model(fixed["input_ids"], fixed["attention_mask"]), y)
    assert abs(l1.item() - l2.item()) < 1e-5


def test_tokenisation_cache_is_hit_on_second_use(tiny_models, tmp_path):
    tok = load_tokenizer(tiny_models("bert"))
    texts = ["A first text.", "And a second, longer text than the first."]
    a, hit1 = tokenize(texts, tok, 16, tmp_path)
    b, hit2 = tokenize(texts, tok, 16, tmp_path)
    c, hit3 = tokenize(texts, tok, 8, tmp_path)  # another max length is another entry
    assert (hit1, hit2, hit3) == (False, True, False)
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and len(c[1]) == 8


def test_precision_and_autocast_are_chosen_per_device():
    cpu = torch.device("cpu")
    assert precision_for(cpu, "auto") == "fp32"
    assert precision_for(cpu, "bf16") == "bf16"
    assert isinstance(autocast(cpu, "fp32"), type(__import__("contextlib").nullcontext()))
    ctx = autocast(cpu, "bf16")
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.bfloat16
    assert not grad_scaler(cpu, "bf16").is_enabled()
    if torch.cuda.is_available():  # only on a GPU machine
        gpu = torch.device("cuda")
        assert precision_for(gpu, "auto") == ("bf16" if torch.cuda.is_bf16_supported() else "fp16")


def test_resume_continues_from_the_saved_epoch(tiny_models, demo_csv, tmp_path):
    tiny = tiny_models("bert")
    p = parse(tiny_params(tiny, demo_csv, epochs=2, eval_every=2, resume=True))
    tok, tr_ids, tr_y, va_ids, va_y = data(tiny, demo_csv)

    class Stop(Exception):
        pass

    class StopInEpochTwo(Callback):
        def on_eval(self, state, row):
            if row["epoch"] == 1:
                raise Stop

    seed_everything(0)
    model = build_regressor(load_encoder(tiny), "cls")
    with pytest.raises(Stop):
        train(model, tok, tr_ids, tr_y, va_ids, va_y, p.train, 0, callbacks=[StopInEpochTwo()], resume_dir=tmp_path / "r")
    assert (tmp_path / "r" / "state.pt").is_file()
    seed_everything(0)
    model = build_regressor(load_encoder(tiny), "cls")
    res = train(model, tok, tr_ids, tr_y, va_ids, va_y, p.train, 0, resume_dir=tmp_path / "r")
    steps_per_epoch = math.ceil(len(tr_ids) / p.train.batch_size)
    assert res.steps == 2 * steps_per_epoch
    assert res.history[0]["epoch"] == 0 and res.history[-1]["epoch"] == 1
    assert not (tmp_path / "r").exists()  # removed once the run completes
    # the same as never interrupted: a bug restoring the optimiser, scheduler, data order or RNG changes these
    seed_everything(0)
    whole = train(build_regressor(load_encoder(tiny), "cls"), tok, tr_ids, tr_y, va_ids, va_y, p.train, 0)
    np.testing.assert_allclose(res.predictions, whole.predictions, atol=1e-6)
    assert res.best_score == pytest.approx(whole.best_score, abs=1e-6)
    assert res.valid_score == pytest.approx(whole.valid_score, abs=1e-6)


def test_callbacks_hear_every_step_and_every_evaluation_in_order(tiny_models, demo_csv):
    tiny = tiny_models("bert")
    p = parse(tiny_params(tiny, demo_csv, epochs=1, eval_every=2))
    tok, tr_ids, tr_y, va_ids, va_y = data(tiny, demo_csv)
    heard = []

    class Listen(Callback):
        def on_step_end(self, state):
            heard.append(("step", state.step))

        def on_eval(self, state, row):
            heard.append(("eval", row["step"]))

    seed_everything(0)
    result = train(build_regressor(load_encoder(tiny), "cls"), tok, tr_ids, tr_y, va_ids, va_y, p.train, 0,
                   callbacks=[Listen()])
    steps = [s for kind, s in heard if kind == "step"]
    assert steps == list(range(1, result.steps + 1))
    assert [s for kind, s in heard if kind == "eval"] == [r["step"] for r in result.history]
    for kind, s in heard:  # an evaluation comes right after the step it evaluates
        if kind == "eval":
            assert heard[heard.index((kind, s)) - 1] == ("step", s)


def test_ema_scores_the_moving_average_of_the_weights_and_leaves_training_alone(tiny_models, demo_csv):
    """train.ema: after two steps the scored weights are 0.9 * w1 + 0.1 * w2 (the first update copies w1), where w1
    and w2 are the weights of plain runs of one and two steps on the same seed (constant schedule, no warm-up)."""
    tiny = tiny_models("bert")
    common = dict(scheduler="constant", warmup_ratio=0.0, eval_every=100)
    w1 = run(tiny, demo_csv, max_steps=1, **common).state
    plain = run(tiny, demo_csv, max_steps=2, **common)
    ema = run(tiny, demo_csv, max_steps=2, ema=0.9, **common)
    assert ema.history[0]["train_loss"] == plain.history[0]["train_loss"]   # the average does not steer training
    changed = [k for k in w1 if w1[k].is_floating_point() and not torch.equal(w1[k], plain.state[k])]
    assert changed
    for k in changed:
        torch.testing.assert_close(ema.state[k], 0.9 * w1[k] + 0.1 * plain.state[k])
    assert not np.allclose(ema.predictions, plain.predictions)
    assert ema.valid_score == pytest.approx(rmse(ema.predictions, data(tiny, demo_csv)[4]))
    same = run(tiny, demo_csv, max_steps=2, ema=0.0, **common)   # decay 0: the average is the last weights
    np.testing.assert_allclose(same.predictions, plain.predictions, rtol=1e-6)
