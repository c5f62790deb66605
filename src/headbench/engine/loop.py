"""The training loop: one (variant, fold, seed) run."""
from __future__ import annotations

import math
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from headbench.engine import device as dev
from headbench.engine import resume
from headbench.engine.callbacks import Callback, CallbackList, ProgressBar, Timer
from headbench.data.batching import LengthGroupedBatches, TokenDataset, make_loader
from headbench.config import TrainParams
from headbench.errors import NonFiniteLoss
from headbench.engine.inference import cpu_state, predict
from headbench.engine.objective import Objective
from headbench.engine.optim import make_optimizer, total_steps


@dataclass
class TrainState:
    """Where a run stands, in the manner of transformers' TrainerState: the callbacks read it, `resume` saves and
    restores its progress and evaluations (the counters of time, samples and running loss belong to one process)."""

    total_steps: int
    keep_best_state: bool = False  # keep the weights of the best evaluation (train.checkpoint: best_on_valid)
    metric: str = "rmse"           # the validation column of the primary metric is valid_<metric> (lower is better)
    step: int = 0
    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best_score: float = math.inf
    best_step: int = -1
    best_pred: np.ndarray | None = None
    best_state: dict | None = None
    last_pred: np.ndarray | None = None
    seen_samples: int = 0
    loss_sum: float = 0.0
    loss_n: int = 0
    train_seconds: float = 0.0  # the optimisation, evaluations excluded (kept by the Timer callback)
    eval_seconds: float = 0.0

    @property
    def running_loss(self) -> float:
        """Mean training loss since the last evaluation."""
        return self.loss_sum / max(self.loss_n, 1)

    @property
    def samples_per_s(self) -> float:
        return self.seen_samples / max(self.train_seconds, 1e-9)

    def record_batch(self, loss: float, rows: int) -> None:
        self.loss_sum, self.loss_n, self.seen_samples = self.loss_sum + loss, self.loss_n + 1, self.seen_samples + rows

    def add_eval(self, row: dict, pred: np.ndarray, model) -> None:
        """Records an evaluation (and the best one so far); the running training loss starts again."""
        self.history.append(row)
        self.last_pred = pred
        self.loss_sum, self.loss_n = 0.0, 0
        if row[f"valid_{self.metric}"] < self.best_score:
            self.best_score, self.best_step, self.best_pred = row[f"valid_{self.metric}"], row["step"], pred
            if self.keep_best_state:
                self.best_state = cpu_state(model)


@dataclass
class TrainResult:
    """Scores are the primary metric (Objective.metric), lower is better."""
    valid_score: float       # of the reported model: the final one, or the best evaluation under `best_on_valid`
    predictions: np.ndarray  # the reported model's validation predictions (class probabilities), in input order
    state: dict              # the reported model's weights
    best_score: float        # best validation score at any evaluation (selected on the same rows: optimistic)
    best_step: int
    final_score: float       # validation score of the model after the last step
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


def _encoder_lr(optimizer) -> float:
    """The learning rate of the top encoder layer (the head has its own)."""
    return max(g["lr"] for g in optimizer.param_groups if not g["name"].startswith("head"))


def _batch_loss(forward, batch, device, precision, objective: Objective) -> tuple[torch.Tensor, int]:
    """The training loss of one batch, and its number of rows."""
    labels = batch["labels"].to(device, non_blocking=True)
    with dev.autocast(device, precision):
        out = forward(batch["input_ids"].to(device, non_blocking=True),
                      batch["attention_mask"].to(device, non_blocking=True))
    return objective.loss(out, labels), len(labels)


def _optimizer_step(model, optimizer, scheduler, scaler, max_grad_norm: float | None) -> None:
    if max_grad_norm:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def _check_finite(loss: torch.Tensor, label: str, state: TrainState) -> None:
    if not torch.isfinite(loss):
        raise NonFiniteLoss(
            f"{label}: the training loss became {loss.item()} at step {state.step + 1} (epoch {state.epoch}); "
            "stopped without writing a model. Lower train.lr or check the targets."
        )


def _moving_average(model, decay: float | None):
    """train.ema: the run is scored and saved as an exponential moving average of its weights (torch's AveragedModel)."""
    if decay is None:
        return None
    ema = torch.optim.swa_utils.get_ema_multi_avg_fn(decay)
    return torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=ema, use_buffers=False)


