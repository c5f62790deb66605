"""Predictions of a model over token ids, and its weights on disk (safetensors)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from headbench.engine import device as dev
from headbench.data.batching import TokenDataset, make_loader, sorted_batches
from headbench.io import atomic_path


@torch.inference_mode()
def predict(model, tokenizer, ids: list[np.ndarray], batch_size: int, device, precision: str,
            pad_to_multiple_of: int | None = None) -> np.ndarray:
    """Outputs in input order ([rows], or [rows, outputs] for a head with several), over length-sorted batches."""
    was_training = model.training
    model.eval()
    ds = TokenDataset(ids)
    batches = sorted_batches(ds.lengths, batch_size)
    loader = make_loader(ds, tokenizer, batches, pad_to_multiple_of, pin_memory=device.type == "cuda")
    out = None
    for idx, batch in zip(batches, loader):
        with dev.autocast(device, precision):
            p = model(batch["input_ids"].to(device, non_blocking=True), batch["attention_mask"].to(device, non_blocking=True))
        if out is None:
            out = np.empty((len(ids), *p.shape[1:]), dtype=np.float64)
        out[idx] = p.float().cpu().numpy()
    model.train(was_training)
    return out if out is not None else np.empty(0, dtype=np.float64)


def cpu_state(model) -> dict:
    """A copy of the weights on the CPU (the model keeps training)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def save_checkpoint(state: dict, path: str | Path, metadata: dict | None = None) -> None:
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp), metadata=metadata)
