"""Which random streams a run's seed drives (data order, dropout, new weights), and which a variant shares with the
baseline at the same seed. If data order stopped depending on the seed, an A/A control would share the baseline's
batches and understate the noise; these tests fail then."""
import numpy as np
import torch

import headbench.engine.loop as train_module
from conftest import tiny_params
from headbench.data.batching import LengthGroupedBatches
from headbench.config import parse
from headbench.model.encoder import build_model
from headbench.data.folds import run_seed
from headbench.engine.loop import seed_everything, train
from test_train import data


def batch_orders(tiny_dir, csv, monkeypatch, seed, global_seed=None):
    """The batches one short run saw, recorded by a LengthGroupedBatches that keeps what it yields."""
    seen = []

    class Recording(LengthGroupedBatches):
        def __iter__(self):
            for b in super().__iter__():
                seen.append(list(b))
                yield b

    monkeypatch.setattr(train_module, "LengthGroupedBatches", Recording)
    p = parse(tiny_params(tiny_dir, csv, max_steps=3, eval_every=100))
    tok, tr_ids, tr_y, va_ids, va_y = data(tiny_dir, csv)
    seed_everything(seed if global_seed is None else global_seed)
    model = build_model(p.model, p.variant("baseline"))
    res = train(model, tok, tr_ids, tr_y, va_ids, va_y, p.train, seed, label="streams")
    return seen, res.predictions


def test_the_data_order_follows_the_seed(tiny_models, demo_csv, monkeypatch):
    bert = tiny_models("bert")
    a, _ = batch_orders(bert, demo_csv, monkeypatch, seed=1)
    b, _ = batch_orders(bert, demo_csv, monkeypatch, seed=1)
    c, _ = batch_orders(bert, demo_csv, monkeypatch, seed=2)
    assert a == b and a != c


def test_dropout_follows_the_global_seed_with_the_data_order_held(tiny_models, demo_csv, monkeypatch):
    bert = tiny_models("bert")
    order1, pred1 = batch_orders(bert, demo_csv, monkeypatch, seed=1, global_seed=5)
    order2, pred2 = batch_orders(bert, demo_csv, monkeypatch, seed=1, global_seed=5)
    np.testing.assert_allclose(pred1, pred2, atol=1e-6)
    # the same weights and batches, another dropout stream: only dropout can move the predictions
    p = parse(tiny_params(bert, demo_csv, max_steps=3, eval_every=100))
    tok, tr_ids, tr_y, va_ids, va_y = data(bert, demo_csv)
    seed_everything(5)
    model = build_model(p.model, p.variant("baseline"))
    torch.manual_seed(99)
    other = train(model, tok, tr_ids, tr_y, va_ids, va_y, p.train, 1, label="streams").predictions
    assert not np.allclose(pred1, other, atol=1e-6)


def test_new_weights_follow_the_seed_and_a_variant_shares_the_baselines_at_the_same_seed(tiny_models, demo_csv):
    raw = tiny_params(tiny_models("bert"), demo_csv)
    raw["variants"]["llrd"] = {"head": "cls", "llrd": 0.9}
    p = parse(raw)
    head = lambda variant, seed: (seed_everything(seed), build_model(p.model, p.variant(variant)))[1].head.state_dict()
    same = [torch.equal(a, b) for a, b in zip(head("baseline", 3).values(), head("llrd", 3).values())]
    assert same and all(same)  # an optimiser-side variant starts from the baseline's very head
    other = [torch.equal(a, b) for a, b in zip(head("baseline", 3).values(), head("baseline", 4).values())]
    assert not all(other)


def test_an_aa_control_draws_every_stream_from_another_seed_and_other_variants_from_the_same(tiny_models, demo_csv):
    p = parse(tiny_params(tiny_models("bert"), demo_csv))
    seed = lambda v, split=42, fold=0: run_seed(42, split, fold, p.variant(v).seed_offset)  # noqa: E731
    assert seed("aa") != seed("baseline")
    assert all(seed(v) == seed("baseline") for v in p.variants if p.variant(v).seed_offset == 0)


def test_the_run_seed_differs_across_folds_and_partitions_and_a_unit_shares_it_with_the_baseline():
    """Each unit (split, fold) has its own seed, never another unit's: one seed for all folds of a partition
    correlates the folds (tests/test_harness.py shows the false calls it makes)."""
    units = [(split, fold) for split in (42, 43, 44, 1000, 1001) for fold in range(10)]
    for seed in (0, 1, 42):
        for offset in (0, 1000):
            seeds = [run_seed(seed, s, f, offset) for s, f in units]
            assert len(set(seeds)) == len(units)                   # no collision between units
    everything = {run_seed(s, p, f, o) for s in (0, 1, 42) for p, f in units for o in (0, 1000, 2000)}
    assert len(everything) == 3 * len(units) * 3                   # nor across seeds and A/A offsets
    assert run_seed(42, 43, 1, 0) == run_seed(42, 43, 1, 0)         # the variant and the baseline on one unit
    assert run_seed(42, 43, 1, 0) != run_seed(42, 43, 2, 0) != run_seed(42, 44, 2, 0)
