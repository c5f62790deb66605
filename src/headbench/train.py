"""The training loop: one (variant, fold, seed) run."""
from __future__ import annotations

import math
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm
from transformers import get_scheduler

from headbench.errors import NonFiniteLoss
from headbench import device as dev
from headbench.batching import TokenDataset, length_grouped_batches, make_loader, sorted_batches
from headbench.config import TrainParams
from headbench.optim import param_groups
from headbench.stats import rmse




@dataclass
class TrainResult:
    valid_rmse: float        # of the reported model: the final one, or the best evaluation under `best_on_valid`
    predictions: np.ndarray  # the reported model's validation predictions, in input order
    state: dict              # the reported model's weights
    best_rmse: float         # lowest validation RMSE seen at any evaluation (selected on the same rows: optimistic)
    best_step: int
    final_rmse: float        # validation RMSE of the model after the last step
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0  # the optimisation loop, evaluations excluded
    eval_seconds: float = 0.0
    samples_per_s: float = 0.0
    steps: int = 0
    memory: dict = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.inference_mode()
def predict(model, tokenizer, ids: list[np.ndarray], batch_size: int, device, precision: str) -> np.ndarray:
    """Predictions in input order, computed over length-sorted batches."""
    was_training = model.training
    model.eval()
    ds = TokenDataset(ids)
    batches = sorted_batches(ds.lengths, batch_size)
    loader = make_loader(ds, tokenizer, batches, pin_memory=device.type == "cuda")
    out = np.empty(len(ids), dtype=np.float64)
    for idx, batch in zip(batches, loader):
        with dev.autocast(device, precision):
            p = model(batch["input_ids"].to(device, non_blocking=True), batch["attention_mask"].to(device, non_blocking=True))
        out[idx] = p.float().cpu().numpy()
    model.train(was_training)
    return out


def _encoder_lr(optimizer) -> float:
    """The learning rate of the top encoder layer (the head has its own)."""
    return max(g["lr"] for g in optimizer.param_groups if not g["name"].startswith("head"))


def _cpu_copy(model) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def save_checkpoint(state: dict, path: str | Path, metadata: dict | None = None) -> None:
    from headbench.io import atomic_path

    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp), metadata=metadata)


