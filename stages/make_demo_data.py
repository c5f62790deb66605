"""Generate the synthetic DEMO dataset (not real data) that the offline default trains on."""
import argparse

from headbench.cli import main
from headbench.config import load_params
from headbench.data.demo import make_demo
from headbench.io import write_csv


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", help="default: demo.path")
    args = ap.parse_args()
    demo = load_params(args.params).demo
    write_csv(args.out or demo.path, make_demo(demo.rows, demo.seed))


if __name__ == "__main__":
    main(run)
