"""Compare every variant with the baseline: summary metrics, Markdown table, plots, MLflow run."""
import argparse
import sys

from headbench.cli import main
from headbench.config import load_params
from headbench.report import aa_warnings, aggregate
from headbench.tracking import log_report, tracking_enabled


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--eval-dir", default="evaluation")
    ap.add_argument("--summary", default="metrics/summary.json")
    ap.add_argument("--report", default="reports/comparison.md")
    ap.add_argument("--detail", default="reports/comparison.csv")
    ap.add_argument("--plots", default="reports/plots")
    args = ap.parse_args()
    params = load_params(args.params)
    table, md, summary = aggregate(params, args.eval_dir, args.summary, args.report, args.detail, args.plots)
    if tracking_enabled(params.tracking.enabled):
        log_report(params.tracking.experiment, summary, [args.summary, args.report, args.detail], args.plots)
    print(md)
    for warning in aa_warnings(table):
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    main(run)
