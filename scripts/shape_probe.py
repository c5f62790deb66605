"""Forward + backward + AdamW step of the packaged MiniLM on random tokens, 16 rows, 2 threads, outside the stage:
does a new sequence length per batch (dynamic padding) cost more than one fixed length?
Usage: python scripts/shape_probe.py dynamic|fixed|round32 [train]   (train: dropout on, as in training)"""
import sys
import time

import numpy as np
import torch

from headbench.config import ModelParams, Variant
from headbench.model import build_model

torch.set_num_threads(2)
torch.manual_seed(0)
model = build_model(ModelParams(name="sentence-transformers/all-MiniLM-L6-v2", trust_remote_code=False), Variant(name="b", head="cls"))
if "train" in sys.argv:
    model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-5)


def step(length: int) -> float:
    ids, mask = torch.randint(1000, 5000, (16, length)), torch.ones(16, length, dtype=torch.long)
    t = time.perf_counter()
    model(ids, mask).pow(2).mean().backward()
    opt.step()
    opt.zero_grad()
    return time.perf_counter() - t


mode = sys.argv[1]
lengths = [int(x) for x in np.random.default_rng(0).integers(40, 200, 12)]
if mode == "fixed":
    lengths = [128] * 12
elif mode == "round32":
    lengths = [(n + 31) // 32 * 32 for n in lengths]
times = [step(n) for n in lengths]
print(mode, "lengths", lengths, "s/step", [round(t, 2) for t in times], "total", round(sum(times), 1))
