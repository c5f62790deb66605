"""One row per experiment with each variant's Δ and verdict: `dvc exp show` narrowed to the variants' cells.

The first line names the question the verdicts answer (stats.question). A cell is Δ RMSE against the baseline in
thousandths: `*` called better (negative) or worse (positive), `=` equivalent, `~` needs more data (more runs
cannot decide on this many rows), `?` not enough runs, no mark while undecided. Any other argument goes to `dvc exp show` (e.g. -A, --sort-by).
"""
import re
import subprocess

from headbench.config import QUESTIONS, load_params


def add_arguments(ap) -> None:
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--words", action="store_true", help="the study-wide verdicts in words instead of the cells")


def keep_pattern(variants: list[str], baseline: str, words: bool = False) -> str:
    columns = ["Experiment", "Created", "question", "better", "worse", "equivalent", "aa_verdict", "runs"] if words else \
        ["Experiment", *(v for v in variants if v != baseline)]
    return "^(" + "|".join(re.escape(c) for c in columns) + ")$"


def command(params_path: str, words: bool, extra: list[str]) -> list[str]:
    p = load_params(params_path)
    return ["dvc", "exp", "show", "--no-pager", "--drop", ".*", "--keep", keep_pattern(list(p.variants), p.stats.baseline, words), *extra]


def run(args) -> int:
    question = load_params(args.params).stats.question
    print(f"question: {question} ({QUESTIONS[question]})", flush=True)
    return subprocess.run(command(args.params, args.words, args.dvc_args)).returncode   # dvc's own code
