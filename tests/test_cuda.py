"""The GPU path (bf16 autocast, the fp16 loss scaler, fused AdamW, predict on CUDA, seeded reproducibility).
Skipped without CUDA; `python dev/gpucheck.py` runs it on a GPU machine, without this folder's conftest
(the GPU machine has neither DVC nor MLflow). HEADBENCH_CUDA_TEST_MODEL: a local encoder folder whose tokenizer
the tiny test model borrows (default: the packaged MiniLM)."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
pytestmark = [cuda, pytest.mark.cuda]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import BertConfig, BertModel

    from headbench.model.encoder import load_tokenizer

    path = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=30522, hidden_size=64, num_attention_heads=2, intermediate_size=128,
                         num_hidden_layers=2, max_position_embeddings=256)).save_pretrained(path)
    load_tokenizer(os.environ.get("HEADBENCH_CUDA_TEST_MODEL", "sentence-transformers/all-MiniLM-L6-v2")).save_pretrained(path)
    return str(path)


def regressor(tiny):
    from headbench.config import ModelParams, Variant
    from headbench.model.encoder import build_model

    return build_model(ModelParams(name=tiny, trust_remote_code=False), Variant(name="baseline", head="cls"))


def batch(n=8, length=32):
    g = torch.Generator().manual_seed(0)
    return torch.randint(1000, 2000, (n, length), generator=g), torch.ones(n, length, dtype=torch.long), torch.randn(n, generator=g)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_autocast_and_the_scaler_train_a_step_on_cuda(tiny, precision):
    from headbench.engine.device import autocast, grad_scaler

    dev = torch.device("cuda")
    model = regressor(tiny).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)  # the fused kernel the engine uses on CUDA
    scaler = grad_scaler(dev, precision)
    ids, mask, y = (t.to(dev) for t in batch())
    before = [p.detach().clone() for p in model.parameters()]
    with autocast(dev, precision):
        loss = torch.nn.functional.mse_loss(model(ids, mask).float(), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_predict_on_cuda_matches_the_cpu(tiny):
    from headbench.engine.inference import predict
    from headbench.model.encoder import load_tokenizer

    tok = load_tokenizer(tiny)
    ids = [tok("a passage of text number %d" % i)["input_ids"] for i in range(20)]
    model = regressor(tiny).eval()
    cpu = predict(model, tok, ids, 8, torch.device("cpu"), "fp32", None)
    gpu = predict(model.to("cuda"), tok, ids, 8, torch.device("cuda"), "fp32", None)
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)


def test_two_seeded_runs_on_cuda_agree(tiny):
    """Same seed, same data: the RMSE agrees to 1e-4 (cuBLAS reductions are not bit-exact without deterministic
    algorithms, which the engine does not force)."""
    from headbench.config import parse, read_yaml
    from headbench.model.encoder import load_tokenizer
    from headbench.engine.loop import seed_everything, train

    ids = [np.array([101, *range(1000 + i, 1010 + i), 102]) for i in range(48)]
    y = np.linspace(-1, 1, 48).astype(np.float32)
    raw = read_yaml(Path(__file__).resolve().parents[1] / "params.yaml")
    raw["model"]["name"] = tiny
    raw["train"].update(max_steps=6, eval_every=3, batch_size=8, precision="bf16", save_checkpoint=False)
    tp = parse(raw).train
    rmse = []
    for _ in range(2):
        seed_everything(3)
        res = train(regressor(tiny), load_tokenizer(tiny), ids[:40], y[:40], ids[40:], y[40:], tp, 3, label="cuda")
        rmse.append(res.final_rmse)
    assert abs(rmse[0] - rmse[1]) < 1e-4, rmse
