"""study6's frozen design, derived from the recipe trial: the recipe, the rounds chosen on the harness, the params.

    python scripts/results/study6_design.py      # writes docs/results/study6/params.yaml, plan.json, design.json

- **Recipe**: the arm the recipe trial's frozen rule chose (docs/results/recipe_trial/trial.json).
- **Noise**: that arm's A/A paired SD (10 pairs); the harness plan runs at margin / that SD.
- **Budget**: 14 CPU-hours at that arm's median time per run (one one-thread worker per core), in runs.
- **Rounds**: the harness plan (scripts/results/harness.py --plan) with the most correct verdicts expected whose
  expected runs fit the budget; round r > 1 is a fresh 5-fold partition of the split seeds below.
- **Params**: params.yaml's eleven variants (study5's), CommonLit, 128 tokens, one epoch, one thread per run.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRIAL = ROOT / "docs" / "results" / "recipe_trial" / "trial.json"
OUT = ROOT / "docs" / "results" / "study6"
BUDGET_CPU_HOURS = 14
MARGIN = 0.01
SPLIT_SEEDS = (6001, 6002, 6003, 6004, 6005)   # round 1's, then the later rounds'; study5 used 42, the trial 7001/7002


def main() -> None:
    trial = json.loads(TRIAL.read_text())
    if trial["decision"].startswith("not yet"):
        sys.exit(f"{TRIAL}: the recipe trial is not finished ({trial['decision']})")
    arm = "ema" if trial["decision"].startswith("adopt ema") else "plain"
    chosen = trial["arms"][arm]
    ratio = round(MARGIN / chosen["aa_paired_sd"], 3)
    budget_runs = int(BUDGET_CPU_HOURS * 3600 // chosen["median_run_s"])
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(ROOT / "scripts/results/harness.py"), "--plan", str(ratio), "--budget-runs",
                    str(budget_runs), "--plan-out", str(OUT / "plan.json")], check=True)
    plan = json.loads((OUT / "plan.json").read_text())
    rounds = plan["chosen_rounds"]
    if rounds is None:
        sys.exit(f"no plan of 1..5 rounds fits {budget_runs} runs")
    ema = ["--ema", str(chosen["ema"])] if arm == "ema" else []
    subprocess.run([sys.executable, str(ROOT / "scripts/make_real_params.py"), str(OUT / "params.yaml"), "--epochs", "1",
                    "--max-length", "128", "--eval-every", "71", "--num-threads", "1", "--margin", str(MARGIN),
                    "--folds", "0", "1", "2", "3", "4",
                    "--cv-seed", str(SPLIT_SEEDS[0]), "--split-seeds", *map(str, SPLIT_SEEDS[1:rounds]), *ema],
                   check=True, cwd=ROOT)
    design = {"recipe_arm": arm, "trial_decision": trial["decision"], "aa_paired_sd": chosen["aa_paired_sd"],
              "median_run_s": chosen["median_run_s"], "margin": MARGIN, "margin_over_aa_sd": ratio,
              "budget_cpu_hours": BUDGET_CPU_HOURS, "budget_runs": budget_runs, "rounds": rounds,
              "split_seeds": list(SPLIT_SEEDS[:rounds]), "plan": plan["rounds"][str(rounds)]}
    (OUT / "design.json").write_text(json.dumps(design, indent=1) + "\n")
    print(json.dumps({k: v for k, v in design.items() if k != "plan"}, indent=1))


if __name__ == "__main__":
    main()
