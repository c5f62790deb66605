"""Tokenise a dataset once per (tokenizer, max length) and reuse it in every variant and fold."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from headbench.io import atomic_path


def tokenizer_fingerprint(tokenizer) -> str:
    vocab = json.dumps(sorted(tokenizer.get_vocab().items()), ensure_ascii=False)
    meta = f"{type(tokenizer).__name__}|{tokenizer.padding_side}|{tokenizer.truncation_side}|{vocab}"
    return hashlib.sha256(meta.encode()).hexdigest()[:16]


def cache_key(tokenizer, max_length: int, texts: list[str]) -> str:
    h = hashlib.sha256()
    h.update(f"{tokenizer_fingerprint(tokenizer)}|{max_length}|{len(texts)}".encode())
    for t in texts:
        h.update(t.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def tokenize(texts: list[str], tokenizer, max_length: int, cache_dir: str | Path | None = None) -> tuple[list[np.ndarray], bool]:
    """Token ids (no padding) per text, and whether they came from the cache."""
    path = Path(cache_dir) / f"{cache_key(tokenizer, max_length, texts)}.npz" if cache_dir else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as z:
            flat, offsets = z["ids"], z["offsets"]
        return [flat[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)], True
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)["input_ids"]
    ids = [np.asarray(e, dtype=np.int64) for e in enc]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        offsets = np.concatenate([[0], np.cumsum([len(e) for e in ids])])
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, ids=np.concatenate(ids), offsets=offsets)
    return ids, False
