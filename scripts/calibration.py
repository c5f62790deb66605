"""How well the verdict is calibrated on simulated studies (headbench.calibration); writes the figures as JSON.

    python scripts/calibration.py --out docs/results/calibration.json
"""
import argparse
import json

from headbench.calibration import report

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--out")
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()
res = report(args.seed)
text = json.dumps(res, indent=2)
print(text)
if args.out:
    with open(args.out, "w") as f:
        f.write(text + "\n")
