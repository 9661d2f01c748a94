"""Batched inference over encoded names, and the metrics computed from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from namecls.data import length_batches, pad_batch

if TYPE_CHECKING:
    from namecls.data import Corpus
    from namecls.predict import Classifier


@torch.inference_mode()
def batched_logits(
    model: torch.nn.Module, ids: list[list[int]], device: torch.device | str = "cpu", batch_size: int = 1024
) -> torch.Tensor:
    """Logits (N, C) for encoded names in input order; each batch holds names of one length."""
    was_training = model.training
    model.eval()
    out = torch.empty(len(ids), model.config.n_classes)
    for idx in length_batches(list(range(len(ids))), [len(s) for s in ids], batch_size, mix_leftovers=False):
        x, lengths = pad_batch([ids[i] for i in idx], device)
        out[idx] = model(x, lengths).float().cpu()
    model.train(was_training)
    return out


def expected_calibration_error(probs: torch.Tensor, y: torch.Tensor, bins: int = 15) -> float:
    """Mean |confidence - accuracy| over equal-width confidence bins, weighted by bin size."""
    conf, pred = probs.max(1)
    correct = (pred == y).float()
    edges = torch.linspace(0, 1, bins + 1)
    ece = torch.zeros(())
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.float().mean() * (conf[inside].mean() - correct[inside].mean()).abs()
    return ece.item()


@dataclass
class Metrics:
    """Scores of one model on one set of (name, label) pairs."""

    accuracy: float
    macro_f1: float
    n: int
    per_class: dict[str, dict[str, float]]
    confusion: dict[str, list]
    top3_accuracy: float
    nll: float
    ece: float

    def to_dict(self) -> dict:
        return asdict(self)

    def most_confused(self, k: int = 8) -> list[tuple[str, str, int]]:
        """(true, predicted, count) for the largest off-diagonal cells."""
        labels, m = self.confusion["labels"], self.confusion["matrix"]
        cells = [
            (labels[i], labels[j], m[i][j])
            for i in range(len(labels))
            for j in range(len(labels))
            if i != j and m[i][j] > 0
        ]
        return sorted(cells, key=lambda c: (-c[2], c[0], c[1]))[:k]


def compute_metrics(logits: torch.Tensor, y: torch.Tensor, labels: list[str]) -> Metrics:
    """Accuracy, macro-F1 over labels with support, per-class table, confusion, top-3, NLL, ECE."""
    C = len(labels)
    pred = logits.argmax(1)
    cm = torch.bincount(y * C + pred, minlength=C * C).reshape(C, C)  # rows true, cols predicted
    tp = cm.diag().float()
    support = cm.sum(1).float()
    predicted = cm.sum(0).float()
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(support > 0, tp / support.clamp(min=1), torch.zeros_like(tp))
    f1 = torch.where(
        precision + recall > 0, 2 * precision * recall / (precision + recall), torch.zeros_like(tp)
    )
    present = support > 0
    k = min(3, C)
    top3 = (logits.topk(k, dim=1).indices == y[:, None]).any(1).float().mean().item()
    per_class = {
        lab: {
            "precision": precision[i].item(),
            "recall": recall[i].item(),
            "f1": f1[i].item(),
            "support": int(support[i].item()),
        }
        for i, lab in enumerate(labels)
    }
    return Metrics(
        accuracy=(pred == y).float().mean().item(),
        macro_f1=f1[present].mean().item(),
        n=len(y),
        per_class=per_class,
        confusion={"labels": list(labels), "matrix": cm.tolist()},
        top3_accuracy=top3,
        nll=F.cross_entropy(logits, y).item(),
        ece=expected_calibration_error(logits.softmax(1), y),
    )


def fit_temperature(logits: torch.Tensor, y: torch.Tensor) -> float:
    """The temperature T minimising NLL of softmax(logits / T) (searched on a log grid, then refined)."""
    grid = torch.exp(torch.linspace(-1.5, 1.5, 61))
    nll = torch.stack([F.cross_entropy(logits / t, y) for t in grid])
    best = grid[nll.argmin()]
    fine = best * torch.exp(torch.linspace(-0.05, 0.05, 21))
    nll = torch.stack([F.cross_entropy(logits / t, y) for t in fine])
    return round(fine[nll.argmin()].item(), 4)


@dataclass
class Evaluation:
    """Metrics of a model on one split of a data folder, and what was left out."""

    metrics: Metrics
    split: str
    skipped_unknown_label: int  # examples whose language the model does not know
    same_data: bool  # the folder's fingerprint matches the one the model was trained on
    ece_uncalibrated: float  # of the raw model, before the temperature and logit adjustment


def evaluate_split(clf: Classifier, corpus: Corpus, split: str = "test") -> Evaluation:
    """Score a Classifier on `split` (train|valid|test, re-made from the checkpoint) or `all`."""
    from namecls.data import split_indices
    from namecls.errors import DataError

    ckpt = clf.checkpoint
    same = ckpt.get("data_fingerprint") == corpus.fingerprint
    if split == "all":
        idx = list(range(len(corpus)))
    else:
        rec = ckpt.get("split", {})
        parts = split_indices(
            corpus, rec.get("seed", 0), (rec.get("valid_frac", 0.1), rec.get("test_frac", 0.1))
        )
        idx = parts[split]
    pos = {lab: i for i, lab in enumerate(clf.labels)}
    known = [i for i in idx if corpus.labels[corpus.targets[i]] in pos]
    if not known:
        raise DataError(f"no names of a language the model knows in split {split!r}")
    names = [corpus.names[i] for i in known]
    y = torch.tensor([pos[corpus.labels[corpus.targets[i]]] for i in known], dtype=torch.long)
    # scored exactly as `predict` scores them: a name of several parts is split and combined
    calibrated, raw = clf.log_proba(names), clf.log_proba(names, calibrated=False)
    return Evaluation(
        compute_metrics(calibrated, y, clf.labels),
        split,
        len(idx) - len(known),
        same,
        expected_calibration_error(raw.exp(), y),
    )
