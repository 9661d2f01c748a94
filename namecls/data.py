"""Read per-language surname files, normalise, deduplicate, split leak-free, encode."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset, Sampler
from unidecode import unidecode

from namecls.errors import DataError

PAD, UNK = "<pad>", "<unk>"
PAD_IDX, UNK_IDX = 0, 1
SPLITS = ("train", "valid", "test")
# Surnames in the data have at most three parts ("De la fontaine"); longer lines are page
# furniture such as the Russian file's "To The First Page".
MAX_WORDS = 3

_SPACES = re.compile(r"\s+")
_DISALLOWED = re.compile(r"[^a-z' -]")


def normalize(raw: str) -> str:
    """ASCII-fold and lower-case a name, keeping letters, space, apostrophe and hyphen.

    "Ślusàrski" -> "slusarski", "Иванов" -> "ivanov", "Groß" -> "gross". Returns "" when
    nothing is left (digits, emoji, punctuation only).
    """
    s = unidecode(raw).lower().replace("`", "'")
    s = _SPACES.sub(" ", s)
    s = _DISALLOWED.sub("", s)
    s = _SPACES.sub(" ", s)
    return s.strip(" '-")


@dataclass
class LanguageCount:
    """What reading one language file found."""

    label: str
    read: int = 0  # non-blank lines
    dropped: int = 0  # empty after normalising, or not a name
    duplicates: int = 0  # same normalised name seen before in this file
    kept: int = 0


@dataclass
class Dropped:
    """One line the loader did not keep, and why."""

    file: str
    line: int
    text: str
    reason: str


@dataclass
class Corpus:
    """Deduplicated (name, label) pairs from one data folder."""

    labels: list[str]
    names: list[str]  # normalised
    targets: list[int]  # index into labels
    counts: list[LanguageCount]
    dropped: list[Dropped] = field(default_factory=list)
    fingerprint: str = ""

    def __len__(self) -> int:
        return len(self.names)

    def multi_label_names(self) -> dict[str, list[str]]:
        """Names that occur under more than one language."""
        seen: dict[str, list[str]] = {}
        for name, t in zip(self.names, self.targets, strict=True):
            seen.setdefault(name, []).append(self.labels[t])
        return {n: ls for n, ls in seen.items() if len(ls) > 1}


def _read_lines(path: Path, raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{path} is not UTF-8 (line {line}, byte {e.start})") from None
    return text.lstrip("\ufeff").splitlines()


def load_corpus(data_dir: str | Path, min_languages: int = 2) -> Corpus:
    """Read every `<Language>.txt` in `data_dir`; the label is the file's stem."""
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise DataError(f"data folder {data_dir} does not exist (run `make data`)")
    if not data_dir.is_dir():
        raise DataError(f"{data_dir} is not a folder")
    files = sorted(p for p in data_dir.glob("*.txt") if p.is_file())
    if not files:
        raise DataError(f"data folder {data_dir} has no .txt files (run `make data`)")

    digest = hashlib.sha256()
    labels, names, targets, counts, dropped = [], [], [], [], []
    for path in files:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(raw).digest())
        count = LanguageCount(path.stem)
        seen: set[str] = set()
        kept_here: list[str] = []
        for lineno, line in enumerate(_read_lines(path, raw), start=1):
            if not line.strip():
                continue
            count.read += 1
            name = normalize(line)
            reason = None
            if not name:
                reason = "no letters"
            elif len(name.split(" ")) > MAX_WORDS:
                reason = f"more than {MAX_WORDS} words"
            if reason:
                count.dropped += 1
                dropped.append(Dropped(path.name, lineno, line, reason))
            elif name in seen:
                count.duplicates += 1
            else:
                seen.add(name)
                kept_here.append(name)
        count.kept = len(kept_here)
        counts.append(count)
        if not kept_here:
            continue  # reported through counts; a label with no names cannot be learned
        labels.append(path.stem)
        names.extend(kept_here)
        targets.extend([len(labels) - 1] * len(kept_here))

    if len(labels) < min_languages:
        raise DataError(
            f"data folder {data_dir} has {len(labels)} language(s) with usable names; "
            f"at least {min_languages} are needed"
        )
    return Corpus(labels, names, targets, counts, dropped, digest.hexdigest()[:16])


