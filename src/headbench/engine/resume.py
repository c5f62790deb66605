"""`train.resume`: the end-of-epoch state of a run, saved and loaded together, so a crashed run continues."""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from headbench.engine.inference import cpu_state, save_checkpoint
from headbench.io import atomic_path


def save(d: Path, model, evals, optimizer, scheduler, generator, step: int, epoch: int) -> None:
    """Weights as safetensors; everything else (optimiser, schedule, data order, RNG, evaluations) as tensors."""
    d.mkdir(parents=True, exist_ok=True)
    save_checkpoint(cpu_state(model), d / "model.safetensors")
    if evals.best_state is not None:
        save_checkpoint(evals.best_state, d / "best.safetensors")
    keys = list(evals.history[0]) if evals.history else []
    state = {
        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(), "step": step, "epoch": epoch, "best_rmse": evals.best_rmse,
        "best_step": evals.best_step, "best_pred": torch.as_tensor(evals.best_pred), "history_keys": keys,
        "history": torch.tensor([[float(r[k]) for k in keys] for r in evals.history], dtype=torch.float64),
    }
    with atomic_path(d / "state.pt") as tmp:
        torch.save(state, tmp)


def load(d: Path, model, evals, optimizer, scheduler, generator, device) -> tuple[int, int] | None:
    """Restore what `save` wrote into the given objects; (step, epoch) to continue from, or None if nothing was saved."""
    if not (d / "state.pt").is_file():
        return None
    st = torch.load(d / "state.pt", weights_only=True)
    model.load_state_dict(load_file(d / "model.safetensors", device=str(device)))
    if (d / "best.safetensors").is_file():
        evals.best_state = load_file(d / "best.safetensors")
    optimizer.load_state_dict(st["optimizer"])
    scheduler.load_state_dict(st["scheduler"])
    generator.set_state(st["generator"])
    torch.set_rng_state(st["torch_rng"])
    evals.best_rmse, evals.best_step, evals.best_pred = float(st["best_rmse"]), int(st["best_step"]), st["best_pred"].numpy()
    evals.history = [dict(zip(st["history_keys"], row.tolist())) for row in st["history"]]
    return int(st["step"]), int(st["epoch"])
