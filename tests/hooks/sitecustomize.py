"""Pause points for tests that interrupt a stage process at an exact moment instead of racing it. Tests put this
folder on PYTHONPATH (conftest.pause_at); nothing in the library knows of it.

With HEADBENCH_PAUSE_AT=<point>, the process stops at that point, writes HEADBENCH_PAUSE_FILE (holding its process
id) and waits to be signalled; with HEADBENCH_RESUME_FILE as well, it goes on once that file exists (a barrier).
Points, through the training run's callbacks: "start <variant>-<fold>-<seed>", "step<N>" (after optimiser step N),
"publish" (outputs written to a temporary folder, not yet moved into place). In the MLflow side process:
"parent <variant>" (no parent run found, about to create one)."""
import importlib.abc
import importlib.machinery
import os
import sys
import time
from pathlib import Path

POINT = os.environ.get("HEADBENCH_PAUSE_AT")


def pause(name: str) -> None:
    if name != POINT:
        return
    at = Path(os.environ["HEADBENCH_PAUSE_FILE"])
    tmp = at.with_name(f".{at.name}.{os.getpid()}")
    tmp.write_text(str(os.getpid()))
    os.replace(tmp, at)  # whoever sees the file can read the whole pid
    resume = os.environ.get("HEADBENCH_RESUME_FILE")
    while not (resume and Path(resume).exists()):
        time.sleep(0.05)


def patch_run(module) -> None:
    from headbench.engine.callbacks import Callback

    class Pause(Callback):
        def on_run_start(self, variant, fold, seed):
            pause(f"start {variant}-{fold}-{seed}")

        def on_step_end(self, state):
            pause(f"step{state.step}")

        def on_publish(self, staged, out):
            pause("publish")

    train_run = module.train_run

    def paused_train_run(*args, callbacks=(), **kwargs):
        return train_run(*args, callbacks=[*callbacks, Pause()], **kwargs)

    module.train_run = paused_train_run


def patch_tracking(module) -> None:
    open_run, find_parent = module._open_run, module.find_parent
    opening = {}

    def paused_open_run(mlflow, request):
        opening["variant"] = request["variant"]
        return open_run(mlflow, request)

    def paused_find_parent(*args):
        found = find_parent(*args)
        variant = opening.pop("variant", None)  # the first look of a run's set-up
        if found is None and variant is not None:
            pause(f"parent {variant}")
        return found

    module._open_run, module.find_parent = paused_open_run, paused_find_parent


PATCHES = {"headbench.engine.run": patch_run, "headbench.tracking.mlflow_run": patch_tracking}


class PatchAfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            PATCHES[name](module)

        spec.loader.exec_module = exec_and_patch
        return spec


if POINT:
    sys.meta_path.insert(0, PatchAfterImport())
