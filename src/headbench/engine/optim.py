"""The optimiser and its schedule: AdamW over parameter groups (encoder LR + head LR, or layer-wise LR decay)."""
from __future__ import annotations

import math

import torch
from torch import nn
from transformers import get_scheduler

from headbench.config import TrainParams
from headbench.model.layers import find_layers


def total_steps(n_rows: int, tp: TrainParams) -> int:
    """Optimiser steps of a run: epochs of ceil(rows / batch / accumulation) steps, capped by max_steps."""
    per_epoch = math.ceil(math.ceil(n_rows / tp.batch_size) / tp.grad_accum_steps)
    return per_epoch * tp.epochs if tp.max_steps is None else min(tp.max_steps, per_epoch * tp.epochs)


def make_optimizer(model: nn.Module, tp: TrainParams, llrd: float | None, steps: int, fused: bool):
    """AdamW with `train.lr` (the top encoder layer's rate under LLRD), `train.head_lr` for the head,
    `train.weight_decay`, then `train.scheduler` with `train.warmup_ratio` of the steps as warm-up."""
    optimizer = torch.optim.AdamW(param_groups(model, tp.lr, tp.head_lr, tp.weight_decay, llrd), lr=tp.lr, fused=fused)
    scheduler = get_scheduler(tp.scheduler, optimizer, num_warmup_steps=int(tp.warmup_ratio * steps), num_training_steps=steps)
    return optimizer, scheduler


def _no_decay(param) -> bool:
    # biases, LayerNorm weights and other 1-D parameters take no weight decay
    return param.ndim < 2


def _split(named, lr: float, weight_decay: float, label: str) -> list[dict]:
    decay = [p for _, p in named if p.requires_grad and not _no_decay(p)]
    no_decay = [p for _, p in named if p.requires_grad and _no_decay(p)]
    groups = []
    if decay:
        groups.append({"params": decay, "lr": lr, "weight_decay": weight_decay, "name": f"{label}"})
    if no_decay:
        groups.append({"params": no_decay, "lr": lr, "weight_decay": 0.0, "name": f"{label}.no_decay"})
    return groups


def param_groups(model: nn.Module, lr: float, head_lr: float, weight_decay: float, llrd: float | None = None) -> list[dict]:
    """Every trainable parameter lands in exactly one group.

    With ``llrd=d`` the top encoder layer gets ``lr``, the layer ``k`` steps below it
    ``lr * d**k``, the embeddings (with ELECTRA's embedding projection) ``lr * d**L`` (L layers).
    Encoder parameters outside them and the layers (pooler; DeBERTa's relative position embeddings,
    which every layer's attention reads, the top one included) take the top LR.
    """
    encoder, head = model.encoder, model.head
    groups = _split(list(head.named_parameters()), head_lr, weight_decay, "head")
    if llrd is None:
        return groups + _split(list(encoder.named_parameters()), lr, weight_decay, "encoder")
    _, layers = find_layers(encoder)
    n = len(layers)
    seen = set()
    for depth, layer in enumerate(reversed(layers)):
        named = list(layer.named_parameters())
        seen.update(id(p) for _, p in named)
        groups += _split(named, lr * llrd**depth, weight_decay, f"layer{n - 1 - depth}")
    # the embeddings and what sits between them and layer 0 (ELECTRA's embeddings_project)
    emb = [(k, p) for k, p in encoder.named_parameters() if k.split(".")[0].startswith("embeddings")]
    seen.update(id(p) for _, p in emb)
    groups += _split(emb, lr * llrd**n, weight_decay, "embeddings")
    rest = [(k, p) for k, p in encoder.named_parameters() if id(p) not in seen]
    groups += _split(rest, lr, weight_decay, "encoder.other")
    return groups
