import pytest
import torch

from namecls.data import PAD_IDX
from namecls.model import ARCHS, CharRNN, Dropout, ModelConfig


def copy_manual_into_rnn(manual: CharRNN, rnn: CharRNN) -> None:
    """Give nn.RNN the hand-written cells' weights; nn.RNN's two biases sum to the cell's b."""
    c = manual.config
    dirs = 2 if c.bidirectional else 1
    shared = {k: v for k, v in manual.state_dict().items() if not k.startswith("rnn.")}  # embeddings, head
    rnn.load_state_dict(shared, strict=False)
    with torch.no_grad():
        for layer in range(c.layers):
            for d in range(dirs):
                cell = manual.rnn.cells[layer * dirs + d]
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                getattr(rnn.rnn, "weight_ih" + sfx).copy_(cell.W_x.weight)
                getattr(rnn.rnn, "weight_hh" + sfx).copy_(cell.W_h.weight)
                getattr(rnn.rnn, "bias_ih" + sfx).copy_(cell.W_x.bias)
                getattr(rnn.rnn, "bias_hh" + sfx).zero_()


def random_batch(B=7, T=9, V=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T
    x = torch.randint(2, V, (B, T), generator=g)
    x[torch.arange(T)[None, :] >= lengths[:, None]] = PAD_IDX
    return x, lengths


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("pool, ngram", [("last", 1), ("meanmax", 2)])
def test_manual_matches_nn_rnn(bidirectional, layers, pool, ngram):
    torch.manual_seed(0)
    cfg = ModelConfig(
        vocab_size=12,
        n_classes=5,
        arch="manual",
        embed_dim=6,
        hidden=10,
        layers=layers,
        bidirectional=bidirectional,
        dropout=0.0,
        pool=pool,
        ngram=ngram,
        ngram_buckets=64,
    )
    manual = CharRNN(cfg).eval()
    rnn = CharRNN(ModelConfig(**{**cfg.__dict__, "arch": "rnn"})).eval()
    copy_manual_into_rnn(manual, rnn)
    x, lengths = random_batch()
    torch.testing.assert_close(manual(x, lengths), rnn(x, lengths), atol=1e-5, rtol=0)


def test_manual_cell_is_the_classic_equation():
    cfg = ModelConfig(
        vocab_size=6,
        n_classes=3,
        arch="manual",
        embed_dim=4,
        hidden=5,
        bidirectional=False,
        dropout=0.0,
        pool="last",
        ngram=1,
    )
    m = CharRNN(cfg).eval()
    x, lengths = torch.tensor([[2, 3, 4]]), torch.tensor([3])
    cell = m.rnn.cells[0]
    h = torch.zeros(1, 5)
    for t in range(3):
        e = m.embed.weight[x[:, t]]
        h = torch.tanh(h @ cell.W_h.weight.T + e @ cell.W_x.weight.T + cell.W_x.bias)
    torch.testing.assert_close(m(x, lengths), m.head(h), atol=1e-6, rtol=0)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("pool, ngram, conv", [("last", 1, 0), ("meanmax", 3, 3)])
def test_padding_and_batching_do_not_change_logits(arch, pool, ngram, conv):
    torch.manual_seed(1)
    cfg = ModelConfig(
        vocab_size=12,
        n_classes=4,
        arch=arch,
        embed_dim=6,
        hidden=8,
        layers=2,
        pool=pool,
        ngram=ngram,
        ngram_buckets=64,
        conv=conv,
    )
    m = CharRNN(cfg).eval()
    x, lengths = random_batch(seed=3)
    batched = m(x, lengths)
    for i in range(len(x)):
        alone = m(x[i : i + 1, : lengths[i]], lengths[i : i + 1])
        torch.testing.assert_close(batched[i : i + 1], alone, atol=1e-5, rtol=0)
    # extra padding columns change nothing either
    wider = torch.cat([x, torch.full((len(x), 4), PAD_IDX)], dim=1)
    torch.testing.assert_close(m(wider, lengths), batched, atol=1e-5, rtol=0)


@pytest.mark.parametrize("arch", ARCHS)
def test_shapes_and_gradients(arch):
    m = CharRNN(ModelConfig(vocab_size=10, n_classes=3, arch=arch, embed_dim=4, hidden=6))
    x, lengths = random_batch(B=4, T=5, V=10)
    logits = m(x, lengths)
    assert logits.shape == (4, 3)
    logits.sum().backward()
    assert all(p.grad is not None for n, p in m.named_parameters() if p.requires_grad)


def test_unknown_arch_is_refused():
    with pytest.raises(ValueError, match="unknown arch"):
        CharRNN(ModelConfig(arch="transformer"))


def test_dropout_drops_its_share_keeps_the_mean_and_is_off_in_eval():
    torch.manual_seed(0)
    x = torch.ones(400, 500)
    drop = Dropout(0.3).train()
    y = drop(x)
    assert abs((y == 0).float().mean().item() - 0.3) < 0.01
    assert abs(y.mean().item() - 1) < 0.01  # survivors scaled by 1 / (1 - p)
    assert torch.equal(drop.eval()(x), x)
    with pytest.raises(ValueError, match="dropout"):
        Dropout(1.0)
