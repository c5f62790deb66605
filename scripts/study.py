"""`headbench study` (src/headbench/commands/study.py), kept at this path for existing scripts and notes."""
import sys

from headbench.commands import main

if __name__ == "__main__":
    main(["study", *sys.argv[1:]])
