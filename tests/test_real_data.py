"""The packaged MiniLM on the real CommonLit file (runs where ../shared/data/commonlit/train.csv exists)."""
import os

import numpy as np
import pytest

from conftest import COMMONLIT, MINILM

pytestmark = pytest.mark.slow  # runs stage processes or the pipeline (README: the fast tier skips it)


def test_packaged_minilm_loads_offline_and_embeds():
    import torch

    from headbench.model.encoder import load_encoder, load_tokenizer, resolve_model_path

    path = resolve_model_path(MINILM)
    assert path != MINILM and path.endswith("model")  # the package's folder, found without a hard-coded path
    tok, enc = load_tokenizer(MINILM), load_encoder(MINILM).eval()
    batch = tok(["A short sentence.", "Another one, a little longer."], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = enc(**batch).last_hidden_state
    assert out.shape[-1] == 384 and torch.isfinite(out).all()


@pytest.mark.realdata
def test_minilm_on_one_commonlit_fold_learns_the_task(tmp_path):
    """80 steps at 128 tokens (a schedule that ends there) reach about 0.64 on fold 0: the run-level study's one-epoch
    runs were at 0.64 after 60-80 steps and 0.615 after 142. A broken head, optimiser or schedule stays near the mean
    predictor's ~1.03. Missing data fails under CI, skips elsewhere."""
    if not COMMONLIT.is_file():
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{COMMONLIT} not present")
    from headbench.config import CVParams, parse
    from headbench.data.table import load_dataset
    from headbench.data.folds import make_folds
    from headbench.model.encoder import build_regressor, load_encoder, load_tokenizer
    from headbench.data.tokens import tokenize
    from headbench.stats.scoring import rmse
    from headbench.engine.loop import seed_everything, train
    from conftest import tiny_params

    raw = tiny_params(MINILM, COMMONLIT, max_length=128, batch_size=16, max_steps=80, eval_every=80,
                      epochs=1, lr=5e-5, num_threads=None)
    p = parse(raw)
    df = load_dataset(p.data)
    assert len(df) == 2834
    folds = make_folds(df, CVParams(n_folds=5, folds=(0,), n_bins=10, seed=42))
    valid = (folds["fold"] == 0).to_numpy()
    tok = load_tokenizer(MINILM)
    ids, _ = tokenize(df["text"].tolist(), tok, 128)
    y = df["target"].to_numpy(np.float32)
    seed_everything(42)
    model = build_regressor(load_encoder(MINILM), "cls")
    res = train(model, tok, [i for i, v in zip(ids, valid) if not v], y[~valid], [i for i, v in zip(ids, valid) if v], y[valid],
                p.train, 42, label="MiniLM CommonLit fold 0")
    mean_rmse = rmse(np.full(valid.sum(), y[~valid].mean()), y[valid])
    print(f"MiniLM fold 0, 80 steps at 128 tokens: valid RMSE {res.valid_score:.4f} vs training mean {mean_rmse:.4f}")
    assert res.steps == 80
    assert mean_rmse > 0.95 and res.valid_score < 0.70
