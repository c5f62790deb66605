"""Generate the synthetic DEMO dataset (not real data) that the offline default trains on."""
import argparse

from headbench.cli import main
from headbench.config import read_yaml
from headbench.demo import make_demo
from headbench.io import write_csv


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", default="data/demo/train.csv")
    args = ap.parse_args()
    demo = read_yaml(args.params)["demo"]
    write_csv(args.out, make_demo(int(demo["rows"]), int(demo["seed"])))


if __name__ == "__main__":
    main(run)
