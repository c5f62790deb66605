"""headbench's training engine against two Hugging Face Trainer references: same encoder, rows, steps and settings.

The references are what a user would otherwise write: `AutoModelForSequenceClassification(num_labels=1)` and
`Trainer` with the same batch size, learning rate, schedule, warm-up, weight decay and clipping, either
- `trainer`: tokenisation padded to the maximum length (the plain recipe), or
- `trainer_grouped`: `DataCollatorWithPadding` and `train_sampling_strategy="group_by_length"` (the informed one,
  which removes the padding that headbench removes).
headbench's arm uses `train.lr` for its head too, since the references have one learning rate for every parameter.
Each arm runs in a fresh process (so peak RSS is its own), and the arms alternate (ABC, CBA, ...).
"""
from __future__ import annotations

import math
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace

import numpy as np
import torch

from headbench.config import Params
from headbench.data.table import load_dataset
from headbench.data.folds import make_folds
from headbench.stats.scoring import rmse

ARMS = ("headbench", "trainer", "trainer_grouped")
REFERENCES = ARMS[1:]


def benchmark_rows(params: Params, train_rows: int, valid_rows: int) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Fold 0 of the configured split is the validation set; both are deterministic subsets."""
    df = load_dataset(params.data)
    folds = make_folds(df, params.cv).set_index("id")["fold"]
    is_valid = df["id"].map(folds).to_numpy() == 0
    tr, va = df[~is_valid].head(train_rows), df[is_valid].head(valid_rows)
    return tr["text"].tolist(), tr["target"].to_numpy(np.float32), va["text"].tolist(), va["target"].to_numpy(np.float32)


def _pin(cpus: frozenset[int] | None) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)


def fresh_process(fn, *args, cpus: frozenset[int] | None = None):
    """``fn(*args)`` in a new spawned process (its own imports, threads and peak RSS), pinned to ``cpus`` if given."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_pin, initargs=(cpus,)) as pool:
        return pool.submit(fn, *args).result()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_headbench(params: Params, data, steps: int, seed: int) -> dict:
    from headbench.config import Variant
    from headbench.model.encoder import build_model, load_tokenizer
    from headbench.data.tokens import tokenize
    from headbench.engine.loop import seed_everything, train

    t0 = time.perf_counter()
    tr_text, tr_y, va_text, va_y = data
    # One learning rate for every parameter, as the reference has: the RMSE difference then measures the engine,
    # not headbench's separate head learning rate.
    tp = replace(params.train, max_steps=steps, epochs=10**6, eval_every=steps, save_checkpoint=False, resume=False,
                 head_lr=params.train.lr)
    tokenizer = load_tokenizer(params.model.name, params.model.trust_remote_code)
    tr_ids, _ = tokenize(tr_text, tokenizer, tp.max_length)
    va_ids, _ = tokenize(va_text, tokenizer, tp.max_length)
    seed_everything(seed)
    model = build_model(params.model, Variant(name="baseline", head="cls"))
    result = train(model, tokenizer, tr_ids, tr_y, va_ids, va_y, tp, seed, label="headbench")
    return {
        "arm": "headbench", "samples_per_s": result.samples_per_s, "train_seconds": result.train_seconds,
        "wall_seconds": time.perf_counter() - t0, "peak_rss_mb": _peak_rss_mb(), "valid_rmse": result.valid_score,
        "steps": result.steps, **{k: v for k, v in result.memory.items() if k.startswith("cuda")},
    }


def run_trainer(params: Params, data, steps: int, seed: int, grouped: bool = False) -> dict:
    from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding, Trainer, TrainingArguments

    from headbench.model.encoder import load_tokenizer, resolve_model_path

    t0 = time.perf_counter()
    tr_text, tr_y, va_text, va_y = data
    tp, mp = params.train, params.model
    tokenizer = load_tokenizer(mp.name, mp.trust_remote_code)

    def encode(texts, y):
        enc = tokenizer(texts, truncation=True, max_length=tp.max_length, padding=False if grouped else "max_length")
        return [{"input_ids": i, "attention_mask": m, "labels": float(t)} for i, m, t in zip(enc["input_ids"], enc["attention_mask"], y)]

    train_ds, valid_ds = encode(tr_text, tr_y), encode(va_text, va_y)
    model = AutoModelForSequenceClassification.from_pretrained(
        resolve_model_path(mp.name), num_labels=1, trust_remote_code=mp.trust_remote_code)
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out, per_device_train_batch_size=tp.batch_size, per_device_eval_batch_size=tp.eval_batch_size,
            gradient_accumulation_steps=tp.grad_accum_steps, max_steps=steps, learning_rate=tp.lr,
            weight_decay=tp.weight_decay, warmup_steps=int(tp.warmup_ratio * steps), lr_scheduler_type=tp.scheduler,
            max_grad_norm=tp.max_grad_norm, seed=seed, bf16=cuda and torch.cuda.is_bf16_supported(),
            eval_strategy="no", save_strategy="no", logging_strategy="no", report_to="none", disable_tqdm=True,
            use_cpu=not cuda, train_sampling_strategy="group_by_length" if grouped else "random",
        )
        collator = DataCollatorWithPadding(tokenizer) if grouped else None
        trainer = Trainer(model=model, args=args, train_dataset=train_ds, data_collator=collator)
        out_metrics = trainer.train().metrics
        pred = trainer.predict(valid_ds).predictions.reshape(-1)
    cuda_mem = {"cuda_max_allocated_mb": torch.cuda.max_memory_allocated() / 2**20} if cuda else {}
    return {
        "arm": "trainer_grouped" if grouped else "trainer",
        "samples_per_s": steps * tp.batch_size * tp.grad_accum_steps / out_metrics["train_runtime"],
        "train_seconds": out_metrics["train_runtime"], "wall_seconds": time.perf_counter() - t0,
        "peak_rss_mb": _peak_rss_mb(), "valid_rmse": rmse(pred, va_y), "steps": steps, **cuda_mem,
    }


