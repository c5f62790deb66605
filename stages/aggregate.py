"""Compare every variant with the baseline: summary metrics, Markdown table, plots, MLflow run."""
import argparse
import sys

from headbench.cli import main
from headbench.config import load_params
from headbench.report.aggregate import aggregate
from headbench.report.summary import aa_warnings, variant_figures
from headbench.tracking.report_log import log_report
from headbench.tracking.store import tracking_enabled


def run():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    for name in ("evaluation", "summary", "report", "detail", "plots"):
        ap.add_argument(f"--{name}", help=f"default: paths.{name}")
    args = ap.parse_args()
    params = load_params(args.params)
    path = lambda name: getattr(args, name) or getattr(params.paths, name)  # noqa: E731
    table, md, summary = aggregate(params, path("evaluation"), path("summary"), path("report"), path("detail"), path("plots"))
    if tracking_enabled(params.tracking.enabled):
        log_report(params.tracking.experiment, summary, [path("summary"), path("report"), path("detail")], path("plots"), params,
                   variant_figures(table))
    print(md)
    for warning in aa_warnings(table):
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    main(run)
