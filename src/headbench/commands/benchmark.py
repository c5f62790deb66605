"""Benchmark headbench's training engine against the Hugging Face Trainer reference (same encoder, rows, steps).

Settings (model, max length, batch size, learning rate, schedule, data) come from the params file; the arms
alternate, each in a fresh process. Prints a table and writes every run plus the summary as JSON.
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
    ap.add_argument("--out", default="reports/benchmark.json")


def run(args) -> None:
    from headbench.bench.benchmark import format_summary, run_benchmark

    for key in ("steps", "repeats", "train_rows", "valid_rows"):
        if getattr(args, key) < 1:
            raise ParamError(f"--{key.replace('_', '-')} must be at least 1, got {getattr(args, key)}")
    params = load_checked_params(args.params)
    result = run_benchmark(params, args.steps, args.repeats, args.train_rows, args.valid_rows, args.seed,
                           on_result=lambda r: print(json.dumps(r), flush=True))
    table = format_summary(result)
    write_json(args.out, result)
    write_text(args.out.removesuffix(".json") + ".md", table + "\n")
    print(table)
