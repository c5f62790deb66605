"""A developer's check of the GPU path, from a source checkout: one command, a few minutes on a GPU machine.

    python dev/gpucheck.py --out DIR --data CSV [--model DIR]     # on the GPU machine (no DVC, no MLflow)
    python dev/gpucheck.py --out DIR --dry-run                    # anywhere, seconds: tiny random encoder

It calls the library directly with tracking off and writes each figure to DIR as soon as it is measured, so a run
cut short still leaves what it got:

1. env.json: GPU model and memory, torch, CUDA and transformers versions;
2. cuda_tests.txt: tests/test_cuda.py (bf16 autocast, the fp16 scaler, fused AdamW, predict on the GPU, two
   seeded runs agreeing); they skip without CUDA;
3. benchmark.json: the three-arm engine benchmark at 256 tokens;
4. throughput.json: runs per hour and peak memory per run with 1, 2, 4 and 8 concurrent runs on the GPU;
5. baseline_5fold.json: the baseline on all 5 folds at the full recipe (256 tokens, 3 epochs), its OOF RMSE.

A model folder stored in fp16 (to travel light) is upcast to fp32 before anything trains.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))   # the checkout's own headbench, installed or not


def record(out: Path, name: str, obj) -> None:
    from headbench.io import write_json

    write_json(out / f"{name}.json", obj)
    print(f"[gpu-check] {name}: {json.dumps(obj)[:300]}", flush=True)


def environment() -> dict:
    import torch
    import transformers

    env = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
           "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(), "cpu_count": os.cpu_count()}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        env.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), gpus=torch.cuda.device_count(),
                   bf16_supported=torch.cuda.is_bf16_supported())
    return env


def fp32_model(model: str, work: Path) -> str:
    """A local fp16 model folder, saved again in fp32 (optimiser states need fp32 master weights)."""
    cfg = Path(model) / "config.json"
    config = json.loads(cfg.read_text()) if cfg.is_file() else {}
    if config.get("torch_dtype", config.get("dtype")) != "float16":
        return model
    import torch
    from transformers import AutoModel, AutoTokenizer

    dest = work / "model-fp32"
    AutoModel.from_pretrained(model, dtype=torch.float32).save_pretrained(dest)
    AutoTokenizer.from_pretrained(model).save_pretrained(dest)
    return str(dest)


def tiny_model(work: Path) -> str:
    """A tiny random BERT with MiniLM's vocabulary: the dry run's encoder (seconds, offline)."""
    from transformers import BertConfig, BertModel

    from headbench.model.encoder import load_tokenizer

    dest = work / "tiny"
    BertModel(BertConfig(vocab_size=30522, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                         max_position_embeddings=512, num_hidden_layers=2)).save_pretrained(dest)
    load_tokenizer("sentence-transformers/all-MiniLM-L6-v2").save_pretrained(dest)
    return str(dest)


def study_params(params_path: str, model: str, data: str, dry: bool, work: Path):
    """params.yaml with the check's model, data and full recipe; tracking off; written for the run processes."""
    from headbench.config import read_yaml

    raw = read_yaml(params_path)
    raw["model"]["name"] = model
    raw["data"]["path"] = data
    raw["tracking"]["enabled"] = False
    raw["train"].update(max_length=256, epochs=3, save_checkpoint=False, num_threads=None, eval_every=10**6)
    if dry:
        raw["train"].update(max_length=64, epochs=1, max_steps=2, batch_size=8, eval_batch_size=16)
    raw["variants"] = {"baseline": raw["variants"][raw["stats"]["baseline"]]}
    raw["stats"]["baseline"] = "baseline"
    raw["study"]["more"] = []
    path = work / "params.yaml"
    path.write_text(json.dumps(raw))  # JSON is YAML: no YAML writer needed on the GPU machine
    return path


