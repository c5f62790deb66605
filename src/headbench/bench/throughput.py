"""Study throughput: runs per hour of headbench's study layout against a Trainer user's runs, one after another.

Both arms train the same fixed set of real runs: the baseline on each given fold at one seed, with the params'
recipe (max length, epochs, batch size, learning rate, schedule), each run in a fresh process.
- `study`: the layout `headbench study` uses on a CPU (`engine.placement`): one worker per core, pinned to it with
  one torch thread, each worker training its share of the runs (round-robin) one after another, as its DVC stages
  would. Each run is `engine.run.train_run`, the train stage's own function, with the params' evaluation schedule
  (so it also evaluates mid-epoch when `train.eval_every` says so, which the reference does not).
- `trainer`: the informed Hugging Face Trainer (`DataCollatorWithPadding` + `group_by_length`, see
  `bench.benchmark`), one run after another with every core, scoring the fold once at the end.
Tracking is off in both. The arms alternate (A B, B A, ...); each pair gives one ratio of runs per hour.
"""
from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from headbench.bench.benchmark import fresh_process, mean_sd, run_trainer, spread
from headbench.config import Params
from headbench.data.folds import attach_folds, make_folds, read_folds
from headbench.data.table import load_dataset
from headbench.engine.placement import placement
from headbench.io import write_csv

ARMS = ("study", "trainer")


def _study_run(params: Params, fold: int, seed: int, folds_path: str, out: str) -> dict:
    import torch

    from headbench.engine.run import train_run

    t0 = time.perf_counter()
    m = train_run(params, params.stats.baseline, fold, seed, folds_path, out)
    return {"valid_rmse": m["valid_rmse"], "train_seconds": m["train_seconds"], "wall_seconds": time.perf_counter() - t0,
            "threads": torch.get_num_threads()}


def _trainer_run(params: Params, fold: int, seed: int, folds_path: str) -> dict:
    import torch

    df = attach_folds(load_dataset(params.data), read_folds(folds_path, params.cv.n_folds), folds_path)
    tr, va = df[df["fold"] != fold], df[df["fold"] == fold]
    tp = params.train
    steps = tp.max_steps or math.ceil(len(tr) / (tp.batch_size * tp.grad_accum_steps)) * tp.epochs
    data = (tr["text"].tolist(), tr["target"].to_numpy(np.float32), va["text"].tolist(), va["target"].to_numpy(np.float32))
    res = run_trainer(params, data, steps, seed, grouped=True)
    return {"valid_rmse": res["valid_rmse"], "train_seconds": res["train_seconds"], "wall_seconds": res["wall_seconds"],
            "threads": torch.get_num_threads(), "steps": steps}


def run_study_arm(params: Params, runs: list[tuple[int, int]], workers: int, folds_path: str, out_dir: Path) -> list[dict]:
    """The runs across ``workers`` pinned workers, each taking every n-th run in turn; returns one row per run."""
    study_params = replace(params, train=replace(params.train, num_threads=None))  # one thread per pinned core
    places = placement(workers, "cpu", sorted(os.sched_getaffinity(0)))
    rows: list[dict] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for fold, seed in runs[k::workers]:
            res = fresh_process(_study_run, study_params, fold, seed, folds_path,
                                 str(out_dir / f"fold{fold}-seed{seed}"), cpus=places[k].cpus)
            with lock:
                rows.append({"fold": fold, "seed": seed, "worker": k, **res})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(rows) != len(runs):
        raise RuntimeError(f"the study arm finished {len(rows)} of {len(runs)} runs")
    return sorted(rows, key=lambda r: (r["fold"], r["seed"]))


def run_trainer_arm(params: Params, runs: list[tuple[int, int]], folds_path: str) -> list[dict]:
    return [{"fold": fold, "seed": seed, **fresh_process(_trainer_run, params, fold, seed, folds_path)} for fold, seed in runs]


