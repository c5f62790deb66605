"""Re-initialise the top K encoder layers (and the pooler) with the model's own initialisation."""
from __future__ import annotations

from torch import nn

from headbench.config import ParamError
from headbench.model.layers import find_layers


def reinit_top_layers(encoder: nn.Module, k: int) -> list[str]:
    if k == 0:
        return []
    _, layers = find_layers(encoder)
    if k > len(layers):
        raise ParamError(f"params.yaml: `reinit_layers`={k} but {type(encoder).__name__} has only {len(layers)} layers")
    init = getattr(encoder, "_init_weights", None)
    if init is None:
        raise ParamError(f"{type(encoder).__name__} has no `_init_weights`: cannot re-initialise layers")
    targets = [(f"layer{len(layers) - 1 - i}", layers[len(layers) - 1 - i]) for i in range(k)]
    pooler = getattr(encoder, "pooler", None)
    if isinstance(pooler, nn.Module):
        targets.append(("pooler", pooler))
    for _, module in targets:
        for sub in module.modules():
            # transformers 5 skips tensors (and modules) flagged as already initialised from a checkpoint
            sub._is_hf_initialized = False
            for t in [*sub.parameters(recurse=False), *sub.buffers(recurse=False)]:
                t._is_hf_initialized = False
            init(sub)
    return [name for name, _ in targets]
