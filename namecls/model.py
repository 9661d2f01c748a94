"""Character-level recurrent classifiers: a hand-written Elman RNN, nn.RNN, GRU and LSTM."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence

from namecls.data import PAD_IDX

ARCHS = ("manual", "rnn", "gru", "lstm")


@dataclass
class ModelConfig:
    """Shape of a CharRNN; `vocab_size` and `n_classes` come from the data."""

    vocab_size: int = 32
    n_classes: int = 18
    arch: str = "gru"  # manual | rnn | gru | lstm
    embed_dim: int = 64  # character embedding width
    hidden: int = 256  # hidden state width per direction
    layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3  # on embeddings, between layers and before the output layer

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


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
    padding never alters its result. Returns h_n shaped like nn.RNN's: (layers * dirs, B, H).
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

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
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
        return torch.stack(h_n)  # (layers * dirs, B, H)


class CharRNN(nn.Module):
    """Embed characters, run a recurrent cell, classify the final state: logits = V h_T."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.arch not in ARCHS:
            raise ValueError(f"unknown arch {config.arch!r}; choose from {', '.join(ARCHS)}")
        self.config = c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_IDX)
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
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden * (2 if c.bidirectional else 1), c.n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x (B, T) padded character ids, lengths (B,) all >= 1 -> logits (B, n_classes)."""
        emb = self.drop(self.embed(x))  # (B, T, E)
        if self.config.arch == "manual":
            h_n = self.rnn(emb, lengths)  # (L * D, B, H)
        else:
            packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, h_n = self.rnn(packed)
            if isinstance(h_n, tuple):  # LSTM returns (h_n, c_n)
                h_n = h_n[0]
        dirs = 2 if self.config.bidirectional else 1
        h_last = torch.cat(list(h_n[-dirs:]), dim=1)  # (B, H * D): the top layer's directions
        return self.head(self.drop(h_last))  # (B, n_classes)
