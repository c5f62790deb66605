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
from headbench.stats.scoring import rmse
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
    """Rebuild encoder + head from the run's model.json and its safetensors; no training data needed."""
    from transformers import AutoModel

    meta = json.loads((run / "model.json").read_text())
    mp, v = meta["model"], meta["variant"]
    config = load_config(mp["name"], mp["trust_remote_code"])
    encoder = AutoModel.from_config(config, trust_remote_code=mp["trust_remote_code"])
    model = build_regressor(encoder, v["head"], v["head_options"])
    state = load_file(run / "model.safetensors")
    model.load_state_dict({k.removeprefix("model."): t for k, t in state.items()})
    return model.eval(), mp, meta["max_length"]


def predict_csv(csv: str | Path, data: DataParams, runs: str | Path, variants: list[str], batch_size: int = 64) -> tuple[pd.DataFrame, float | None]:
    df = load_dataset(data, require_target=False, path=csv)
    device = pick_device()
    preds, tokenized = [], {}
    for run in checkpoint_dirs(runs, variants):
        model, mp, max_length = load_run_model(run)
        key = (mp["name"], max_length)
        if key not in tokenized:
            tok = load_tokenizer(mp["name"], mp["trust_remote_code"])
            tokenized[key] = (tok, tokenize(df["text"].tolist(), tok, max_length)[0])
        tok, ids = tokenized[key]
        model.to(device)
        preds.append(predict_ids(model, tok, ids, batch_size, device, precision_for(device, "auto")))
    out = pd.DataFrame({"id": df["id"], "prediction": np.mean(preds, axis=0)})
    score = rmse(out["prediction"], df["target"]) if "target" in df.columns else None
    return out, score
