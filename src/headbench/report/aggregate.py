"""The aggregate stage's work: the comparison, written as the summary metrics, the report, the detail and the plots."""
from __future__ import annotations

import pandas as pd

from headbench.config import Params
from headbench.io import write_csv, write_json, write_text
from headbench.report.comparison import compare, detail
from headbench.report.markdown import markdown
from headbench.report.plots import plots
from headbench.report.summary import summary_metrics


def aggregate(params: Params, eval_dir, summary_path, report_path, detail_path, plots_dir) -> tuple[pd.DataFrame, str, dict]:
    table, runs = compare(params, eval_dir)
    md = markdown(table, params)
    plots(table, runs, eval_dir, plots_dir, params.stats.confidence, params.stats.margin, params.metric)
    write_text(report_path, "# headbench comparison\n\n" + md)
    write_csv(detail_path, detail(table))
    summary = summary_metrics(table)
    write_json(summary_path, summary)
    return table, md, summary
