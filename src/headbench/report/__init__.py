"""Reading finished runs into per-variant evaluations, and the comparison table, summary and plots."""
