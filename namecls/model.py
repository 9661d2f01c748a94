"""Character-level recurrent classifiers: a hand-written Elman RNN, nn.RNN, GRU and LSTM."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TypeVar

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from namecls.data import PAD_IDX

ARCHS = ("manual", "rnn", "gru", "lstm")
POOLS = ("last", "meanmax")


C = TypeVar("C", bound="StoredConfig")


class StoredConfig:
    """Mixin for config dataclasses kept in checkpoints as plain dicts."""

    @classmethod
    def from_dict(cls: type[C], d: dict) -> C:
        """Rebuild from a stored dict; keys this version does not know are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class ModelConfig(StoredConfig):
    """Shape of a CharRNN; `vocab_size` and `n_classes` come from the data."""

    vocab_size: int = 32
    n_classes: int = 18
    arch: str = "lstm"  # manual | rnn | gru | lstm
    embed_dim: int = 64  # character embedding width
    hidden: int = 128  # hidden state width per direction
    layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3  # on embeddings, between layers and before the output layer
    pool: str = "meanmax"  # last: V h_T (final states of each direction); meanmax: mean and max over steps
    ngram: int = 2  # >1: each step also embeds the 2..ngram characters ending there (hashed)
    ngram_buckets: int = 4096  # rows of each n-gram embedding table
    conv: int = 0  # >0: kernel width of a convolution over the embeddings before the recurrence
    members: int = 1  # >1: an ensemble of independently initialised networks, probabilities averaged