def concurrent_runs(params: Path, folds: Path, work: Path, runs: list[tuple[int, int]], tag: str) -> tuple[float, list[dict]]:
    """Train ``runs`` (fold, seed) at once, each in its own process; wall seconds and each run's metrics."""
    env = {**os.environ, "HEADBENCH_TRACKING": "0", "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    procs = []
    for fold, seed in runs:
        out = work / tag / f"fold{fold}-seed{seed}"
        procs.append((out, subprocess.Popen([sys.executable, __file__, "--one-run", str(params), str(folds),
                                             str(fold), str(seed), str(out)], env=env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, text=True)))
    metrics = []
    for out, p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise RuntimeError(f"a {tag} run failed:\n{err[-3000:]}")
        metrics.append(json.loads((out / "metrics.json").read_text()))
    return time.perf_counter() - t0, metrics


def one_run(params_path: str, folds: str, fold: int, seed: int, out: str) -> None:
    from headbench.model.heads import load_checked_params
    from headbench.engine.run import train_run

    train_run(load_checked_params(params_path), "baseline", fold, seed, folds, out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="reports/gpu_check")
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--model", help="encoder folder or name (default: params.yaml's; an fp16 folder is upcast)")
    ap.add_argument("--data", help="the CSV to train on (params.yaml's columns; required without --dry-run)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--dry-run", action="store_true", help="tiny random encoder, demo data, 2 steps: the whole script in seconds")
    ap.add_argument("--one-run", nargs=5, metavar=("PARAMS", "FOLDS", "FOLD", "SEED", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not (args.data or args.dry_run or args.one_run):
        ap.error("--data CSV is required (or --dry-run)")
    if args.one_run:
        p, f, fold, seed, out = args.one_run
        return one_run(p, f, int(fold), int(seed), out)

    out = Path(args.out)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    record(out, "env", environment())

    from headbench.config import load_params

    model = tiny_model(work) if args.dry_run else fp32_model(args.model or load_params(args.params).model.name, work)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--noconftest", "-o", "addopts=",
                            str(ROOT / "tests" / "test_cuda.py")], capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "HEADBENCH_CUDA_TEST_MODEL": model})
    (out / "cuda_tests.txt").write_text(tests.stdout[-20000:] + tests.stderr[-5000:])
    record(out, "cuda_tests", {"exit": tests.returncode, "summary": (tests.stdout.strip().splitlines() or [""])[-1]})

    from headbench.data.demo import make_demo
    from headbench.data.folds import make_folds
    from headbench.io import write_csv

    if args.dry_run:
        data = work / "demo.csv"
        write_csv(data, make_demo(120, 0))
    else:
        data = Path(args.data)
    params_path = study_params(args.params, model, str(data), args.dry_run, work)
    params = load_params(params_path)
    folds = work / "folds.csv"
    from headbench.data.table import load_dataset

    write_csv(folds, make_folds(load_dataset(params.data), params.cv))

    from headbench.bench.benchmark import format_summary, run_benchmark

    bench = run_benchmark(params, 2 if args.dry_run else 60, 1 if args.dry_run else 3, 40 if args.dry_run else 2000,
                          20 if args.dry_run else 400, 42)
    record(out, "benchmark", bench)
    (out / "benchmark.md").write_text(format_summary(bench) + "\n")

    through = []
    for k in args.concurrency:
        wall, metrics = concurrent_runs(params_path, folds, work, [(f % params.cv.n_folds, 42 + f) for f in range(k)], f"c{k}")
        through.append({"concurrent": k, "wall_s": wall, "runs_per_hour": 3600 * k / wall,
                        "peak_cuda_mb_per_run": max((m.get("cuda_max_allocated_mb", 0.0) for m in metrics), default=0.0),
                        "samples_per_s_per_run": sum(m["samples_per_s"] for m in metrics) / k})
        record(out, "throughput", {"recipe": {"max_length": params.train.max_length, "epochs": params.train.epochs},
                                   "rows": through})

    wall, metrics = concurrent_runs(params_path, folds, work, [(f, 42) for f in range(params.cv.n_folds)], "baseline5")
    import numpy as np

    rows = [m["valid_rows"] for m in metrics]
    oof = float(np.sqrt(sum(m["valid_rmse"] ** 2 * n for m, n in zip(metrics, rows)) / sum(rows)))
    record(out, "baseline_5fold", {"oof_rmse": oof, "fold_rmse": [m["valid_rmse"] for m in metrics], "wall_s": wall,
                                   "recipe": {"max_length": params.train.max_length, "epochs": params.train.epochs}})


if __name__ == "__main__":
    main()
