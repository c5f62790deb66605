"""The training loop: one (variant, fold, seed) run."""
from __future__ import annotations

import math
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from headbench.engine import device as dev
from headbench.engine import resume
from headbench.engine.callbacks import Callback, CallbackList
from headbench.data.batching import LengthGroupedBatches, TokenDataset, make_loader
from headbench.config import TrainParams
from headbench.errors import NonFiniteLoss
from headbench.engine.inference import cpu_state, predict
from headbench.engine.optim import make_optimizer, total_steps
from headbench.stats.scoring import rmse


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


class Evaluations:
    """The learning curve and the best evaluation so far (with its weights when ``keep_best_state``)."""

    def __init__(self, keep_best_state: bool):
        self.keep_best_state = keep_best_state
        self.history: list[dict] = []
        self.best_rmse, self.best_step, self.best_pred, self.best_state = math.inf, -1, None, None
        self.last_pred = None

    def add(self, row: dict, pred: np.ndarray, model) -> None:
        self.history.append(row)
        self.last_pred = pred
        if row["valid_rmse"] < self.best_rmse:
            self.best_rmse, self.best_step, self.best_pred = row["valid_rmse"], row["step"], pred
            if self.keep_best_state:
                self.best_state = cpu_state(model)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _encoder_lr(optimizer) -> float:
    """The learning rate of the top encoder layer (the head has its own)."""
    return max(g["lr"] for g in optimizer.param_groups if not g["name"].startswith("head"))


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
    callbacks: list[Callback] = (),
    resume_dir: str | Path | None = None,
) -> TrainResult:
    events = CallbackList(callbacks)
    device = dev.pick_device()
    dev.configure(device, tp.num_threads)
    precision = dev.precision_for(device, tp.precision)
    model.to(device)
    model.train()
    total = total_steps(len(train_ids), tp)
    # the fused AdamW kernel exists for CUDA and the CPU (measured here: the optimiser step 0.13 -> 0.03 s for MiniLM)
    optimizer, scheduler = make_optimizer(model, tp, llrd, total, fused=device.type in ("cuda", "cpu"))
    scaler = dev.grad_scaler(device, precision)
    forward = torch.compile(model, dynamic=True) if tp.compile else model
    generator = torch.Generator().manual_seed(seed)  # the data order
    ds = TokenDataset(train_ids, train_y)
    batches = LengthGroupedBatches(ds.lengths, tp.batch_size, generator)
    loader = make_loader(ds, tokenizer, batches, tp.pad_to_multiple_of, pin_memory=device.type == "cuda")
    evals = Evaluations(keep_best_state=tp.checkpoint == "best_on_valid")
    # train.ema: the run is scored and saved as an exponential moving average of its weights (torch's AveragedModel)
    averaged = None if tp.ema is None else torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(tp.ema), use_buffers=False)
    scored = model if averaged is None else averaged.module

    step, start_epoch = 0, 0
    resume_dir = Path(resume_dir) if (resume_dir and tp.resume) else None
    if resume_dir is not None and (at := resume.load(resume_dir, model, evals, optimizer, scheduler, generator, device)):
        step, start_epoch = at
        print(f"[{label}] resumed from {resume_dir} at epoch {start_epoch}, step {step}")

    def evaluate(epoch: int, train_loss: float, samples_per_s: float) -> None:
        pred = predict(scored, tokenizer, valid_ids, tp.eval_batch_size, device, precision, tp.pad_to_multiple_of)
        row = {"step": step, "epoch": epoch, "train_loss": train_loss, "valid_rmse": rmse(pred, valid_y),
               "lr": _encoder_lr(optimizer), "samples_per_s": samples_per_s}
        evals.add(row, pred, scored)
        events.on_eval(row)

    bar = tqdm(total=total, initial=step, desc=label or "train", unit="step", dynamic_ncols=True, mininterval=1.0)
    seen_samples, train_time, eval_time = 0, 0.0, 0.0
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
            if averaged is not None:
                averaged.update_parameters(model)
            step += 1
            events.on_step_end(step)
            elapsed = time.perf_counter() - t0
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / loss_n:.4f}", samples_s=f"{seen_samples / max(train_time + elapsed, 1e-9):.1f}")
            if step % tp.eval_every == 0 or step == total:
                train_time += elapsed
                t_eval = time.perf_counter()
                evaluate(epoch, loss_sum / loss_n, seen_samples / max(train_time, 1e-9))
                eval_time += time.perf_counter() - t_eval
                bar.set_postfix(loss=f"{loss_sum / loss_n:.4f}", val_rmse=f"{evals.history[-1]['valid_rmse']:.4f}",
                                best=f"{evals.best_rmse:.4f}")
                loss_sum, loss_n = 0.0, 0
                t0 = time.perf_counter()
            if step >= total:
                break
        if resume_dir is not None and step < total:
            resume.save(resume_dir, model, evals, optimizer, scheduler, generator, step, epoch + 1)
    train_time += time.perf_counter() - t0
    bar.close()
    if not evals.history or evals.history[-1]["step"] != step:
        raise RuntimeError(f"{label}: training ended without evaluating the final model")
    if resume_dir is not None:
        shutil.rmtree(resume_dir, ignore_errors=True)
    final_rmse = evals.history[-1]["valid_rmse"]
    if evals.keep_best_state:
        valid_rmse, predictions, state = evals.best_rmse, evals.best_pred, evals.best_state
    else:
        valid_rmse, predictions, state = final_rmse, evals.last_pred, cpu_state(scored)
    return TrainResult(
        valid_rmse=valid_rmse, predictions=predictions, state=state, best_rmse=evals.best_rmse, best_step=evals.best_step,
        final_rmse=final_rmse, history=evals.history,
        train_seconds=train_time, eval_seconds=eval_time, samples_per_s=seen_samples / max(train_time, 1e-9), steps=step,
        memory=dev.peak_memory_mb(device),
    )
