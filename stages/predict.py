"""`headbench predict` (src/headbench/commands/predict.py), kept at this path for existing scripts and notes."""
import sys

from headbench.commands import main

if __name__ == "__main__":
    main(["predict", *sys.argv[1:]])
