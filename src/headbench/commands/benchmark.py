"""Benchmark headbench against the Hugging Face Trainer: the training engine (same encoder, rows, steps), or with
--throughput whole runs per hour (the study's worker layout against a Trainer user's runs one after another).

Settings (model, max length, batch size, learning rate, schedule, data) come from the params file; the arms
alternate, each run in a fresh process. Prints a table and writes every run plus the summary as JSON.
"""
import json

from headbench.config import ParamError
from headbench.model.heads import load_checked_params
from headbench.io import write_json, write_text


def add_arguments(ap) -> None:
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--steps", type=int, default=60, help="optimiser steps per run")
    ap.add_argument("--repeats", type=int, default=3, help="alternating rounds of the three arms")
    ap.add_argument("--train-rows", type=int, default=2000)
    ap.add_argument("--valid-rows", type=int, default=400)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=None, help="default: reports/benchmark.json (reports/throughput.json with --throughput)")
    ap.add_argument("--throughput", action="store_true",
                    help="runs per hour: the baseline on --folds, whole runs with the params' recipe, study layout vs Trainer")
    ap.add_argument("--folds", type=int, nargs="+", default=[0, 1], help="with --throughput: the runs (one per fold)")
    ap.add_argument("--workers", type=int, default=None, help="with --throughput: study workers (default: one per core)")


def run(args) -> None:
    for key in ("steps", "repeats", "train_rows", "valid_rows", "workers"):
        if getattr(args, key) is not None and getattr(args, key) < 1:
            raise ParamError(f"--{key.replace('_', '-')} must be at least 1, got {getattr(args, key)}")
    params = load_checked_params(args.params)
    if args.throughput:
        bad = [f for f in args.folds if not 0 <= f < params.cv.n_folds]
        if bad or len(set(args.folds)) != len(args.folds):
            raise ParamError(f"--folds {args.folds}: each fold once, from 0 to {params.cv.n_folds - 1} (cv.n_folds)")
        from headbench.bench.throughput import format_summary, run_throughput

        result = run_throughput(params, args.folds, args.seed, args.repeats, args.workers,
                                on_block=lambda b: print(json.dumps(b), flush=True))
        out = args.out or "reports/throughput.json"
    else:
        from headbench.bench.benchmark import format_summary, run_benchmark

        result = run_benchmark(params, args.steps, args.repeats, args.train_rows, args.valid_rows, args.seed,
                               on_result=lambda r: print(json.dumps(r), flush=True))
        out = args.out or "reports/benchmark.json"
    table = format_summary(result)
    write_json(out, result)
    write_text(out.removesuffix(".json") + ".md", table + "\n")
    print(table)
