"""`train.resume`: the end-of-epoch state of a run, saved and loaded together, so a crashed run continues."""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from headbench.engine.inference import cpu_state, save_checkpoint
from headbench.io import atomic_path


def save(d: Path, state, model, optimizer, scheduler, generator) -> None:
    """At the end of epoch ``state.epoch``: the weights as safetensors; the rest (the `TrainState`'s progress and
    evaluations, optimiser, schedule, data order, RNG) as tensors."""
    d.mkdir(parents=True, exist_ok=True)
    save_checkpoint(cpu_state(model), d / "model.safetensors")
    if state.best_state is not None:
        save_checkpoint(state.best_state, d / "best.safetensors")
    keys = list(state.history[0]) if state.history else []
    saved = {
        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(), "step": state.step, "epoch": state.epoch + 1, "best_score": state.best_score,
        "best_step": state.best_step, "best_pred": torch.as_tensor(state.best_pred), "history_keys": keys,
        "history": torch.tensor([[float(r[k]) for k in keys] for r in state.history], dtype=torch.float64),
    }
    with atomic_path(d / "state.pt") as tmp:
        torch.save(saved, tmp)


def load(d: Path, state, model, optimizer, scheduler, generator, device) -> bool:
    """Restore what `save` wrote into the given objects, ``state`` at the epoch to continue from; False if nothing
    was saved."""
    if not (d / "state.pt").is_file():
        return False
    saved = torch.load(d / "state.pt", weights_only=True)
    model.load_state_dict(load_file(d / "model.safetensors", device=str(device)))
    if (d / "best.safetensors").is_file():
        state.best_state = load_file(d / "best.safetensors")
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    generator.set_state(saved["generator"])
    torch.set_rng_state(saved["torch_rng"])
    state.step, state.epoch = int(saved["step"]), int(saved["epoch"])
    state.best_score, state.best_step = float(saved["best_score"]), int(saved["best_step"])
    state.best_pred = saved["best_pred"].numpy()
    state.history = [dict(zip(saved["history_keys"], row.tolist())) for row in saved["history"]]
    return True
