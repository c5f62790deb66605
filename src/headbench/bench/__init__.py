"""Speed measurements: the three-arm engine benchmark and the one-command GPU check."""
