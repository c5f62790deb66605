"""Join one variant's folds and seeds: predictions, learning curves, OOF RMSE per seed and per fold."""
import argparse
import json

from headbench.cli import main
from headbench.config import load_params
from headbench.report.evaluate import evaluate_variant


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--variant", required=True)
    ap.add_argument("--runs", help="default: paths.runs")
    ap.add_argument("--out", help="default: paths.evaluation/<variant>")
    args = ap.parse_args()
    params = load_params(args.params)
    out = args.out or f"{params.paths.evaluation}/{args.variant}"
    summary = evaluate_variant(params, args.variant, args.runs or params.paths.runs, out)
    print(json.dumps({"variant": args.variant, "oof_rmse": summary["oof_rmse"], "fold_rmse": summary["fold_rmse"]}))


if __name__ == "__main__":
    main(run)