def run_throughput(params: Params, folds: list[int], seed: int, repeats: int, workers: int | None = None,
                   on_block=None) -> dict:
    """Alternate the two arms ``repeats`` times over the same runs; returns every block and a summary."""
    params = replace(params, tracking=replace(params.tracking, enabled=False),
                     train=replace(params.train, save_checkpoint=False, resume=False))
    workers = workers or len(os.sched_getaffinity(0))
    runs = [(f, seed) for f in folds]
    blocks = []
    with tempfile.TemporaryDirectory(prefix="headbench-throughput-") as tmp:
        folds_path = str(Path(tmp) / "folds.csv")
        write_csv(folds_path, make_folds(load_dataset(params.data), params.cv))
        for rep in range(repeats):
            for arm in (ARMS if rep % 2 == 0 else ARMS[::-1]):
                t0 = time.perf_counter()
                if arm == "study":
                    rows = run_study_arm(params, runs, workers, folds_path, Path(tmp) / f"runs{rep}")
                else:
                    rows = run_trainer_arm(params, runs, folds_path)
                wall = time.perf_counter() - t0
                block = {"arm": arm, "repeat": rep, "wall_seconds": wall, "runs": rows,
                         "runs_per_hour": len(rows) * 3600 / wall, "at": time.strftime("%H:%M:%S")}
                blocks.append(block)
                if on_block:
                    on_block(block)
    return {"settings": {"folds": folds, "seed": seed, "repeats": repeats, "study_workers": workers,
                         "cores": len(os.sched_getaffinity(0)), "model": params.model.name, "data": params.data.path,
                         "train": asdict(params.train)},
            "blocks": blocks, "summary": summarize(blocks)}


def summarize(blocks: list[dict]) -> dict:
    ratios = []
    for rep in sorted({b["repeat"] for b in blocks}):
        pair = {b["arm"]: b for b in blocks if b["repeat"] == rep}
        if set(pair) == set(ARMS):
            ratios.append(pair["study"]["runs_per_hour"] / pair["trainer"]["runs_per_hour"])
    out = {}
    for arm in ARMS:
        rph = [b["runs_per_hour"] for b in blocks if b["arm"] == arm]
        rmse = [r["valid_rmse"] for b in blocks if b["arm"] == arm for r in b["runs"]]
        out[arm] = {"runs_per_hour": mean_sd(rph), "valid_rmse": mean_sd(rmse)}
    out["ratio_study_over_trainer"] = spread(ratios)
    return out


def format_summary(result: dict) -> str:
    s, cfg = result["summary"], result["settings"]
    r = s["ratio_study_over_trainer"]
    lines = [f"{cfg['model']} on {cfg['data']}: baseline on folds {cfg['folds']} at seed {cfg['seed']}, "
             f"max length {cfg['train']['max_length']}, {cfg['train']['epochs']} epoch(s), batch {cfg['train']['batch_size']}; "
             f"{cfg['repeats']} alternating repeats on {cfg['cores']} cores",
             "| arm | layout | runs/hour | valid RMSE (every run) |", "|---|---|---|---|",
             f"| study | {cfg['study_workers']} pinned workers, 1 run each at a time | "
             f"{s['study']['runs_per_hour']['mean']:.2f} ± {s['study']['runs_per_hour']['std']:.2f} | "
             f"{s['study']['valid_rmse']['mean']:.4f} ± {s['study']['valid_rmse']['std']:.4f} |",
             f"| trainer | one run after another, every core | "
             f"{s['trainer']['runs_per_hour']['mean']:.2f} ± {s['trainer']['runs_per_hour']['std']:.2f} | "
             f"{s['trainer']['valid_rmse']['mean']:.4f} ± {s['trainer']['valid_rmse']['std']:.4f} |",
             f"runs per hour, study / trainer (paired per repeat): {r['mean']:.2f} ± {r['std']:.2f} "
             f"(min {r['min']:.2f}, max {r['max']:.2f})", "", "| arm | repeat | wall s | runs/hour | at |", "|---|---|---|---|---|"]
    lines += [f"| {b['arm']} | {b['repeat'] + 1} | {b['wall_seconds']:.1f} | {b['runs_per_hour']:.2f} | {b['at']} |"
              for b in result["blocks"]]
    return "\n".join(lines)
