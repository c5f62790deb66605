import pytest
import torch

from headbench.model.layers import UnsupportedModel
from headbench.model.encoder import build_regressor, load_encoder
from headbench.engine.optim import param_groups
from headbench.model.reinit import reinit_top_layers


def group_of(groups):
    return {id(p): g for g in groups for p in g["params"]}


@pytest.mark.parametrize("kind", ["bert", "roberta", "electra", "deberta-v2", "distilbert"])
def test_llrd_puts_every_parameter_in_exactly_one_group_with_the_rule(tiny_models, kind):
    model = build_regressor(load_encoder(tiny_models(kind)), "attention", {"attention_size": 8})
    lr, head_lr, wd, d = 1e-4, 1e-3, 0.01, 0.9
    groups = param_groups(model, lr, head_lr, wd, llrd=d)
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == sum(1 for p in model.parameters() if p.requires_grad)
    by_id = group_of(groups)
    layers = model.encoder.transformer.layer if kind == "distilbert" else model.encoder.encoder.layer
    assert len(layers) == 4
    for depth, layer in enumerate(reversed(layers)):  # top layer: lr, below: lr * d^depth
        for name, p in layer.named_parameters():
            assert by_id[id(p)]["lr"] == pytest.approx(lr * d**depth)
            assert by_id[id(p)]["weight_decay"] == (0.0 if p.ndim < 2 else wd), name
    for p in model.encoder.embeddings.parameters():
        assert by_id[id(p)]["lr"] == pytest.approx(lr * d**4)  # 4 layers: the lowest LR
    for name, p in model.head.named_parameters():
        assert by_id[id(p)]["lr"] == head_lr
        assert by_id[id(p)]["weight_decay"] == (0.0 if name.endswith("bias") else wd)


def test_llrd_gives_electras_embedding_projection_the_embeddings_rate(tiny_models):
    model = build_regressor(load_encoder(tiny_models("electra")), "cls")
    assert model.encoder.embeddings_project.in_features == 16  # the tiny config has the projection
    by_id = group_of(param_groups(model, 1e-4, 1e-3, 0.01, llrd=0.9))
    for p in model.encoder.embeddings_project.parameters():
        assert by_id[id(p)]["lr"] == pytest.approx(1e-4 * 0.9**4)  # the bottom of the network, not the top layer's


def test_llrd_gives_debertas_relative_embeddings_the_top_rate(tiny_models):
    """They feed every layer's attention, the top one included (a choice, documented in optim.param_groups)."""
    model = build_regressor(load_encoder(tiny_models("deberta-v2")), "cls")
    rel = list(model.encoder.encoder.rel_embeddings.parameters()) + list(model.encoder.encoder.LayerNorm.parameters())
    assert rel
    by_id = group_of(param_groups(model, 1e-4, 1e-3, 0.01, llrd=0.9))
    assert all(by_id[id(p)]["lr"] == pytest.approx(1e-4) and by_id[id(p)]["name"].startswith("encoder.other") for p in rel)


def test_llrd_numbers_for_a_4_layer_model(tiny_models):
    model = build_regressor(load_encoder(tiny_models("bert")), "cls")
    groups = {g["name"]: g for g in param_groups(model, 2e-5, 1e-3, 0.01, llrd=0.95)}
    assert groups["layer3"]["lr"] == pytest.approx(2e-5)
    assert groups["layer2"]["lr"] == pytest.approx(1.9e-5)
    assert groups["layer1"]["lr"] == pytest.approx(1.805e-5)
    assert groups["layer0"]["lr"] == pytest.approx(1.71475e-5)
    assert groups["embeddings"]["lr"] == pytest.approx(1.6290125e-5)
    assert groups["layer0.no_decay"]["weight_decay"] == 0.0 and groups["layer0"]["weight_decay"] == 0.01
    assert groups["head"]["lr"] == 1e-3
    ln = model.encoder.encoder.layer[0].attention.output.LayerNorm
    assert any(p is ln.weight for p in groups["layer0.no_decay"]["params"])
    assert any(p is ln.bias for p in groups["layer0.no_decay"]["params"])


def test_without_llrd_encoder_and_head_have_their_own_lr(tiny_models):
    model = build_regressor(load_encoder(tiny_models("bert")), "cls")
    groups = {g["name"]: g for g in param_groups(model, 3e-5, 1e-3, 0.01)}
    assert groups["encoder"]["lr"] == 3e-5 and groups["head"]["lr"] == 1e-3


def test_llrd_on_an_unknown_layout_names_the_model_class():
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(2, 2)])

    model = torch.nn.Module()
    model.encoder, model.head = Odd(), torch.nn.Linear(2, 1)
    with pytest.raises(UnsupportedModel, match="Odd"):
        param_groups(model, 1e-5, 1e-3, 0.0, llrd=0.9)


@pytest.mark.parametrize("kind", ["bert", "roberta", "electra", "deberta-v2", "distilbert"])
def test_reinit_changes_exactly_the_top_k_layers(tiny_models, kind):
    enc = load_encoder(tiny_models(kind))
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    torch.manual_seed(123)
    touched = reinit_top_layers(enc, 2)
    assert touched[:2] == ["layer3", "layer2"]
    after = enc.state_dict()
    for name, old in before.items():
        top = name.startswith(("encoder.layer.2.", "encoder.layer.3.", "transformer.layer.2.", "transformer.layer.3.", "pooler."))
        if top and old.ndim >= 2:
            assert not torch.equal(old, after[name]), f"{name} was not re-initialised"
        if not top:
            assert torch.equal(old, after[name]), f"{name} changed but is below the top 2 layers"


def test_reinit_more_layers_than_the_model_has_is_an_error(tiny_models):
    from headbench.config import ParamError

    with pytest.raises(ParamError, match="reinit_layers.*=5 but BertModel has only 4 layers"):
        reinit_top_layers(load_encoder(tiny_models("bert")), 5)
