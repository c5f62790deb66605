import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from headbench.model.encoder import load_tokenizer

ROOT = Path(__file__).resolve().parents[1]
COMMONLIT = ROOT.parent / "shared" / "data" / "commonlit" / "train.csv"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"

BIN = Path(sys.executable).parent


def env(**extra) -> dict:
    """The environment a project command runs in: this venv's executables first, unbuffered output, and ``extra``."""
    return {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONUNBUFFERED": "1", **extra}


def pause_at(point: str, pause_file, resume_file=None) -> dict:
    """Environment variables that hold a stage process at ``point`` (see hooks/sitecustomize.py)."""
    hooks = str(Path(__file__).parent / "hooks")
    extra = {"PYTHONPATH": os.pathsep.join(p for p in (hooks, os.environ.get("PYTHONPATH")) if p),
             "HEADBENCH_PAUSE_AT": point, "HEADBENCH_PAUSE_FILE": str(pause_file)}
    return {**extra, "HEADBENCH_RESUME_FILE": str(resume_file)} if resume_file else extra


def sh(cmd: str, cwd, timeout: float = 900, **extra_env) -> str:
    """Run a shell command that must succeed; its stdout."""
    res = subprocess.run(cmd, cwd=cwd, shell=True, capture_output=True, text=True, env=env(**extra_env), timeout=timeout)
    assert res.returncode == 0, f"{cmd} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(1)  # tiny models gain nothing from more; keeps tests light

# Variables through which a test, or a command it starts, could reach the user's own servers, experiments or runs.
LEAKY_ENV = ("MLFLOW_TRACKING_URI", "DVC_ROOT", "DVC_EXP_NAME", "DVC_EXP_BASELINE_REV", "DVC_STAGE",
             "HEADBENCH_TRACKING", "HEADBENCH_PAUSE_AT", "HEADBENCH_PAUSE_FILE", "HEADBENCH_RESUME_FILE")


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory):
    """Nothing a test runs reaches outside its temporary folders: no MLflow server or DVC experiment of the
    user's, and DVC's site cache (else /var/tmp/dvc) in a temporary folder. Commands inherit this environment."""
    with pytest.MonkeyPatch.context() as mp:
        for var in LEAKY_ENV:
            mp.delenv(var, raising=False)
        mp.setenv("DVC_SITE_CACHE_DIR", str(tmp_path_factory.mktemp("dvc-site-cache")))
        yield


@pytest.fixture(scope="session")
def mlflow_on_postgres(tmp_path_factory):
    """One MLflow tracking server on a real PostgreSQL cluster for the session (tests use their own experiments)."""
    from servers import mlflow_server, postgres, postgres_bin

    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing: .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    with postgres() as db, mlflow_server(db, tmp_path_factory.mktemp("mlartifacts")) as uri:
        yield uri


def _tiny(kind: str, path: Path) -> str:
    from transformers import (BertConfig, BertModel, DebertaV2Config, DebertaV2Model, DistilBertConfig,
                              DistilBertModel, ElectraConfig, ElectraModel, RobertaConfig, RobertaModel)

    common = dict(vocab_size=30522, hidden_size=32, num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    if kind == "bert":
        model = BertModel(BertConfig(num_hidden_layers=4, **common))
    elif kind == "roberta":
        model = RobertaModel(RobertaConfig(num_hidden_layers=4, pad_token_id=0, **{**common, "max_position_embeddings": 130}))
    elif kind == "electra":
        # embedding_size != hidden_size: a real ELECTRA's embeddings_project sits between embeddings and layer 0
        model = ElectraModel(ElectraConfig(num_hidden_layers=4, embedding_size=16, **common))
    elif kind == "deberta-v2":
        # relative attention as in deberta-v3: encoder.rel_embeddings + its LayerNorm, outside embeddings and layers
        model = DebertaV2Model(DebertaV2Config(num_hidden_layers=4, pad_token_id=0, relative_attention=True,
                                               position_buckets=16, norm_rel_ebd="layer_norm", **common))
    elif kind == "distilbert":
        model = DistilBertModel(DistilBertConfig(vocab_size=30522, dim=32, n_layers=4, n_heads=2, hidden_dim=64, max_position_embeddings=128))
    else:
        raise ValueError(kind)
    model.save_pretrained(path)
    load_tokenizer(MINILM).save_pretrained(path)  # a real WordPiece vocabulary, shipped offline
    return str(path)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """kind -> local folder of a tiny randomly initialised encoder (seconds, no download)."""
    base = tmp_path_factory.mktemp("tiny")
    cache = {}

    def get(kind: str = "bert") -> str:
        if kind not in cache:
            torch.manual_seed(0)
            cache[kind] = _tiny(kind, base / kind)
        return cache[kind]

    return get


def sentences(rows: int, seed: int):
    """Test data a tiny random encoder learns from in a few steps: one sentence each, the target a fixed function of
    its length in words and its share of rare words (the demo's word lists) plus noise."""
    import numpy as np
    import pandas as pd
    from headbench.data.demo import CLAUSES, EASY, HARD

    hard_words = {w for ws in HARD.values() for w in ws}
    rng = np.random.default_rng(seed)
    records, seen = [], set()
    while len(records) < rows:
        difficulty = rng.random()
        rare = 0.05 + 0.6 * difficulty
        pick = lambda kind: rng.choice(HARD[kind] if rng.random() < rare else EASY[kind])  # noqa: E731
        phrase = lambda: f"the {pick('adj')} {pick('noun')} {pick('verb')} the {pick('adj')} {pick('noun')}"  # noqa: E731
        clauses = min(int(rng.poisson(1.5 * difficulty)), 2)
        parts = [phrase()]
        for _ in range(clauses):
            parts.append(f"{rng.choice(CLAUSES)} {phrase()}")
        text = ", ".join(parts)
        text = text[0].upper() + text[1:] + "."
        if text in seen:
            continue
        seen.add(text)
        words = text.split()
        rare_frac = np.mean([w.strip(".,").lower() in hard_words for w in words])
        target = 1.2 - 5.0 * rare_frac - 0.06 * len(words) + rng.normal(0, 0.15)
        records.append({"id": f"demo{len(records):04d}", "excerpt": text, "target": round(float(target), 5)})
    return pd.DataFrame(records)


@pytest.fixture
def demo_csv(tmp_path):
    path = tmp_path / "demo.csv"
    sentences(60, seed=1).to_csv(path, index=False)
    return path


def tiny_params(model_dir: str, data_path: str, **train_overrides) -> dict:
    """A complete params dict (from the repo's params.yaml) shrunk for tests."""
    from headbench.config import read_yaml

    raw = read_yaml(ROOT / "params.yaml")
    raw["data"]["path"] = str(data_path)
    raw["model"]["name"] = model_dir
    raw["cv"].update(n_folds=3, folds=[0, 1, 2], n_bins=3)
    raw["train"].update({"max_length": 64, "batch_size": 8, "eval_batch_size": 16, "epochs": 1, "eval_every": 3,
                         "save_checkpoint": True, "num_threads": 1, **train_overrides})
    raw["tracking"]["enabled"] = False
    return raw


def copy_repo(dest: Path) -> Path:
    """The git-tracked project files (their working-tree contents), as a fresh clone would have them: a user's own
    runs, dvc.lock or MLflow store never leak into a test."""
    import subprocess

    files = subprocess.run(["git", "ls-files", "-c"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    return dest