def train(
    model,
    tokenizer,
    train_ids: list[np.ndarray],
    train_y: np.ndarray,
    valid_ids: list[np.ndarray],
    valid_y: np.ndarray,
    tp: TrainParams,
    seed: int,
    llrd: float | None = None,
    label: str = "",
    on_eval: Callable[[dict], None] | None = None,
    resume_dir: str | Path | None = None,
) -> TrainResult:
    device = dev.pick_device()
    dev.configure(device, tp.num_threads)
    precision = dev.precision_for(device, tp.precision)
    model.to(device)
    model.train()
    fused = device.type == "cuda"
    optimizer = torch.optim.AdamW(param_groups(model, tp.lr, tp.head_lr, tp.weight_decay, llrd), lr=tp.lr, fused=fused)
    steps_per_epoch = math.ceil(math.ceil(len(train_ids) / tp.batch_size) / tp.grad_accum_steps)
    total = steps_per_epoch * tp.epochs if tp.max_steps is None else min(tp.max_steps, steps_per_epoch * tp.epochs)
    scheduler = get_scheduler(tp.scheduler, optimizer, num_warmup_steps=int(tp.warmup_ratio * total), num_training_steps=total)
    scaler = dev.grad_scaler(device, precision)
    forward = torch.compile(model, dynamic=True) if tp.compile else model

    generator = torch.Generator().manual_seed(seed)
    ds = TokenDataset(train_ids, train_y)
    loader = make_loader(ds, tokenizer, length_grouped_batches(ds.lengths, tp.batch_size, generator), device.type == "cuda")

    keep_best = tp.checkpoint == "best_on_valid"
    step, start_epoch, best_rmse, best_step, best_pred, best_state, history = 0, 0, math.inf, -1, None, None, []
    resume_dir = Path(resume_dir) if (resume_dir and tp.resume) else None
    if resume_dir is not None and (resume_dir / "state.pt").is_file():
        st = torch.load(resume_dir / "state.pt", weights_only=True)
        model.load_state_dict(load_file(resume_dir / "model.safetensors", device=str(device)))
        if (resume_dir / "best.safetensors").is_file():
            best_state = load_file(resume_dir / "best.safetensors")
        optimizer.load_state_dict(st["optimizer"])
        scheduler.load_state_dict(st["scheduler"])
        generator.set_state(st["generator"])
        torch.set_rng_state(st["torch_rng"])
        step, start_epoch, best_rmse, best_step = int(st["step"]), int(st["epoch"]), float(st["best_rmse"]), int(st["best_step"])
        best_pred, history = st["best_pred"].numpy(), [dict(zip(st["history_keys"], row.tolist())) for row in st["history"]]
        print(f"[{label}] resumed from {resume_dir} at epoch {start_epoch}, step {step}")

    def evaluate(epoch: int, train_loss: float, samples_per_s: float) -> None:
        nonlocal best_rmse, best_step, best_pred, best_state
        pred = predict(model, tokenizer, valid_ids, tp.eval_batch_size, device, precision)
        score = rmse(pred, valid_y)
        row = {"step": step, "epoch": epoch, "train_loss": train_loss, "valid_rmse": score,
               "lr": _encoder_lr(optimizer), "samples_per_s": samples_per_s}
        history.append(row)
        if score < best_rmse:
            best_rmse, best_step, best_pred = score, step, pred
            if keep_best:
                best_state = _cpu_copy(model)
        if on_eval:
            on_eval(row)
        return pred

    bar = tqdm(total=total, initial=step, desc=label or "train", unit="step", dynamic_ncols=True, mininterval=1.0)
    seen_samples, train_time, eval_time, last_pred = 0, 0.0, 0.0, None
    loss_sum, loss_n = 0.0, 0
    t0 = time.perf_counter()
    for epoch in range(start_epoch, tp.epochs):
        if step >= total:
            break
        optimizer.zero_grad(set_to_none=True)
        for i, batch in enumerate(loader):
            input_ids = batch["input_ids"].to(device, non_blocking=True)
            mask = batch["attention_mask"].to(device, non_blocking=True)
            labels = batch["labels"].to(device, non_blocking=True).float()
            with dev.autocast(device, precision):
                pred = forward(input_ids, mask)
            loss = torch.nn.functional.mse_loss(pred.float(), labels)
            if not torch.isfinite(loss):
                raise NonFiniteLoss(
                    f"{label}: the training loss became {loss.item()} at step {step + 1} (epoch {epoch}); "
                    "stopped without writing a model. Lower train.lr or check the targets."
                )
            scaler.scale(loss / tp.grad_accum_steps).backward()
            loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
            seen_samples += len(labels)
            last_micro = (i + 1) == len(loader)
            if (i + 1) % tp.grad_accum_steps and not last_micro:
                continue
            if tp.max_grad_norm:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), tp.max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            elapsed = time.perf_counter() - t0
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / loss_n:.4f}", samples_s=f"{seen_samples / max(train_time + elapsed, 1e-9):.1f}")
            if step % tp.eval_every == 0 or step == total:
                train_time += elapsed
                t_eval = time.perf_counter()
                last_pred = evaluate(epoch, loss_sum / loss_n, seen_samples / max(train_time, 1e-9))
                eval_time += time.perf_counter() - t_eval
                bar.set_postfix(loss=f"{loss_sum / loss_n:.4f}", val_rmse=f"{history[-1]['valid_rmse']:.4f}", best=f"{best_rmse:.4f}")
                loss_sum, loss_n = 0.0, 0
                t0 = time.perf_counter()
            if step >= total:
                break
        if resume_dir is not None and step < total:
            _save_resume(resume_dir, model, best_state, optimizer, scheduler, generator, step, epoch + 1,
                         best_rmse, best_step, best_pred, history)
    train_time += time.perf_counter() - t0
    bar.close()
    if not history or history[-1]["step"] != step:
        raise RuntimeError(f"{label}: training ended without evaluating the final model")
    if resume_dir is not None:
        shutil.rmtree(resume_dir, ignore_errors=True)
    final_rmse = history[-1]["valid_rmse"]
    if keep_best:
        valid_rmse, predictions, state = best_rmse, best_pred, best_state
    else:
        valid_rmse, predictions, state = final_rmse, last_pred, _cpu_copy(model)
    return TrainResult(
        valid_rmse=valid_rmse, predictions=predictions, state=state, best_rmse=best_rmse, best_step=best_step,
        final_rmse=final_rmse, history=history,
        train_seconds=train_time, eval_seconds=eval_time, samples_per_s=seen_samples / max(train_time, 1e-9), steps=step,
        memory=dev.peak_memory_mb(device),
    )


def _save_resume(d: Path, model, best_state, optimizer, scheduler, generator, step, epoch, best_rmse, best_step, best_pred, history):
    """End-of-epoch state for `train.resume`: safetensors for weights, tensors-only state for the rest."""
    d.mkdir(parents=True, exist_ok=True)
    save_checkpoint(_cpu_copy(model), d / "model.safetensors")
    if best_state is not None:
        save_checkpoint(best_state, d / "best.safetensors")
    keys = list(history[0]) if history else []
    state = {
        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(), "step": step, "epoch": epoch, "best_rmse": best_rmse, "best_step": best_step,
        "best_pred": torch.as_tensor(best_pred), "history_keys": keys,
        "history": torch.tensor([[float(r[k]) for k in keys] for r in history], dtype=torch.float64),
    }
    from headbench.io import atomic_path

    with atomic_path(d / "state.pt") as tmp:
        torch.save(state, tmp)
