"""CUDA paths; skipped cleanly on machines without an NVIDIA GPU (run them with `pytest -m cuda`)."""

from pathlib import Path

import pytest
import torch

from namecls.model import ARCHS, ModelConfig, build_model
from namecls.predict import Classifier
from namecls.train import TrainConfig, fit

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


@pytest.mark.parametrize("arch", ARCHS)
def test_cuda_logits_match_cpu(arch):
    torch.manual_seed(0)
    m = build_model(ModelConfig(vocab_size=12, n_classes=4, arch=arch, embed_dim=8, hidden=16)).eval()
    x = torch.randint(2, 12, (5, 7))
    lengths = torch.tensor([7, 3, 5, 1, 6])
    x[torch.arange(7)[None, :] >= lengths[:, None]] = 0
    cpu = m(x, lengths)
    gpu = m.cuda()(x.cuda(), lengths.cuda()).cpu()
    torch.testing.assert_close(gpu, cpu, atol=1e-4, rtol=1e-4)


def test_train_and_predict_on_cuda(tiny_session_dir: Path, tmp_path: Path):
    out = tmp_path / "cuda.pt"
    result = fit(
        tiny_session_dir,
        ModelConfig(hidden=16, embed_dim=8),
        TrainConfig(epochs=2, batch_size=8),
        torch.device("cuda"),
        out=out,
    )
    assert not result.interrupted and out.is_file()
    on_gpu = Classifier.load(out, device="cuda").predict_proba(["Satoshi", "Ivanov"])
    on_cpu = Classifier.load(out, device="cpu").predict_proba(["Satoshi", "Ivanov"])
    torch.testing.assert_close(on_gpu, on_cpu, atol=1e-4, rtol=1e-4)
