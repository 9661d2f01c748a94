"""Load a model and answer: which languages does this name most likely come from?"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import torch

from namecls.checkpoint import load_checkpoint
from namecls.data import Vocab, normalize
from namecls.device import select_device
from namecls.errors import CheckpointError
from namecls.evaluate import batched_logits
from namecls.model import ModelConfig, build_model

# Where `namecls train` writes without --out, relative to the working folder.
DEFAULT_OUT = Path("out") / "namecls.pt"
SHIPPED_MODEL = Path(__file__).parent / "models" / "default.pt"
# Names longer than this are cut: no surname in the data comes close, and it bounds the work.
MAX_CHARS = 64
NO_LETTERS = "no letters to classify"
_PART_SEP = re.compile(r"[ -]+")
CACHE_SIZE = 200_000


def _fold(name: str) -> str:
    """The name as the model reads it: normalised, cut to MAX_CHARS (long input is cut first)."""
    return normalize(name[: MAX_CHARS * 4])[:MAX_CHARS]


def resolve_model(path: str | Path | None) -> tuple[Path, str]:
    """`--model` wins, then the default training output, then the model shipped in the package."""
    if path is not None:
        return Path(path), "given"
    env = os.environ.get("NAMECLS_MODEL")
    if env:
        return Path(env), "NAMECLS_MODEL"
    if DEFAULT_OUT.is_file():
        return DEFAULT_OUT, "trained"
    return SHIPPED_MODEL, "shipped"


@dataclass(frozen=True, slots=True)
class Prediction:
    """Top-k answer for one input name; `error` is set when it cannot be classified."""

    name: str
    predictions: tuple[tuple[str, float], ...] = ()  # (label, probability), most likely first
    error: str | None = None
    parts: list[Prediction] | None = None  # with explain: each part of a full name on its own

    def to_dict(self) -> dict:
        d: dict = {
            "name": self.name,
            "predictions": [{"label": lab, "probability": round(p, 6)} for lab, p in self.predictions],
        }
        if self.error:
            d["error"] = self.error
        if self.parts is not None:
            d["parts"] = [p.to_dict() for p in self.parts]
        return d

    def to_json(self) -> str:
        """json.dumps(self.to_dict()), written out by hand for the common case: it is the hot loop."""
        if self.error or self.parts is not None:
            return json.dumps(self.to_dict(), ensure_ascii=False)
        preds = ", ".join(
            f'{{"label": {json.dumps(lab, ensure_ascii=False)}, "probability": {round(p, 6)!r}}}'
            for lab, p in self.predictions
        )
        return f'{{"name": {json.dumps(self.name, ensure_ascii=False)}, "predictions": [{preds}]}}'


def model_from_checkpoint(ckpt: dict, path: str | Path = "checkpoint") -> torch.nn.Module:
    """Rebuild the CharRNN a checkpoint describes, checking vocabulary and labels fit its weights."""
    try:
        cfg = ModelConfig.from_dict(ckpt["config"])
        n_bias = len(ckpt.get("logit_bias") or ckpt["labels"])
        if cfg.vocab_size != len(ckpt["vocab"]) or not cfg.n_classes == len(ckpt["labels"]) == n_bias:
            raise ValueError("vocabulary or labels do not match the config")
        model = build_model(cfg)
        model.load_state_dict(ckpt["state_dict"])
    except (ValueError, RuntimeError, TypeError, KeyError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path} does not fit its own description ({msg[:160]})") from None
    return model


class Classifier:
    """A loaded model ready to classify names: `Classifier.load().predict(["Satoshi"])`."""

    def __init__(
        self,
        model: torch.nn.Module,
        vocab: Vocab,
        labels: list[str],
        temperature: float = 1.0,
        logit_bias: list[float] | None = None,
        device: torch.device | str = "cpu",
        checkpoint: dict | None = None,
        path: Path | None = None,
    ):
        self.model = model.to(device).eval()
        self.vocab, self.labels, self.temperature = vocab, list(labels), float(temperature)
        self.logit_bias = torch.tensor(logit_bias or [0.0] * len(self.labels))
        self.device = torch.device(device)
        self.checkpoint = checkpoint or {}
        self.path = path
        # answers by input string, for the (top_k, explain) in _cache_key: name lists repeat a lot
        self._cache: dict[str, Prediction] = {}
        self._cache_key: tuple[int, bool] | None = None

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto") -> Classifier:
        """Load `path`, or (None) the default trained model, or the model shipped in the package."""
        dev = select_device(device)
        resolved, _ = resolve_model(path)
        return cls.from_checkpoint(load_checkpoint(resolved), dev, resolved)

    @classmethod
    def from_checkpoint(
        cls, ckpt: dict, device: torch.device | str = "cpu", path: Path | None = None
    ) -> Classifier:
        """A Classifier from a checkpoint dict already in memory (as `fit` returns it)."""
        return cls(
            model_from_checkpoint(ckpt, path or "checkpoint"),
            Vocab(list(ckpt["vocab"])),
            ckpt["labels"],
            temperature=ckpt.get("temperature", 1.0),
            logit_bias=ckpt.get("logit_bias"),
            device=device,
            checkpoint=ckpt,
            path=path,
        )

    def encode(self, name: str) -> list[int]:
        """Character ids of the whole normalised name (cut to MAX_CHARS); [] when it has no letters."""
        return self.vocab.encode(_fold(name))

    @staticmethod
    def name_parts(name: str) -> list[str]:
        """Normalised parts of a full name: "Nguyễn Văn An" -> ["nguyen", "van", "an"]; "O'Neill-Smith"
        -> ["o'neill", "smith"]. A single surname is one part. Initials ("J. R. R. Tolkien",
        "O Brien") say nothing of a language and are left out, unless they are all there is."""
        parts = [p for p in (q.strip("'") for q in _PART_SEP.split(_fold(name))) if p]
        longer = [p for p in parts if len(p) > 1]
        return longer or parts

    def scores(self, ids: list[list[int]]) -> torch.Tensor:
        """Calibrated logits (N, n_labels) for encoded, non-empty names: (logits + bias) / T."""
        return (batched_logits(self.model, ids, self.device) + self.logit_bias) / self.temperature

    def _part_log_probs(
        self, names: list[str], calibrated: bool = True
    ) -> tuple[list[list[str]], torch.Tensor, torch.Tensor]:
        """Parts of each name, log-probabilities of every part (P, C), and the combined (N, C).

        Parts combine by summing log-probabilities (a product of experts that treats the parts
        as independent evidence), renormalised; a name with no parts gets a row of NaN. Each
        distinct part is run through the model once: name lists repeat surnames a lot.
        `calibrated=False` uses the raw model, without logit adjustment and temperature.
        """
        parts = [self.name_parts(n) for n in names]
        flat = [p for ps in parts for p in ps]
        C = len(self.labels)
        combined = torch.full((len(names), C), float("nan"))
        if not flat:
            return parts, torch.empty(0, C), combined
        index: dict[str, int] = {}
        where = torch.tensor([index.setdefault(p, len(index)) for p in flat])  # (P,) row of each part
        unique_ids = [self.vocab.encode(p) for p in index]
        scores = (
            self.scores(unique_ids) if calibrated else batched_logits(self.model, unique_ids, self.device)
        )
        unique_logp = scores.log_softmax(1)  # (U, C)
        part_logp = unique_logp[where]  # (P, C)
        if all(len(ps) == 1 for ps in parts):
            return parts, part_logp, part_logp  # single surnames: nothing to combine
        owner = torch.tensor([i for i, ps in enumerate(parts) for _ in ps])  # (P,)
        total = torch.zeros(len(names), C).index_add_(0, owner, part_logp)  # (N, C)
        has = torch.tensor([bool(ps) for ps in parts])
        combined[has] = total[has].log_softmax(1)
        return parts, part_logp, combined

    def log_proba(self, names: list[str], calibrated: bool = True) -> torch.Tensor:
        """Log-probabilities (N, n_labels) in label order, as predict scores them; NaN rows for no letters."""
        return self._part_log_probs(names, calibrated)[2]

    def predict_proba(self, names: list[str]) -> torch.Tensor:
        """Calibrated probabilities (N, n_labels) in label order; a row of NaN for a name without letters."""
        return self.log_proba(names).exp()

    def _top(self, logp: torch.Tensor, k: int) -> list[tuple[tuple[str, float], ...]]:
        """Top-k (label, probability) for each row of log-probabilities (N, C), in one call."""
        p, ix = logp.exp().topk(k, dim=1)  # (N, k)
        labels = self.labels
        return [
            tuple(zip([labels[i] for i in row_ix], row_p, strict=True))
            for row_ix, row_p in zip(ix.tolist(), p.tolist(), strict=True)
        ]

    def predict(self, names: list[str], top_k: int = 3, explain: bool = False) -> list[Prediction]:
        """Top-k (label, probability) for each name, in input order; `explain` adds each part's own.

        Answers are remembered per input string (up to CACHE_SIZE of them), so a name that comes
        again costs a dictionary look-up.
        """
        k = max(1, min(top_k, len(self.labels)))
        if self._cache_key != (k, explain) or len(self._cache) > CACHE_SIZE:
            self._cache, self._cache_key = {}, (k, explain)
        cache = self._cache
        new = [n for n in dict.fromkeys(names) if n not in cache]
        if new:
            cache.update(zip(new, self._predict(new, k, explain), strict=True))
        return [cache[n] for n in names]  # frozen: one answer can stand for every repeat

    def _predict(self, names: list[str], k: int, explain: bool) -> list[Prediction]:
        parts, part_logp, combined = self._part_log_probs(names)
        tops = self._top(combined.nan_to_num(), k)
        part_tops = self._top(part_logp, k) if explain else []
        out, j = [], 0
        for name, ps, top in zip(names, parts, tops, strict=True):
            if not ps:
                out.append(Prediction(name, (), NO_LETTERS))
                continue
            parts_of = [Prediction(p, part_tops[j + n]) for n, p in enumerate(ps)] if explain else None
            j += len(ps)
            out.append(Prediction(name, top, None, parts_of))
        return out

    def predict_stream(
        self, names: Iterable[str], top_k: int = 3, explain: bool = False, chunk: int = 8192
    ) -> Iterator[Prediction]:
        """Like predict, over an iterable of any length, holding one chunk in memory at a time."""
        it = iter(names)
        while batch := list(islice(it, chunk)):
            yield from self.predict(batch, top_k, explain)
