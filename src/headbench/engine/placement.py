"""Where concurrent runs go: each worker's GPU and its share of the cores (the study driver and the throughput
benchmark place runs alike). Imports no torch, so a CPU study does not pay for it."""
from __future__ import annotations

from dataclasses import dataclass

from headbench.errors import StudyError


@dataclass(frozen=True)
class Placement:
    gpu: int | None      # CUDA device index the worker sees as its only GPU (None: CPU)
    cpus: frozenset[int]  # cores it is pinned to; torch uses one thread per core (train.num_threads: null)


def placement(n_workers: int, devices: str, cores: list[int], n_gpus: int = 0) -> list[Placement]:
    """Worker k gets GPU k mod n_gpus (several runs share a GPU when workers outnumber GPUs, which a small encoder
    leaves mostly idle otherwise) and its own share of the cores, so concurrent runs never oversubscribe them."""
    if devices == "cuda" and n_gpus < 1:
        raise StudyError("--devices cuda: no CUDA device is visible")
    per = max(1, len(cores) // n_workers)
    out = []
    for k in range(n_workers):
        share = cores[k * per:(k + 1) * per] or cores[(k * per) % len(cores):][:per] or cores[-per:]
        out.append(Placement(k % n_gpus if devices == "cuda" else None, frozenset(share)))
    return out


def visible_gpus() -> int:
    import torch  # only a GPU study pays for the import

    return torch.cuda.device_count()
