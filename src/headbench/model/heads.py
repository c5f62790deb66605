"""Heads: one registry that names them all, one signature for all of them.

Every head is called as ``head(hidden_states, attention_mask) -> Tensor[batch]`` (one output) or
``Tensor[batch, outputs]`` (one per target or class, as the task says) where
``hidden_states`` is the encoder's tuple (embeddings, layer 1, ..., layer L) of
``[batch, seq, hidden]`` tensors and ``attention_mask`` is ``[batch, seq]`` with 1 for real
tokens. A head pools the states into features; the shared output block (optional dropout or
multi-sample dropout, then Linear -> outputs) turns features into the row's outputs.
Padding never influences a prediction: every pooling below masks it out.
"""
from __future__ import annotations

import inspect
from typing import Literal, get_args, get_origin, get_type_hints

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from headbench.errors import ParamError

HEADS: dict[str, type["Head"]] = {}
# Every head's output block takes these; a head's own options are the keyword arguments of its __init__,
# declared once there with a type and a default. Types mean: int, a count or size >= 1; float, a probability
# in [0, 1); bool; Literal[...], one of the listed strings.
COMMON_OPTIONS = {"dropout": (float, 0.0), "msd_samples": (int, 1)}
NOT_OPTIONS = ("self", "hidden_size", "num_layers")


def register_head(name: str):
    def add(cls):
        HEADS[name] = cls
        cls.head_name = name
        return cls

    return add


def option_specs(name: str) -> dict[str, tuple[object, object]]:
    """option -> (type, default) for head ``name``: read from its __init__ signature, plus the common ones."""
    init = HEADS[name].__init__
    hints = get_type_hints(init)
    own = {p.name: (hints.get(p.name), p.default) for p in inspect.signature(init).parameters.values() if p.name not in NOT_OPTIONS}
    return {**own, **COMMON_OPTIONS}


def describe_kind(kind) -> str:
    """How an option's type reads in a message or a listing."""
    if get_origin(kind) is Literal:
        return "one of " + " | ".join(map(str, get_args(kind)))
    return {bool: "true or false", int: "integer >= 1", float: "number in [0, 1)"}.get(kind, str(kind))


def _check_option(value, kind) -> str | None:
    """None if ``value`` is a valid ``kind``, else what it should be."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if get_origin(kind) is Literal:
        ok = value in get_args(kind)
    elif kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = number and isinstance(value, int) and value >= 1
    elif kind is float:
        ok = number and 0 <= value < 1
    else:
        raise TypeError(f"head option type {kind!r} is not supported: use int, float, bool or Literal[...]")
    return None if ok else describe_kind(kind)


def validate_head(name, options: dict, key: str = "head") -> None:
    if name not in HEADS:
        raise ParamError(f"params.yaml: `{key}.head` is {name!r}, not a known head; valid heads: {sorted(HEADS)}")
    specs = option_specs(name)
    unknown = sorted(set(options) - set(specs))
    if unknown:
        raise ParamError(
            f"params.yaml: `{key}.head_options` has unknown options {unknown} for head {name!r}; "
            f"valid options: {sorted(specs)}"
        )
    for opt, value in options.items():
        want = _check_option(value, specs[opt][0])
        if want:
            raise ParamError(f"params.yaml: `{key}.head_options.{opt}` must be {want}, got {value!r}")


def build_head(name: str, hidden_size: int, num_layers: int, options: dict | None = None, outputs: int = 1) -> "Head":
    options = dict(options or {})
    validate_head(name, options)
    dropout = options.pop("dropout", COMMON_OPTIONS["dropout"][1])
    msd = options.pop("msd_samples", COMMON_OPTIONS["msd_samples"][1])
    head = HEADS[name](hidden_size=hidden_size, num_layers=num_layers, **options)
    head.set_output(dropout, msd, outputs)
    return head


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(x.dtype)
    return (x * m).sum(1) / m.sum(1).clamp(min=1.0)


def masked_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return x.masked_fill(~mask.bool().unsqueeze(-1), torch.finfo(x.dtype).min).max(1).values


class Head(nn.Module):
    """Base: subclasses set ``out_features`` and implement ``pool``."""

    head_name = "?"
    out_features: int

    def set_output(self, dropout: float, msd_samples: int, outputs: int = 1) -> None:
        self.dropout = nn.Dropout(dropout)
        self.msd_samples = msd_samples
        self.outputs = outputs
        self.fc = nn.Linear(self.out_features, outputs)

    def pool(self, hidden_states, mask) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, hidden_states, attention_mask) -> torch.Tensor:
        features = self.pool(hidden_states, attention_mask)
        if self.training and self.msd_samples > 1:
            # multi-sample dropout: average the outputs over K independent dropout masks
            out = torch.stack([self.fc(self.dropout(features)) for _ in range(self.msd_samples)]).mean(0)
        else:
            out = self.fc(self.dropout(features))
        return out.squeeze(-1) if self.outputs == 1 else out


@register_head("cls")
class ClsHead(Head):
    """The last layer's first token ([CLS] or <s>)."""

    def __init__(self, hidden_size, num_layers):
        super().__init__()
        self.out_features = hidden_size

    def pool(self, hidden_states, mask):
        return hidden_states[-1][:, 0]


@register_head("mean")
class MeanHead(Head):
    """The mean of the last layer over real tokens."""

    def __init__(self, hidden_size, num_layers):
        super().__init__()
        self.out_features = hidden_size

    def pool(self, hidden_states, mask):
        return masked_mean(hidden_states[-1], mask)


