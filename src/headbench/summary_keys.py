"""The study-wide keys of metrics/summary.json (headbench.report.summary writes them). A variant may not take one
of these names, since each variant has a column of its own there; headbench.config checks that."""

SUMMARY_KEYS = ("question", "better", "worse", "equivalent", "aa_verdict", "runs")
FIGURE_KEYS = ("rmse", "delta", "pm")
