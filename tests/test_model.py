"""Encoder options applied in the model: the `encoder_dropout` variant option."""
import pytest
import torch

from headbench.model.encoder import build_regressor, load_encoder, set_encoder_dropout


def _batch():
    ids = torch.randint(1000, 2000, (3, 20))
    mask = torch.ones_like(ids)
    mask[1, 12:] = 0
    return ids, mask


@pytest.mark.parametrize("kind", ["bert", "roberta", "electra", "deberta-v2", "distilbert"])
def test_encoder_dropout_zero_makes_training_mode_deterministic(tiny_models, kind):
    torch.manual_seed(0)
    ids, mask = _batch()
    model = build_regressor(load_encoder(tiny_models(kind)), "mean").train()
    with torch.no_grad():
        assert not torch.equal(model(ids, mask), model(ids, mask))  # the model's own dropout is on
        n = set_encoder_dropout(model.encoder, 0.0)
        first, second = model(ids, mask), model(ids, mask)
        model.eval()
        evaluated = model(ids, mask)
    # embeddings, attention probabilities and hidden states: nothing random is left in training mode
    assert n >= 2 and torch.equal(first, second)
    torch.testing.assert_close(first, evaluated, atol=1e-6, rtol=0)


def test_encoder_dropout_none_keeps_the_model_config(tiny_models):
    encoder = load_encoder(tiny_models("bert"))
    assert set_encoder_dropout(encoder, None) == 0
    assert {m.p for m in encoder.modules() if isinstance(m, torch.nn.Dropout)} == {encoder.config.hidden_dropout_prob}
