"""The adaptive study's calibration figures: false calls, power and cost of each variance model, with and without
alpha spending, on headbench.stats.calibration's simulated studies. Writes docs/results/calibration_sequential.json.

    python scripts/results/calibration.py
"""
import json
from pathlib import Path

import numpy as np

from headbench.stats.calibration import RUNLEVEL_EFFECTS, default_plan, no_spending, rates, simulate

N, MARGIN = 4000, 0.02
out = {"studies_per_cell": N, "margin": MARGIN, "variants": 10, "alpha": 0.05, "models": {}}
effects = list(RUNLEVEL_EFFECTS.values())
for variance in ("moderated", "fold_means", "runs"):
    rng = np.random.default_rng(0)
    plan = default_plan(10, MARGIN, variance=variance)
    row = {}
    for share in (0.5, 0.8):
        aa = simulate(rng, N, np.zeros(10), share=share)
        row[f"aa_false_difference_share{share}"] = rates(plan, aa)["any_excludes_zero"]
        row[f"aa_false_difference_no_spending_share{share}"] = rates(no_spending(plan), aa)["any_excludes_zero"]
        row[f"equivalent_at_margin_share{share}"] = rates(plan, simulate(rng, N, np.full(10, MARGIN), share=share))["any_equivalent"]
        for k in (1, 2):
            d = simulate(rng, N, np.full(10, -k * MARGIN), share=share)
            row[f"power_{k}x_margin_share{share}"] = rates(plan, d)["better"]
        c = rates(default_plan(len(effects), MARGIN, variance=variance), simulate(rng, N, effects, share=share))
        row[f"runlevel_mix_runs_over_fixed_share{share}"] = c["runs_over_fixed"]
    fixed = default_plan(10, MARGIN, seeds_per_look=(3,), variance=variance)
    row["fixed_5x3_aa_false_difference_share0.8"] = rates(fixed,
                                                          simulate(rng, N, np.zeros(10), share=0.8))["any_excludes_zero"]
    out["models"][variance] = {k: round(v, 4) for k, v in row.items()}
    print(variance, out["models"][variance], flush=True)
path = Path(__file__).resolve().parents[2] / "docs" / "results" / "calibration_sequential.json"
path.write_text(json.dumps(out, indent=2) + "\n")
print(f"wrote {path}")
