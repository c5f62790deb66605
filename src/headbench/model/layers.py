"""Finding an encoder's embeddings and its stack of layers, for LLRD and re-initialisation."""
from __future__ import annotations

from torch import nn

from headbench.errors import UnsupportedModel

# (embeddings attribute, layer-list attribute path) by architecture family
LAYOUTS = (
    ("embeddings", "encoder.layer"),  # BERT, RoBERTa, ELECTRA, DeBERTa(-v2/v3), XLM-R, MiniLM
    ("embeddings", "transformer.layer"),  # DistilBERT
)




def _get(module: nn.Module, path: str):
    for part in path.split("."):
        module = getattr(module, part, None)
        if module is None:
            return None
    return module


def find_layers(encoder: nn.Module) -> tuple[nn.Module, nn.ModuleList]:
    for emb_attr, layers_attr in LAYOUTS:
        emb, layers = _get(encoder, emb_attr), _get(encoder, layers_attr)
        if isinstance(emb, nn.Module) and isinstance(layers, nn.ModuleList) and len(layers) > 0:
            return emb, layers
    raise UnsupportedModel(
        f"cannot find the embeddings and the layer list of {type(encoder).__name__}: "
        f"LLRD and re-initialisation support models laid out as {[f'{e} + {l}' for e, l in LAYOUTS]}"
    )