def split_indices(
    corpus: Corpus, seed: int = 0, fractions: tuple[float, float] = (0.1, 0.1)
) -> dict[str, list[int]]:
    """Leak-free, stratified, deterministic split into train/valid/test example indices.

    Every example of one normalised name goes to the same split, so a name with two labels
    never sits in both train and test. Names are stratified by their rarest language and
    ordered by a seeded hash, so the split is the same on every machine and Python version.
    `fractions` are (valid, test); train gets the rest.
    """
    frac_valid, frac_test = fractions
    if not (0 <= frac_valid < 1 and 0 <= frac_test < 1 and frac_valid + frac_test < 1):
        raise ValueError(f"bad split fractions {fractions}")
    freq = Counter(corpus.targets)
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(corpus.names):
        groups.setdefault(name, []).append(i)
    strata: dict[int, list[str]] = {}
    for name, idx in groups.items():
        rarest = min((corpus.targets[i] for i in idx), key=lambda t: (freq[t], t))
        strata.setdefault(rarest, []).append(name)

    def key(name: str) -> str:
        return hashlib.sha256(f"{seed}\0{name}".encode()).hexdigest()

    out: dict[str, list[int]] = {s: [] for s in SPLITS}
    for t in sorted(strata):
        members = sorted(strata[t], key=key)
        n_test = round(len(members) * frac_test)
        n_valid = round(len(members) * frac_valid)
        for j, name in enumerate(members):
            split = "test" if j < n_test else "valid" if j < n_test + n_valid else "train"
            out[split].extend(groups[name])
    return {s: sorted(ix) for s, ix in out.items()}


@dataclass
class Vocab:
    """Character vocabulary with reserved padding (0) and unknown (1) indices."""

    itos: list[str]

    def __post_init__(self) -> None:
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    @classmethod
    def build(cls, names: list[str]) -> Vocab:
        return cls([PAD, UNK, *sorted({c for n in names for c in n})])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, name: str) -> list[int]:
        return [self.stoi.get(c, UNK_IDX) for c in name]


class NamesDataset(Dataset):
    """Encoded names and their targets; items are (character ids, target)."""

    def __init__(self, names: list[str], targets: list[int], vocab: Vocab) -> None:
        self.ids = [vocab.encode(n) for n in names]
        self.targets = targets
        self.lengths = [len(n) for n in names]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> tuple[list[int], int]:
        return self.ids[i], self.targets[i]


def pad_batch(ids: list[list[int]], device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Pad encoded names (each non-empty) to x (B, T) and lengths (B,)."""
    lengths = torch.tensor([len(s) for s in ids], dtype=torch.long)
    T = int(lengths.max())
    x = torch.full((len(ids), T), PAD_IDX, dtype=torch.long)
    x[torch.arange(T)[None, :] < lengths[:, None]] = torch.tensor(
        [i for s in ids for i in s], dtype=torch.long
    )
    return x.to(device), lengths.to(device)


def collate(batch: list[tuple[list[int], int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad a list of (ids, target) to x (B, T), lengths (B,), y (B,)."""
    ids, ys = zip(*batch, strict=True)
    x, lengths = pad_batch(list(ids))
    return x, lengths, torch.tensor(ys, dtype=torch.long)


def length_batches(
    order: list[int], lengths: list[int], batch_size: int, mix_leftovers: bool = True
) -> list[list[int]]:
    """Cut `order` into batches whose names all have one length, keeping `order` within a length.

    A batch of one length needs no packing, which is the recurrent layers' fast path. With
    `mix_leftovers` (training: no tiny batches) what is left over from every length, in length
    order, makes the last few batches, the only ones that mix lengths; without it (scoring) a
    length's last batch is just smaller.
    """
    by_length: dict[int, list[int]] = {}
    for i in order:
        by_length.setdefault(lengths[i], []).append(i)
    batches, rest = [], []
    for n in sorted(by_length):
        group = by_length[n]
        full = len(group) - len(group) % batch_size if mix_leftovers else len(group)
        batches += [group[j : j + batch_size] for j in range(0, full, batch_size)]
        rest += group[full:]
    return batches + [rest[j : j + batch_size] for j in range(0, len(rest), batch_size)]


class LengthBatchSampler(Sampler[list[int]]):
    """Batches of names of one length (see `length_batches`), so no time goes on padding.

    Each epoch shuffles the names, cuts them into batches and shuffles the batch order.
    Seeded through `set_epoch`, like DistributedSampler.
    """

    def __init__(
        self,
        lengths: list[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.lengths, self.batch_size, self.shuffle = lengths, batch_size, shuffle
        self.seed, self.epoch = seed, 0
        self.rank, self.world_size = rank, world_size
        self.n_batches = len(length_batches(list(range(len(lengths))), lengths, batch_size))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        n = len(self.lengths)
        if not self.shuffle:
            return length_batches(list(range(n)), self.lengths, self.batch_size)
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(n, generator=g).tolist()
        batches = length_batches(order, self.lengths, self.batch_size)
        perm = torch.randperm(len(batches), generator=g).tolist()
        return [batches[i] for i in perm]

    def __iter__(self):
        batches = self._batches()
        # every rank takes the same number of batches so that DDP all-reduces stay in step
        return iter(batches[self.rank :: self.world_size][: len(self)])

    def __len__(self) -> int:
        return self.n_batches // self.world_size
