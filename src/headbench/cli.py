"""Shared command-line plumbing for the stage scripts: clear errors, non-zero exits, signals."""
from __future__ import annotations

import signal
import sys

from headbench.errors import UserError


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"received signal {signal.Signals(signum).name}")


def main(fn) -> None:
    """Run ``fn()``: a user error prints one line and exits 2; SIGINT/SIGTERM exit 130 after cleanup."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        fn()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as exc:
        print(f"interrupted ({exc or 'SIGINT'}): no partial outputs were written", file=sys.stderr)
        sys.exit(130)