def train(model, tokenizer, train_ids: list[np.ndarray], train_y: np.ndarray, valid_ids: list[np.ndarray],
          valid_y: np.ndarray, tp: TrainParams, seed: int, llrd: float | None = None, label: str = "",
          callbacks: list[Callback] = (), resume_dir: str | Path | None = None,
          objective: Objective = Objective()) -> TrainResult:
    device = dev.pick_device()
    dev.configure(device, tp.num_threads)
    precision = dev.precision_for(device, tp.precision)
    model.to(device).train()
    state = TrainState(total_steps(len(train_ids), tp), keep_best_state=tp.checkpoint == "best_on_valid",
                       metric=objective.metric)
    # the fused AdamW kernel exists for CUDA and the CPU (measured here: the optimiser step 0.13 -> 0.03 s for MiniLM)
    optimizer, scheduler = make_optimizer(model, tp, llrd, state.total_steps, fused=device.type in ("cuda", "cpu"))
    scaler = dev.grad_scaler(device, precision)
    forward = torch.compile(model, dynamic=True) if tp.compile else model
    generator = torch.Generator().manual_seed(seed)  # the data order
    ds = TokenDataset(train_ids, train_y)
    batches = LengthGroupedBatches(ds.lengths, tp.batch_size, generator)
    loader = make_loader(ds, tokenizer, batches, tp.pad_to_multiple_of, pin_memory=device.type == "cuda")
    averaged = _moving_average(model, tp.ema)
    scored = model if averaged is None else averaged.module
    resume_dir = Path(resume_dir) if (resume_dir and tp.resume) else None
    if resume_dir is not None and resume.load(resume_dir, state, model, optimizer, scheduler, generator, device):
        print(f"[{label}] resumed from {resume_dir} at epoch {state.epoch}, step {state.step}")
    events = CallbackList([Timer(), ProgressBar(label), *callbacks])

    def evaluate() -> None:
        events.on_evaluate_begin(state)
        pred = objective.predictions(predict(scored, tokenizer, valid_ids, tp.eval_batch_size, device, precision,
                                             tp.pad_to_multiple_of))
        row = {"step": state.step, "epoch": state.epoch, "train_loss": state.running_loss,
               f"valid_{objective.metric}": objective.score(pred, valid_y), "lr": _encoder_lr(optimizer),
               "samples_per_s": state.samples_per_s}
        state.add_eval(row, pred, scored)
        events.on_eval(state, row)

    events.on_train_begin(state)
    for state.epoch in range(state.epoch, tp.epochs):
        if state.step >= state.total_steps:
            break
        optimizer.zero_grad(set_to_none=True)
        for i, batch in enumerate(loader):
            loss, rows = _batch_loss(forward, batch, device, precision, objective)
            _check_finite(loss, label, state)
            scaler.scale(loss / tp.grad_accum_steps).backward()
            state.record_batch(loss.item(), rows)
            if (i + 1) % tp.grad_accum_steps and (i + 1) != len(loader):
                continue  # accumulate gradients over grad_accum_steps batches (or to the end of the epoch)
            _optimizer_step(model, optimizer, scheduler, scaler, tp.max_grad_norm)
            if averaged is not None:
                averaged.update_parameters(model)
            state.step += 1
            events.on_step_end(state)
            if state.step % tp.eval_every == 0 or state.step == state.total_steps:
                evaluate()
            if state.step >= state.total_steps:
                break
        if resume_dir is not None and state.step < state.total_steps:
            resume.save(resume_dir, state, model, optimizer, scheduler, generator)
    events.on_train_end(state)
    return _result(state, scored, resume_dir, label, device)


def _result(state: TrainState, scored, resume_dir: Path | None, label: str, device) -> TrainResult:
    """The reported model (final, or the best evaluation) once the loop is done; the resume state is removed."""
    if not state.history or state.history[-1]["step"] != state.step:
        raise RuntimeError(f"{label}: training ended without evaluating the final model")
    if resume_dir is not None:
        shutil.rmtree(resume_dir, ignore_errors=True)
    final_score = state.history[-1][f"valid_{state.metric}"]
    if state.keep_best_state:
        valid_score, predictions, weights = state.best_score, state.best_pred, state.best_state
    else:
        valid_score, predictions, weights = final_score, state.last_pred, cpu_state(scored)
    return TrainResult(
        valid_score=valid_score, predictions=predictions, state=weights, best_score=state.best_score,
        best_step=state.best_step, final_score=final_score, history=state.history, train_seconds=state.train_seconds,
        eval_seconds=state.eval_seconds, samples_per_s=state.samples_per_s, steps=state.step,
        memory=dev.peak_memory_mb(device),
    )
