"""Seconds per training step of the packaged MiniLM (cls head, AdamW) on real CommonLit rows at batch x max length,
for one setting; a list of settings is timed with one fresh process each, run one after another or side by side.

    python scripts/results/step_timing.py --data ../shared/data/commonlit/train.csv --threads 2
    python scripts/results/step_timing.py --data ... --threads 1 --cpus 0   # pinned to core 0 (run another on core 1)
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 python scripts/results/step_timing.py ...  # an allocator
    python scripts/results/step_timing.py --data ... --compile             # torch.compile; warmup_s holds the compilation
Prints one JSON line; --out appends it to a JSON-lines file.
"""
import argparse
import json
import os
import time

import numpy as np
import pandas as pd
import torch

from headbench.model.encoder import build_regressor, load_encoder, load_tokenizer

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--data", required=True)
ap.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--cpus", type=int, nargs="*", help="pin this process to these cores")
ap.add_argument("--batch", type=int, default=16)
ap.add_argument("--max-length", type=int, default=128)
ap.add_argument("--steps", type=int, default=10, help="timed steps, after 3 warm-up steps")
ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
ap.add_argument("--compile", action="store_true", help="torch.compile(dynamic=True) the model, as train.compile does")
ap.add_argument("--tag", default="")
ap.add_argument("--out")
args = ap.parse_args()

if args.cpus:
    os.sched_setaffinity(0, set(args.cpus))
torch.set_num_threads(args.threads)
torch.manual_seed(0)
tok = load_tokenizer(args.model)
model = build_regressor(load_encoder(args.model), "cls", {})
model.train()
forward = torch.compile(model, dynamic=True) if args.compile else model
opt = torch.optim.AdamW(model.parameters(), lr=5e-5)
df = pd.read_csv(args.data).sample(args.batch * (args.steps + 3), random_state=0)
times = []
for i in range(0, len(df), args.batch):
    b = tok(df["excerpt"].iloc[i:i + args.batch].tolist(), truncation=True, max_length=args.max_length, padding=True, return_tensors="pt")
    y = torch.tensor(df["target"].iloc[i:i + args.batch].to_numpy(), dtype=torch.float32)
    t = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
        pred = forward(b["input_ids"], b["attention_mask"])
    torch.nn.functional.mse_loss(pred.float(), y).backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    times.append(time.perf_counter() - t)
res = {"tag": args.tag, "threads": args.threads, "cpus": args.cpus, "precision": args.precision, "batch": args.batch,
       "max_length": args.max_length, "median_s_per_step": round(float(np.median(times[3:])), 3),
       "mean_s_per_step": round(float(np.mean(times[3:])), 3), "steps": len(times) - 3,
       "warmup_s": round(float(np.sum(times[:3])), 3), "compile": args.compile,
       "ld_preload": os.environ.get("LD_PRELOAD", ""), "torch": torch.__version__}
print(json.dumps(res))
if args.out:
    with open(args.out, "a") as f:
        f.write(json.dumps(res) + "\n")