class Dropout(nn.Module):
    """Inverted dropout, as nn.Dropout, with its mask drawn by torch.rand: 2.5x faster on CPU.

    nn.Dropout's bernoulli_ took a tenth of a training step here; the distribution is the same.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout must be in [0, 1), not {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * ((torch.rand_like(x) >= self.p) * (1 / (1 - self.p)))


class ElmanCell(nn.Module):
    """One step of the classic RNN: h_t = tanh(W_h h_{t-1} + W_x x_t + b)."""

    def __init__(self, input_size: int, hidden: int) -> None:
        super().__init__()
        self.W_x = nn.Linear(input_size, hidden)  # its bias is b
        self.W_h = nn.Linear(hidden, hidden, bias=False)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.W_h(h) + self.W_x(x))  # (B, H)


class ManualRNN(nn.Module):
    """nn.RNN(tanh) re-written with ElmanCell, one Python step per time step for a whole batch.

    Works on a padded batch: a name's state stops changing after its last character, so
    padding never alters its result. Returns the top layer's outputs (B, T, H * dirs) and h_n
    shaped like nn.RNN's: (layers * dirs, B, H).
    """

    def __init__(self, input_size: int, hidden: int, layers: int, bidirectional: bool, dropout: float):
        super().__init__()
        self.dirs = 2 if bidirectional else 1
        self.hidden, self.layers, self.dropout = hidden, layers, dropout
        self.cells = nn.ModuleList(
            ElmanCell(input_size if layer == 0 else hidden * self.dirs, hidden)
            for layer in range(layers)
            for _ in range(self.dirs)
        )

    def _run(self, cell: ElmanCell, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        xw = cell.W_x(x)  # (B, T, H): the input projection for all steps at once
        h = x.new_zeros(B, self.hidden)
        outs = []
        for t in range(T):
            h_new = torch.tanh(cell.W_h(h) + xw[:, t])  # (B, H)
            h = torch.where(mask[:, t, None], h_new, h)
            outs.append(h)
        return torch.stack(outs, 1), h  # (B, T, H), (B, H)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        T = x.shape[1]
        steps = torch.arange(T, device=x.device)
        mask = steps[None, :] < lengths[:, None]  # (B, T)
        # index that reverses each name within its own length, leaving padding in place
        rev = torch.where(mask, lengths[:, None] - 1 - steps[None, :], steps[None, :])  # (B, T)
        h_n = []
        for layer in range(self.layers):
            outs = []
            for d in range(self.dirs):
                cell = self.cells[layer * self.dirs + d]
                inp = x if d == 0 else x.gather(1, rev[:, :, None].expand_as(x))
                out, h = self._run(cell, inp, mask)
                if d == 1:
                    out = out.gather(1, rev[:, :, None].expand_as(out))
                outs.append(out)
                h_n.append(h)
            x = torch.cat(outs, dim=2)  # (B, T, H * dirs)
            if layer < self.layers - 1:
                x = nn.functional.dropout(x, self.dropout, self.training)
        return x, torch.stack(h_n)  # (B, T, H * dirs), (layers * dirs, B, H)


class CharRNN(nn.Module):
    """Embed characters, run a recurrent cell, classify the final state: logits = V h_T."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.arch not in ARCHS:
            raise ValueError(f"unknown arch {config.arch!r}; choose from {', '.join(ARCHS)}")
        if config.pool not in POOLS:
            raise ValueError(f"unknown pool {config.pool!r}; choose from {', '.join(POOLS)}")
        self.config = c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_IDX)
        self.ngram_embed = nn.ModuleList(
            nn.Embedding(c.ngram_buckets, c.embed_dim) for _ in range(2, c.ngram + 1)
        )
        self.conv = nn.Conv1d(c.embed_dim, c.embed_dim, c.conv, padding=c.conv // 2) if c.conv else None
        between = c.dropout if c.layers > 1 else 0.0
        if c.arch == "manual":
            self.rnn = ManualRNN(c.embed_dim, c.hidden, c.layers, c.bidirectional, between)
        else:
            cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[c.arch]
            self.rnn = cls(
                c.embed_dim,
                c.hidden,
                c.layers,
                batch_first=True,
                dropout=between,
                bidirectional=c.bidirectional,
            )
        self.drop = Dropout(c.dropout)
        width = c.hidden * (2 if c.bidirectional else 1)
        self.head = nn.Linear(width * (2 if c.pool == "meanmax" else 1), c.n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x (B, T) padded character ids, lengths (B,) all >= 1 -> logits (B, n_classes)."""
        emb = self.embed(x)  # (B, T, E)
        for n, table in enumerate(self.ngram_embed, start=2):
            emb = emb + table(self._ngram_ids(x, n))  # (B, T, E): the n characters ending at each step
        emb = self.drop(emb)
        if self.conv is not None:
            # padding must look like the convolution's own zero padding, whatever its n-grams embed to
            emb = emb * (x != PAD_IDX)[..., None]
            conv = self.conv(emb.transpose(1, 2))[:, :, : x.shape[1]]  # (B, E, T)
            emb = emb + torch.relu(conv).transpose(1, 2)  # (B, T, E)
        if self.config.arch == "manual":
            out, h_n = self.rnn(emb, lengths)  # (B, T, H * D), (L * D, B, H)
        elif bool((lengths == x.shape[1]).all()):  # no padding: the fast path, no packing
            out, h_n = self.rnn(emb)
        else:
            packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, h_n = self.rnn(packed)
        if isinstance(h_n, tuple):  # LSTM returns (h_n, c_n)
            h_n = h_n[0]
        if self.config.pool == "last":
            dirs = 2 if self.config.bidirectional else 1
            feats = torch.cat(list(h_n[-dirs:]), dim=1)  # (B, H * D): the top layer's final states
        else:
            if not isinstance(out, torch.Tensor):
                out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None])[
                ..., None
            ]  # (B, T, 1)
            mean = (out * mask).sum(1) / lengths[:, None].to(out.dtype)  # (B, H * D)
            peak = out.masked_fill(~mask, float("-inf")).amax(1)  # (B, H * D)
            feats = torch.cat([mean, peak], dim=1)  # (B, 2 * H * D)
        return self.head(self.drop(feats))  # (B, n_classes)

    def _ngram_ids(self, x: torch.Tensor, n: int) -> torch.Tensor:
        """Hashed ids (B, T) of the n characters ending at each step; before the name counts as padding.

        Each depends only on its own and earlier steps, so padding after a name changes nothing.
        """
        V, T = self.config.vocab_size, x.shape[1]
        ids = x.clone()
        for k in range(1, n):
            ids = ids * V + nn.functional.pad(x, (k, 0))[:, :T]  # (B, T)
        return (ids * 2654435761) % self.config.ngram_buckets

    def member_logits(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self(x, lengths)[None]  # (1, B, C): a lone model is an ensemble of one


class CharRNNEnsemble(nn.Module):
    """Several CharRNNs trained side by side; logits are the log of their mean probability."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(CharRNN(config) for _ in range(config.members))

    def member_logits(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x, lengths) for m in self.members])  # (M, B, C)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        logp = self.member_logits(x, lengths).log_softmax(-1)  # (M, B, C)
        return logp.logsumexp(0) - math.log(len(self.members))  # (B, C)


def build_model(config: ModelConfig) -> nn.Module:
    """A CharRNN, or an ensemble of them when `config.members > 1`."""
    return CharRNNEnsemble(config) if config.members > 1 else CharRNN(config)
