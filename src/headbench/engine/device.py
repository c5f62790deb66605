"""Device, precision and thread settings."""
from __future__ import annotations

import contextlib
import os

import torch


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def precision_for(device: torch.device, precision: str) -> str:
    """'auto' means bf16 on a GPU that has it, fp16 (with a scaler) on one that does not, fp32 on a CPU
    (bf16 autocast was measured slower than fp32 on the 2-core CPUs this project runs on)."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


def autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device, precision: str):
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


def configure(device: torch.device, num_threads: int | None) -> None:
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.set_num_threads(num_threads or len(os.sched_getaffinity(0)))


def peak_memory_mb(device: torch.device) -> dict:
    import resource

    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        out["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out
