"""`headbench benchmark` (src/headbench/commands/benchmark.py), kept at this path for existing scripts and notes."""
import sys

from headbench.commands import main

if __name__ == "__main__":
    main(["benchmark", *sys.argv[1:]])
