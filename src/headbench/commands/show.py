"""One row per experiment with each variant's Δ and verdict: `dvc exp show` narrowed to the variants' cells.

The first lines name the question the verdicts answer (stats.question) and the primary metric. A cell is Δ of the
primary metric (RMSE, MCRMSE or log-loss; lower is better) against the baseline in thousandths: `*` called better (negative) or worse (positive), `=` equivalent, `~` needs more data (more runs
cannot decide on this many rows), `?` not enough runs, no mark while undecided. Any other argument goes to `dvc exp show` (e.g. -A, --sort-by).
"""
import re
import subprocess

from headbench.config import METRICS, QUESTIONS, load_params
from headbench.summary_keys import SUMMARY_KEYS


def add_arguments(ap) -> None:
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--words", action="store_true", help="the study-wide verdicts in words instead of the cells")


def keep_pattern(variants: list[str], baseline: str, words: bool = False) -> str:
    columns = ["Experiment", "Created", *SUMMARY_KEYS] if words else \
        ["Experiment", *(v for v in variants if v != baseline)]
    return "^(" + "|".join(re.escape(c) for c in columns) + ")$"


def command(params_path: str, words: bool, extra: list[str]) -> list[str]:
    p = load_params(params_path)
    return ["dvc", "exp", "show", "--no-pager", "--drop", ".*", "--keep", keep_pattern(list(p.variants), p.stats.baseline, words), *extra]


def run(args) -> int:
    p = load_params(args.params)
    print(f"question: {p.stats.question} ({QUESTIONS[p.stats.question]})", flush=True)
    print(f"metric: {METRICS[p.metric]}, lower is better; a cell is Δ {METRICS[p.metric]} in thousandths", flush=True)
    return subprocess.run(command(args.params, args.words, args.dvc_args)).returncode   # dvc's own code
