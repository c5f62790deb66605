"""A hook for interruption tests: with HEADBENCH_PAUSE_AT=<point>, a run stops at that point, writes the file
HEADBENCH_PAUSE_FILE (holding its process id) and waits to be signalled, so a test interrupts it exactly there instead of racing it.
Points: "start <variant>-<fold>-<seed>", "step<N>" (after optimiser step N), "publish" (outputs written to the
temporary folder, not yet renamed into place), "parent <variant>" (no parent run found, about to create one).
With HEADBENCH_RESUME_FILE as well, the run goes on once that file exists (a barrier for concurrency tests)."""
from __future__ import annotations

import os
import time
from pathlib import Path


def pause_point(name: str) -> None:
    if os.environ.get("HEADBENCH_PAUSE_AT") == name:
        at = Path(os.environ["HEADBENCH_PAUSE_FILE"])
        tmp = at.with_name(f".{at.name}.{os.getpid()}")
        tmp.write_text(str(os.getpid()))
        os.replace(tmp, at)  # whoever sees the file can read the whole pid
        resume = os.environ.get("HEADBENCH_RESUME_FILE")
        while not (resume and Path(resume).exists()):
            time.sleep(0.05)
