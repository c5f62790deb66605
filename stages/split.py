"""Assign every row of the input to a cross-validation fold."""
import argparse

from headbench.cli import main
from headbench.config import load_params
from headbench.folds import split


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", default="data/folds.csv")
    args = ap.parse_args()
    folds = split(load_params(args.params), args.out)
    print(f"wrote {args.out}: {len(folds)} rows, fold sizes {folds['fold'].value_counts().sort_index().tolist()}")


if __name__ == "__main__":
    main(run)