def _run_arm(arm: str, params: Params, data, steps: int, seed: int) -> dict:
    if arm == "headbench":
        return run_headbench(params, data, steps, seed)
    return run_trainer(params, data, steps, seed, grouped=arm == "trainer_grouped")


def run_benchmark(params: Params, steps: int, repeats: int, train_rows: int, valid_rows: int, seed: int,
                  on_result=None) -> dict:
    """Alternate the arms (ABC, CBA, ABC, ...), each in a fresh process; repeat r uses seed + r for both arms, so the
    spread over repeats includes seed noise. Returns every run and a summary."""
    data = benchmark_rows(params, train_rows, valid_rows)
    runs = []
    for rep in range(repeats):
        for arm in (ARMS if rep % 2 == 0 else ARMS[::-1]):
            res = fresh_process(_run_arm, arm, params, data, steps, seed + rep)
            res.update(repeat=rep, seed=seed + rep)
            runs.append(res)
            if on_result:
                on_result(res)
    return {"settings": {"steps": steps, "repeats": repeats, "train_rows": len(data[1]), "valid_rows": len(data[3]),
                         "seed": seed, "model": params.model.name, "data": params.data.path, "train": asdict(params.train),
                         "lr_every_parameter": params.train.lr,
                         "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
                         "torch_threads": torch.get_num_threads()},
            "runs": runs, "summary": summarize(runs)}


def summarize(runs: list[dict]) -> dict:
    out = {}
    for arm in ARMS:
        rs = [r for r in runs if r["arm"] == arm]
        if not rs:
            continue
        out[arm] = {k: mean_sd([r[k] for r in rs]) for k in ("samples_per_s", "train_seconds", "wall_seconds", "peak_rss_mb", "valid_rmse")}
    for ref in REFERENCES:
        ratios, rmse_diffs = [], []
        for rep in sorted({r["repeat"] for r in runs}):
            pair = {r["arm"]: r for r in runs if r["repeat"] == rep}
            if "headbench" in pair and ref in pair:
                ratios.append(pair["headbench"]["samples_per_s"] / pair[ref]["samples_per_s"])
                rmse_diffs.append(pair["headbench"]["valid_rmse"] - pair[ref]["valid_rmse"])
        out[f"speed_ratio_vs_{ref}"] = spread(ratios)
        out[f"valid_rmse_diff_vs_{ref}"] = spread(rmse_diffs)
    return out


def mean_sd(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values) if values else math.nan,
            "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def spread(values: list[float]) -> dict:
    """Paired figures, one per repeat: the values, their mean, sd, min and max."""
    return {"per_repeat": values, **mean_sd(values), "min": min(values, default=math.nan), "max": max(values, default=math.nan)}


def format_summary(result: dict) -> str:
    s, cfg = result["summary"], result["settings"]
    lines = [f"{cfg['model']} on {cfg['data']}: {cfg['train_rows']} train / {cfg['valid_rows']} valid rows, "
             f"{cfg['steps']} steps x batch {cfg['train']['batch_size']}, max length {cfg['train']['max_length']}, "
             f"lr {cfg['lr_every_parameter']:g} for every parameter in both arms, "
             f"{cfg['repeats']} alternating repeats, device {cfg['device']} ({cfg['torch_threads']} threads)",
             "| arm | samples/s | train s | wall s | peak RSS MB | valid RMSE |", "|---|---|---|---|---|---|"]
    for arm in ARMS:
        a = s[arm]
        lines.append(f"| {arm} | " + " | ".join(f"{a[k]['mean']:.{p}f} ± {a[k]['std']:.{p}f}" for k, p in
                     (("samples_per_s", 2), ("train_seconds", 1), ("wall_seconds", 1), ("peak_rss_mb", 0), ("valid_rmse", 4))) + " |")
    for ref in REFERENCES:
        r, d = s[f"speed_ratio_vs_{ref}"], s[f"valid_rmse_diff_vs_{ref}"]
        lines.append(f"speed ratio headbench / {ref} (samples/s, paired per repeat): {r['mean']:.2f} ± {r['std']:.2f} "
                     f"(min {r['min']:.2f}, max {r['max']:.2f}); valid RMSE headbench - {ref}: {d['mean']:+.4f} ± {d['std']:.4f}")
    return "\n".join(lines)
