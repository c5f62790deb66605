"""Score a new CSV with the saved checkpoints of one or more variants (fold/seed models averaged)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from safetensors.torch import load_file

from headbench.config import DataParams
from headbench.data.table import load_dataset
from headbench.engine.device import pick_device, precision_for
from headbench.errors import StudyError
from headbench.model.encoder import build_regressor, load_config, load_tokenizer
from headbench.engine.objective import Objective
from headbench.stats.scoring import oof_score
from headbench.data.tokens import tokenize
from headbench.engine.inference import predict as predict_ids


def checkpoint_dirs(runs: str | Path, variants: list[str]) -> list[Path]:
    dirs = []
    for v in variants:
        found = sorted(p.parent for p in (Path(runs) / v).glob("*/model.safetensors"))
        if not found:
            raise StudyError(f"{Path(runs) / v}: no checkpoints for variant {v!r} (train it with train.save_checkpoint: true)")
        dirs += found
    return dirs


def load_run_model(run: Path):
    """Rebuild encoder + head from the run's model.json and its safetensors; no training data needed. Returns the model,
    its model params, max_length and objective with the output names (targets or classes; one target when the run
    predates tasks)."""
    from transformers import AutoModel

    meta = json.loads((run / "model.json").read_text())
    mp, v = meta["model"], meta["variant"]
    config = load_config(mp["name"], mp["trust_remote_code"])
    encoder = AutoModel.from_config(config, trust_remote_code=mp["trust_remote_code"])
    names = meta.get("outputs", ["target"])
    model = build_regressor(encoder, v["head"], v["head_options"], len(names))
    state = load_file(run / "model.safetensors")
    model.load_state_dict({k.removeprefix("model."): t for k, t in state.items()})
    return model.eval(), mp, meta["max_length"], Objective(meta.get("task", "regression"), len(names)), names


def prediction_frame(ids: pd.Series, pred: np.ndarray, objective: Objective, names: list[str]) -> pd.DataFrame:
    """One column per target (``prediction`` for one), or a ``proba.<class>`` per class and the predicted class."""
    return pd.DataFrame({"id": ids, **objective.columns(pred, names)})


def predict_csv(csv: str | Path, data: DataParams, runs: str | Path, variants: list[str], batch_size: int = 64,
                task: str = "regression") -> tuple[pd.DataFrame, float | None]:
    """The fold models' mean prediction (class probabilities averaged) for every row of ``csv``, and the primary metric
    against the file's targets when it has them."""
    df = load_dataset(data, require_target=False, path=csv, task=task)
    device = pick_device()
    preds, tokenized, outputs = [], {}, set()
    for run in checkpoint_dirs(runs, variants):
        model, mp, max_length, objective, names = load_run_model(run)
        outputs.add((objective, tuple(names)))
        if len(outputs) > 1:
            raise StudyError(f"{run}: its model predicts {names} ({objective.task}), unlike the other checkpoints; "
                             "score variants of one task together")
        key = (mp["name"], max_length)
        if key not in tokenized:
            tok = load_tokenizer(mp["name"], mp["trust_remote_code"])
            tokenized[key] = (tok, tokenize(df["text"].tolist(), tok, max_length)[0])
        tok, ids = tokenized[key]
        model.to(device)
        preds.append(objective.predictions(predict_ids(model, tok, ids, batch_size, device, precision_for(device, "auto"))))
    out = prediction_frame(df["id"], np.mean(preds, axis=0), objective, list(names))
    has_targets = [c for c in df.columns if c == "target" or c.startswith("target.")]
    score = oof_score(pd.concat([df[has_targets], out.drop(columns="id")], axis=1)) if has_targets else None
    return out, score
