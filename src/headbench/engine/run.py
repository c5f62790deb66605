"""One training run (the train stage), as a function of the validated params."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from headbench.config import Params, ParamError, Variant
from headbench.data.table import class_names, load_dataset, target_columns
from headbench.errors import DataError
from headbench.data.folds import attach_folds, read_folds, run_seed
from headbench.io import write_csv, write_json
from headbench.stats.scoring import side_figures
from headbench.engine.callbacks import Callback, CallbackList, TrackMetrics

TOKEN_CACHE = Path(".cache") / "headbench" / "tokens"


class Clock:
    """Wall time of a run in named laps, from ``started`` (default: now)."""

    def __init__(self, started: float | None = None):
        self.start = self.last = started if started is not None else time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self.last
        self.last = now

    def seconds(self) -> dict:
        """``time_<lap>_s`` for each lap and ``time_wall_s`` from the start, measured independently of the laps."""
        out = {f"time_{k}_s": round(v, 3) for k, v in self.laps.items()}
        out["time_wall_s"] = round(time.perf_counter() - self.start, 3)
        return out


def check_run_args(params: Params, variant: str, fold: int, seed: int) -> Variant:
    v = params.variant(variant)
    if not 0 <= fold < params.cv.n_folds:
        raise ParamError(f"fold {fold} is out of range: valid folds are 0..{params.cv.n_folds - 1} (cv.n_folds)")
    if seed < 0:
        raise ParamError(f"seed {seed} must be >= 0")
    return v


def _publish_dir(tmp: Path, out: Path) -> None:
    """Swap a finished temp directory into place, so `out` is always complete or absent."""
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def _start_tracker(params: Params, variant_name: str, split: int, fold: int, seed: int):
    """The run's tracker. MLflow's run is set up in a side process, so it opens while this one imports torch."""
    from headbench.tracking.base import NullTracker
    from headbench.tracking.mlflow_run import MlflowTracker, variant_params
    from headbench.tracking.store import tracking_enabled

    if not tracking_enabled(params.tracking.enabled):
        return NullTracker()
    parent_params = variant_params(params, variant_name)
    return MlflowTracker(params.tracking.experiment, variant_name, fold, seed,
                         {**parent_params, "split": split, "fold": fold, "seed": seed}, parent_params)


@dataclass
class FoldData:
    ids: pd.Series         # row ids, in the data file's order
    tokens: list           # token ids per row
    y: np.ndarray          # [rows] or [rows, targets] (float32); class indices for classification
    train_idx: np.ndarray
    valid_idx: np.ndarray
    names: list            # the targets (regression) or the classes, in output order
    task: str = "regression"

    @property
    def objective(self):
        from headbench.engine.objective import Objective  # torch: imported once the tracker has started

        return Objective(self.task, len(self.names))


def _fold_data(params: Params, fold: int, folds_path: str | Path, tokenizer) -> FoldData:
    """The rows, tokenised (through the cache), split into fold ``fold`` of ``folds_path`` and the rest."""
    from headbench.data.tokens import tokenize
    from headbench.tracking.store import project_root

    task = params.task.type
    df = attach_folds(load_dataset(params.data, task=task), read_folds(folds_path, params.cv.n_folds), folds_path)
    tokens, _ = tokenize(df["text"].tolist(), tokenizer, params.train.max_length, project_root() / TOKEN_CACHE)
    is_valid = (df["fold"] == fold).to_numpy()
    if not is_valid.any():
        raise ParamError(f"{folds_path}: fold {fold} has no rows")
    if task == "classification":
        names = class_names(df["target"])
        missing = sorted(set(names) - set(df.loc[~is_valid, "target"]), key=names.index)
        if missing:
            raise DataError(f"{folds_path}: fold {fold}'s training rows have no row of class(es) {missing[:5]} "
                            f"(column {params.data.target_col!r} of {params.data.path}): a model cannot learn a class it never "
                            "sees; merge rare classes, or use fewer folds")
        y = df["target"].map({c: i for i, c in enumerate(names)}).to_numpy(np.int64)
    else:
        names = list(params.data.targets)
        y = df[target_columns(params.data)].to_numpy(np.float32)
        y = y[:, 0] if len(names) == 1 else y
    return FoldData(df["id"], tokens, y, np.flatnonzero(~is_valid), np.flatnonzero(is_valid), names, task)


def oof_frame(data: FoldData, rows: np.ndarray, predictions: np.ndarray, key: dict) -> pd.DataFrame:
    """One run's out-of-fold rows: id, split, fold, seed, the target (``target.<name>`` per target when several; the
    class label for classification), then the predictions (Objective.columns)."""
    ids = {"id": data.ids.to_numpy()[rows], **key}
    if data.task == "classification":
        targets = {"target": np.asarray(data.names, dtype=object)[data.y[rows]]}
    elif len(data.names) == 1:
        targets = {"target": data.y[rows].astype(np.float64)}
    else:
        targets = {f"target.{n}": data.y[rows][:, i].astype(np.float64) for i, n in enumerate(data.names)}
    return pd.DataFrame({**ids, **targets, **data.objective.columns(predictions, data.names)})


def _write_outputs(tmp: Path, params: Params, variant: Variant, data: FoldData, result, key: dict) -> pd.DataFrame:
    """oof.csv, history.csv, model.json and (with train.save_checkpoint) model.safetensors; ``key`` holds the run's
    split, fold and nominal seed. Returns the out-of-fold rows."""
    from headbench.engine.inference import save_checkpoint

    tp, mp, valid = params.train, params.model, data.valid_idx
    oof = oof_frame(data, valid, result.predictions, key)
    write_csv(tmp / "oof.csv", oof)
    write_csv(tmp / "history.csv", pd.DataFrame(result.history))
    write_json(tmp / "model.json", {"model": asdict(mp), "variant": asdict(variant), "max_length": tp.max_length, **key,
                                    "task": data.task, "outputs": list(map(str, data.names)),
                                    "checkpoint": "model.safetensors" if tp.save_checkpoint else None})
    if tp.save_checkpoint:
        state = {f"model.{k}": v for k, v in result.state.items()}
        save_checkpoint(state, tmp / "model.safetensors",
                        metadata={"variant": variant.name, **{k: str(v) for k, v in key.items()}})
    return oof


def train_run(params: Params, variant_name: str, fold: int, seed: int, folds_path: str | Path, out: str | Path,
              started: float | None = None, callbacks: list[Callback] = (), split: int | None = None) -> dict:
    """Train one (variant, fold, seed) on the partition of split seed ``split`` (default: round 1's, cv.seed), whose
    fold file is ``folds_path``, and write oof.csv, metrics.json, history.csv, model.* into ``out``.

    ``started`` (a time.perf_counter() from the top of the stage script) makes the time breakdown in
    metrics.json start at the process, so it includes the imports."""
    clock = Clock(started)
    events = CallbackList(callbacks)
    events.on_run_start(variant_name, fold, seed)
    variant = check_run_args(params, variant_name, fold, seed)
    split = params.cv.seed if split is None else split
    tracker = _start_tracker(params, variant_name, split, fold, seed)
    # torch is imported from here on, while the tracker's side process opens MLflow
    from headbench.model.encoder import build_model, check_max_length, load_config, load_tokenizer
    from headbench.engine.loop import seed_everything, train
    from headbench.tracking.store import project_root

    clock.lap("startup")
    tp, mp = params.train, params.model
    check_max_length(tp.max_length, load_config(mp.name, mp.trust_remote_code))  # fails here, offline, if unloadable
    tokenizer = load_tokenizer(mp.name, mp.trust_remote_code)
    data = _fold_data(params, fold, folds_path, tokenizer)
    clock.lap("data")
    nominal, seed = seed, run_seed(seed, split, fold, variant.seed_offset)  # the streams' seed; outputs keep the nominal one
    seed_everything(seed)
    model = build_model(mp, variant, len(data.names))
    clock.lap("model")
    tr, va = data.train_idx, data.valid_idx
    with tracker:
        clock.lap("tracking")  # waiting for the MLflow run (set up in a side process)
        result = train(model, tokenizer, [data.tokens[i] for i in tr], data.y[tr], [data.tokens[i] for i in va],
                       data.y[va], tp, seed, llrd=variant.llrd, label=f"{variant_name} split {split} fold {fold} seed {nominal}",
                       resume_dir=project_root() / ".resume" / variant_name / Path(out).name,
                       callbacks=[*callbacks, TrackMetrics(tracker)], objective=data.objective)
        clock.lap("loop")
        clock.laps["train"], clock.laps["eval"] = result.train_seconds, result.eval_seconds
        clock.laps["loop"] -= result.train_seconds + result.eval_seconds  # what the loop spent on neither
        metric = data.objective.metric
        metrics = {
            f"valid_{metric}": result.valid_score, "checkpoint": tp.checkpoint, f"final_valid_{metric}": result.final_score,
            f"best_valid_{metric}": result.best_score, "best_step": result.best_step, "steps": result.steps, "run_seed": seed,
            "train_seconds": result.train_seconds, "samples_per_s": result.samples_per_s,
            "train_rows": int(len(tr)), "valid_rows": int(len(va)), **result.memory,
        }
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            oof = _write_outputs(tmp, params, variant, data, result, {"split": split, "fold": fold, "seed": nominal})
            metrics.update({f"valid_{k}": v for k, v in side_figures(oof).items()})  # per target, or accuracy and F1
            clock.lap("write")
            metrics.update(clock.seconds())
            write_json(tmp / "metrics.json", metrics)
            events.on_publish(tmp, out)
            _publish_dir(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        tracker.log_metrics({k: v for k, v in metrics.items() if not isinstance(v, str)})
    return metrics
