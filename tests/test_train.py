"""Pieces of the training step: mixed precision and the logit adjustment."""

import pytest
import torch

from namecls.model import ModelConfig, build_model
from namecls.train import TrainConfig, grad_scaler, logit_adjustment, train_one_epoch


@pytest.mark.parametrize("precision, dtype", [("fp32", torch.float32), ("amp", torch.bfloat16)])
def test_amp_runs_the_forward_pass_in_bfloat16_on_cpu_and_keeps_float32_weights(precision, dtype):
    torch.manual_seed(0)
    model = build_model(ModelConfig(vocab_size=12, n_classes=3, embed_dim=8, hidden=8))
    cfg, cpu = TrainConfig(precision=precision), torch.device("cpu")
    seen = []

    def step(x, lengths):
        logits = model.member_logits(x, lengths)
        seen.append(logits.dtype)
        return logits

    batch = (torch.randint(2, 12, (6, 5)), torch.full((6,), 5), torch.tensor([0, 1, 2, 0, 1, 2]))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    before = [p.detach().clone() for p in model.parameters()]
    loss = train_one_epoch(
        step, model, [batch], optimizer, schedule, grad_scaler(cfg, cpu), cfg, cpu, lambda: False
    )
    assert seen == [dtype] and loss > 0
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_logit_adjustment_lifts_rare_classes_and_is_off_at_zero():
    train_y = [0] * 90 + [1] * 9 + [2]
    assert torch.equal(logit_adjustment(train_y, 3, 0.0), torch.zeros(3))
    bias = logit_adjustment(train_y, 3, 0.5)
    torch.testing.assert_close(bias, -0.5 * torch.tensor([0.90, 0.09, 0.01]).log())
    assert bias[2] > bias[1] > bias[0] > 0
    # a language with no training names counts as one, not as minus infinity
    assert torch.isfinite(logit_adjustment(train_y, 4, 0.5)).all()
