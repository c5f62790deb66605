"""Train one (variant, split, fold, seed) and write its out-of-fold predictions, metrics and checkpoint."""
import time

STARTED = time.perf_counter()  # before the heavy imports, so start-up is counted

import argparse  # noqa: E402
import json  # noqa: E402

from headbench.cli import main  # noqa: E402
from headbench.model.heads import load_checked_params  # noqa: E402
from headbench.io import folds_file, run_dir  # noqa: E402
from headbench.engine.run import train_run  # noqa: E402


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--variant", required=True)
    ap.add_argument("--fold", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--split", type=int, help="split seed of the partition (default: cv.seed, round 1's)")
    ap.add_argument("--folds", help="default: paths.folds/split<seed>.csv")
    ap.add_argument("--runs", help="default: paths.runs")
    args = ap.parse_args()
    params = load_checked_params(args.params)
    split = params.cv.seed if args.split is None else args.split
    out = run_dir(args.runs or params.paths.runs, args.variant, split, args.fold, args.seed)
    metrics = train_run(params, args.variant, args.fold, args.seed, args.folds or folds_file(params.paths.folds, split), out,
                        started=STARTED, split=split)
    print(json.dumps({"run": str(out), **metrics}, indent=1))


if __name__ == "__main__":
    main(run)