@register_head("max")
class MaxHead(Head):
    """The elementwise maximum of the last layer over real tokens."""

    def __init__(self, hidden_size, num_layers):
        super().__init__()
        self.out_features = hidden_size

    def pool(self, hidden_states, mask):
        return masked_max(hidden_states[-1], mask)


@register_head("mean_max")
class MeanMaxHead(Head):
    """The mean and the maximum over real tokens, concatenated."""

    def __init__(self, hidden_size, num_layers):
        super().__init__()
        self.out_features = 2 * hidden_size

    def pool(self, hidden_states, mask):
        h = hidden_states[-1]
        return torch.cat([masked_mean(h, mask), masked_max(h, mask)], dim=-1)


@register_head("conv1d")
class Conv1dHead(Head):
    """Conv1d -> ReLU -> Conv1d(->1) -> max over time, over windows made only of real tokens."""

    def __init__(self, hidden_size, num_layers, channels: int = 256, kernel_size: int = 2):
        super().__init__()
        self.kernel_size = kernel_size
        self.conv1 = nn.Conv1d(hidden_size, channels, kernel_size)
        self.conv2 = nn.Conv1d(channels, 1, kernel_size)
        self.out_features = 1

    def _valid(self, mask: torch.Tensor) -> torch.Tensor:
        # a valid output position is a window whose inputs were all valid: a min-pool of the mask
        return -F.max_pool1d(-mask.unsqueeze(1), self.kernel_size, stride=1).squeeze(1)

    def pool(self, hidden_states, mask):
        x = hidden_states[-1].transpose(1, 2)  # [B, H, T]
        mask = mask.to(x.dtype)
        x = F.relu(self.conv1(x * mask.unsqueeze(1)))
        mask = self._valid(mask)
        x = self.conv2(x).squeeze(1)  # [B, T - 2(k-1)]
        mask = self._valid(mask)
        # a text shorter than the two windows has no valid position: fall back to the first one
        mask[:, 0] = torch.where(mask.sum(1) > 0, mask[:, 0], torch.ones_like(mask[:, 0]))
        return x.masked_fill(mask == 0, torch.finfo(x.dtype).min).max(1, keepdim=True).values


@register_head("lstm")
class LstmHead(Head):
    """LSTM over the token states; the summary is its final state at each row's last real token."""

    def __init__(self, hidden_size, num_layers, lstm_size: int = 256, bidirectional: bool = True):
        super().__init__()
        self.lstm = nn.LSTM(hidden_size, lstm_size, batch_first=True, bidirectional=bool(bidirectional))
        self.out_features = lstm_size * (2 if bidirectional else 1)

    def pool(self, hidden_states, mask):
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(hidden_states[-1], lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)  # h_n: [directions, B, size], taken at each row's true end
        return torch.cat(list(h_n), dim=-1)


@register_head("concat_cls")
class ConcatClsHead(Head):
    """The first token of the last ``n_layers`` layers, concatenated."""

    def __init__(self, hidden_size, num_layers, n_layers: int = 4):
        super().__init__()
        if n_layers > num_layers:
            raise ParamError(f"head concat_cls: n_layers={n_layers} but the encoder has only {num_layers} layers")
        self.n_layers = n_layers
        self.out_features = n_layers * hidden_size

    def pool(self, hidden_states, mask):
        return torch.cat([hidden_states[-i][:, 0] for i in range(1, self.n_layers + 1)], dim=-1)


@register_head("weighted_layers")
class WeightedLayersHead(Head):
    """Softmax-normalised learned weights over the layers from ``layer_start`` to the last."""

    def __init__(self, hidden_size, num_layers, layer_start: int = 4, pooling: Literal["cls", "mean"] = "cls"):
        super().__init__()
        if layer_start > num_layers:
            raise ParamError(f"head weighted_layers: layer_start={layer_start} but the encoder has only {num_layers} layers")
        self.layer_start = layer_start
        self.pooling = pooling
        self.layer_logits = nn.Parameter(torch.zeros(num_layers + 1 - layer_start))
        self.out_features = hidden_size

    def pool(self, hidden_states, mask):
        stacked = torch.stack(hidden_states[self.layer_start :], dim=0)  # [n, B, T, H]
        w = torch.softmax(self.layer_logits, dim=0).to(stacked.dtype)
        h = (w.view(-1, 1, 1, 1) * stacked).sum(0)
        return h[:, 0] if self.pooling == "cls" else masked_mean(h, mask)


@register_head("attention")
class AttentionHead(Head):
    """Additive attention: score = v . tanh(W h), softmax over real tokens, weighted sum."""

    def __init__(self, hidden_size, num_layers, attention_size: int = 512):
        super().__init__()
        self.W = nn.Linear(hidden_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)
        self.out_features = hidden_size

    def pool(self, hidden_states, mask):
        h = hidden_states[-1]
        scores = self.v(torch.tanh(self.W(h))).squeeze(-1)
        scores = scores.masked_fill(~mask.bool(), torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=1)
        return (weights.unsqueeze(-1) * h).sum(1)


def check_heads(params):
    """Every variant's head name and options, checked against the registry; returns ``params``."""
    for name, v in params.variants.items():
        validate_head(v.head, dict(v.head_options), f"variants.{name}")
    return params


def load_checked_params(path="params.yaml"):
    """params.yaml with the heads checked too: for the stages and tools that build models."""
    from headbench.config import load_params

    return check_heads(load_params(path))
