"""Assign every row of the input to a cross-validation fold, in the partition of one split seed."""
import argparse

from headbench.cli import main
from headbench.config import load_params
from headbench.data.folds import split
from headbench.io import folds_file


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--split", type=int, help="split seed (default: cv.seed, round 1's partition)")
    ap.add_argument("--out", help="default: paths.folds/split<seed>.csv")
    args = ap.parse_args()
    params = load_params(args.params)
    seed = params.cv.seed if args.split is None else args.split
    out = args.out or folds_file(params.paths.folds, seed)
    folds = split(params, out, seed)
    print(f"wrote {out}: {len(folds)} rows, fold sizes {folds['fold'].value_counts().sort_index().tolist()}")


if __name__ == "__main__":
    main(run)
