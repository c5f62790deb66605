"""Shared command-line plumbing for the stage scripts: clear errors, non-zero exits, signals."""
from __future__ import annotations

import atexit
import os
import signal
import sys

from headbench.errors import CommandFailed, UserError


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"received signal {signal.Signals(signum).name}")


def _exit(code: int) -> None:
    """Leave without the interpreter's module teardown, which for torch and transformers costs ~1.7 s per stage
    process (36 train stages in the default run). It skips no write: atexit handlers run and the standard streams
    are flushed here, and every output file was closed by headbench.io's atomic writers before this point."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(fn) -> None:
    """Run ``fn()``, the one place errors become exit codes: a user error prints one line and exits 2, a failed tool
    (`CommandFailed`) its own code, SIGINT/SIGTERM 130 after cleanup; otherwise ``fn``'s returned code, or 0."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        code = fn()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _exit(2)
    except CommandFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        _exit(exc.code or 1)
    except KeyboardInterrupt as exc:
        print(f"interrupted ({exc or 'SIGINT'}): no partial outputs were written", file=sys.stderr)
        _exit(130)
    _exit(code or 0)
