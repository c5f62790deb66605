"""Seconds per phase of each training step (loader, forward, backward, clipping, optimiser) for the stage's own
data pipeline: the packaged model, the params file's data, fold 0, length-grouped batches.
Usage: python scripts/step_phases.py [--params params.yaml] [--steps N] [--fused | --no-fused]"""
import argparse
import time

import numpy as np
import torch

from headbench import device as dev
from headbench.batching import LengthGroupedBatches, TokenDataset, make_loader
from headbench.heads import load_checked_params
from headbench.data import load_dataset
from headbench.folds import attach_folds, read_folds
from headbench.model import build_model, load_tokenizer
from headbench.optim import make_optimizer
from headbench.tokens import tokenize

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--params", default="params.yaml")
ap.add_argument("--steps", type=int, default=6)
ap.add_argument("--fused", action=argparse.BooleanOptionalAction, default=True, help="fused AdamW (the stage's choice)")
args = ap.parse_args()
p = load_checked_params(args.params)
tp = p.train
df = attach_folds(load_dataset(p.data), read_folds(p.paths.folds), p.paths.folds)
tok = load_tokenizer(p.model.name, p.model.trust_remote_code)
ids, _ = tokenize(df["text"].tolist(), tok, tp.max_length, None)
tr = np.flatnonzero(df["fold"].to_numpy() != 0)
y = df["target"].to_numpy(np.float32)
torch.manual_seed(42)
model = build_model(p.model, p.variant(p.stats.baseline))
dev.configure(torch.device("cpu"), tp.num_threads)
model.train()
opt, sched = make_optimizer(model, tp, None, args.steps, fused=args.fused)
ds = TokenDataset([ids[i] for i in tr], y[tr])
loader = make_loader(ds, tok, LengthGroupedBatches(ds.lengths, tp.batch_size, torch.Generator().manual_seed(42)), tp.pad_to_multiple_of)
print(f"threads {torch.get_num_threads()}, fused AdamW {args.fused}")
t = time.perf_counter()
for step, b in enumerate(loader, 1):
    t1 = time.perf_counter()
    loss = torch.nn.functional.mse_loss(model(b["input_ids"], b["attention_mask"]).float(), b["labels"].float())
    t2 = time.perf_counter()
    loss.backward()
    t3 = time.perf_counter()
    torch.nn.utils.clip_grad_norm_(model.parameters(), tp.max_grad_norm or float("inf"))
    t4 = time.perf_counter()
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    t5 = time.perf_counter()
    print(f"step {step} batch {tuple(b['input_ids'].shape)}  loader {t1 - t:.2f}  forward {t2 - t1:.2f}  backward {t3 - t2:.2f}"
          f"  clip {t4 - t3:.2f}  optimiser {t5 - t4:.2f}", flush=True)
    if step == args.steps:
        break
    t = time.perf_counter()
