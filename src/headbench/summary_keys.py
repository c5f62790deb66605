"""The study-wide keys of metrics/summary.json (headbench.report.summary writes them). A variant may not take one
of these names, since each variant has a column of its own there; headbench.config checks that."""

SUMMARY_KEYS = ("question", "better", "worse", "equivalent", "aa_verdict", "runs", "metric")
FIGURE_KEYS = ("rmse", "delta", "pm")            # per variant; "rmse" is the primary metric's name for one target
PRIMARY_KEYS = ("rmse", "mcrmse", "log_loss")    # the primary metric, named by the task
SIDE_KEYS = ("accuracy", "macro_f1")             # beside log-loss; beside MCRMSE: rmse_<target>
TARGET_PREFIX = "rmse_"


def reserved(name: str) -> bool:
    """A name that metrics/summary.json uses for a study-wide key or a figure."""
    return name in SUMMARY_KEYS + FIGURE_KEYS + PRIMARY_KEYS + SIDE_KEYS or name.startswith(TARGET_PREFIX)
