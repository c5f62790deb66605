"""Assign every row of the input to a cross-validation fold."""
import argparse

from headbench.cli import main
from headbench.config import load_params
from headbench.data.folds import split


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", help="default: paths.folds")
    args = ap.parse_args()
    params = load_params(args.params)
    out = args.out or params.paths.folds
    folds = split(params, out)
    print(f"wrote {out}: {len(folds)} rows, fold sizes {folds['fold'].value_counts().sort_index().tolist()}")


if __name__ == "__main__":
    main(run)
