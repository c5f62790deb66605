"""The `headbench` command: what users run by hand. The DVC stages keep their own scripts under stages/.

    headbench study --rounds                 # train a study in parallel workers (one per core), adaptive rounds
    headbench show                           # one row per experiment: each variant's Δ and verdict
    headbench predict new.csv --variants baseline
    headbench heads                          # every head, with its options, types and defaults
    headbench benchmark --steps 60           # the engine against the Hugging Face Trainer
"""
from __future__ import annotations

import argparse
import sys

from headbench.cli import main as run_main
from headbench.commands import benchmark, heads, predict, show, study

COMMANDS = {"study": study, "show": show, "predict": predict, "heads": heads, "benchmark": benchmark}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="headbench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.__doc__.splitlines()[0], description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
    return ap


def parse(argv: list[str]) -> argparse.Namespace:
    """The command's arguments; `show` passes the ones it does not know on to `dvc exp show`."""
    ap = parser()
    args, extra = ap.parse_known_args(argv)
    if extra and args.command != "show":
        ap.error(f"unrecognized arguments: {' '.join(extra)}")
    args.dvc_args = extra
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    run_main(lambda: COMMANDS[args.command].run(args))
