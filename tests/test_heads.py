import pytest
import torch

import inspect

from headbench.model.heads import HEADS, build_head, masked_max, option_specs
from headbench.model.encoder import build_regressor, load_encoder

# every registered head with its declared defaults (the tiny encoders have 4 layers), plus non-default options
CASES = [(name, {}) for name in sorted(HEADS)] + [
    ("conv1d", {"channels": 16, "kernel_size": 3}), ("lstm", {"lstm_size": 8, "bidirectional": False}),
    ("weighted_layers", {"layer_start": 2, "pooling": "mean"}), ("attention", {"attention_size": 16}),
]


def test_every_head_option_has_a_type_and_a_default():
    for name in HEADS:
        for opt, (kind, default) in option_specs(name).items():
            assert kind is not None and default is not inspect.Parameter.empty, (name, opt)


def test_headbench_heads_lists_every_head_with_each_option_from_the_registry():
    from headbench.commands.heads import listing

    text = listing()
    for name in HEADS:
        assert HEADS[name].__doc__, f"head {name!r} has no docstring for `headbench heads`"
        block = text.split(f"\n{name}: ")[-1] if not text.startswith(f"{name}: ") else text
        for opt, (kind, default) in option_specs(name).items():
            assert any(line.split()[:1] == [opt] for line in block.splitlines()[1:]), (name, opt)
    lstm = text[text.index("lstm: "):].splitlines()
    assert any(line.split() == ["bidirectional", "true", "or", "false", "default", "true"] for line in lstm)


def batch(lengths, pad_to=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    T = pad_to or max(lengths)
    ids = torch.zeros(len(lengths), T, dtype=torch.long)
    mask = torch.zeros(len(lengths), T, dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(1000, 5000, (n,), generator=g)
        ids[i, 0], ids[i, n - 1] = 101, 102
        mask[i, :n] = 1
    return ids, mask


# the outputs of each task type: one target, three targets (V, A, D), seven classes
TASK_OUTPUTS = {"regression": 1, "regression-3-targets": 3, "classification-7-classes": 7}


@pytest.mark.parametrize("task", TASK_OUTPUTS)
@pytest.mark.parametrize("kind", ["bert", "roberta"])
@pytest.mark.parametrize("head, options", CASES, ids=[f"{h}-{o}" for h, o in CASES])
def test_head_gives_finite_outputs_per_row_and_ignores_padding(tiny_models, kind, head, options, task):
    torch.manual_seed(0)
    outputs = TASK_OUTPUTS[task]
    model = build_regressor(load_encoder(tiny_models(kind)), head, options, outputs).eval()
    lengths = [5, 12, 9, 3]
    ids, mask = batch(lengths)
    with torch.no_grad():
        out = model(ids, mask)
        padded = model(*batch(lengths, pad_to=40))
    assert out.shape == ((4,) if outputs == 1 else (4, outputs)) and torch.isfinite(out).all()
    torch.testing.assert_close(out, padded, atol=1e-5, rtol=0)


def test_masked_max_never_selects_padding():
    x = torch.full((2, 6, 3), -5.0)
    x[:, 4:] = 100.0  # padding holds the largest values
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]])
    assert (masked_max(x, mask) == -5.0).all()


def test_conv1d_max_excludes_windows_that_touch_padding():
    head = build_head("conv1d", 4, 2, {"channels": 3, "kernel_size": 2})
    torch.nn.init.constant_(head.conv1.weight, 1.0)
    torch.nn.init.zeros_(head.conv1.bias)
    torch.nn.init.constant_(head.conv2.weight, 1.0)
    torch.nn.init.zeros_(head.conv2.bias)
    h = torch.ones(1, 8, 4)
    h[:, 4:] = 1000.0  # huge values on padding positions
    mask = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0]])
    pooled = head.pool((h,), mask)
    # every valid window sees only ones: conv1 -> 4*2 = 8 per channel, conv2 -> 3 channels * 2 * 8 = 48
    assert pooled.item() == pytest.approx(48.0)


def test_multi_sample_dropout_averages_in_training_only():
    torch.manual_seed(0)
    head = build_head("mean", 8, 2, {"dropout": 0.5, "msd_samples": 4})
    h, mask = (torch.randn(3, 5, 8),), torch.ones(3, 5)
    head.eval()
    a, b = head(h, mask), head(h, mask)
    torch.testing.assert_close(a, b)
    head.train()
    assert not torch.equal(head(h, mask), head(h, mask))


def test_concat_more_layers_than_model_has_is_an_error(tiny_models):
    from headbench.config import ParamError

    with pytest.raises(ParamError, match="n_layers=9 but the encoder has only 4 layers"):
        build_regressor(load_encoder(tiny_models("bert")), "concat_cls", {"n_layers": 9})
