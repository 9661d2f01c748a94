"""`make bench`: namecls against simple baselines on one leak-free test split.

Trains each system on the same train split (valid for tuning only), scores it on the same test
split, and prints a markdown table to stdout; progress goes to stderr.

    python scripts/benchmark_accuracy.py                       # every row, full training
    python scripts/benchmark_accuracy.py --quick               # smoke test, about a minute
    python scripts/benchmark_accuracy.py --only ngram,default --out bench.md
    python scripts/benchmark_accuracy.py --only tutorial --faithful-loop
    python scripts/benchmark_accuracy.py --seeds 0,1,2,3,4,5 --only default,ngram   # mean ± std

Rows (keys for --only): majority, ngram (needs scikit-learn: `pip install -e ".[bench]"`),
tutorial, default, rnn, manual. On a shared machine fix --threads: small RNNs slow down
tenfold when torch's threads compete with another process for the cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_sequence

from namecls import __version__
from namecls.data import Corpus, load_corpus
from namecls.errors import NameclsError
from namecls.evaluate import Metrics, compute_metrics, evaluate_split
from namecls.model import ModelConfig
from namecls.predict import Classifier
from namecls.train import EpochLog, TrainConfig, fit, prepare, select_score

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("majority", "ngram", "tutorial", "default", "rnn", "manual")
SVM_GRID = (0.1, 0.3, 1.0, 3.0)
QUICK_EPOCHS = 2
# The 2024 tutorial's alphabet; "_" stands for any character outside it (here: "-").
TUTORIAL_LETTERS = string.ascii_letters + " .,;'" + "_"


@dataclass
class Subset:
    """Normalised names of one split and their targets."""

    names: list[str]
    y: torch.Tensor  # (N,) index into the corpus labels


@dataclass
class Row:
    """One line of the table; None prints as a dash."""

    system: str
    metrics: Metrics
    train_s: float | None
    names_per_s: float | None
    notes: list[str] = field(default_factory=list)


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def subsets(corpus: Corpus, split: dict[str, list[int]]) -> dict[str, Subset]:
    return {
        s: Subset(
            [corpus.names[i] for i in ix], torch.tensor([corpus.targets[i] for i in ix], dtype=torch.long)
        )
        for s, ix in split.items()
    }


def names_per_second(score: Callable[[list[str]], object], names: list[str], repeats: int = 3) -> float:
    """Names scored per second in one batched pass: the best of `repeats` after a warm-up."""
    score(names)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        score(names)
        best = min(best, time.perf_counter() - t0)
    return len(names) / best


# --- 1. majority class -------------------------------------------------------------------------


def run_majority(data: dict[str, Subset], labels: list[str]) -> Row:
    """Always the most frequent training language; top-3 is the three most frequent."""
    t0 = time.perf_counter()
    log_prior = torch.bincount(data["train"].y, minlength=len(labels)).float().add(1).log()  # (C,)
    train_s = time.perf_counter() - t0
    scores = log_prior.expand(len(data["test"].names), -1)  # (N, C)
    top = labels[int(log_prior.argmax())]
    metrics = compute_metrics(scores, data["test"].y, labels)
    notes = [f"majority: always {top}; its top-3 is the three most frequent training languages; not timed."]
    return Row(f'always "{top}" (majority class)', metrics, train_s, None, notes)


# --- 2. character n-grams + linear SVM ----------------------------------------------------------


def svm_scores(svm, X, n_classes: int) -> torch.Tensor:
    """decision_function as (N, n_classes); a language missing from train never wins."""
    dec = torch.as_tensor(svm.decision_function(X), dtype=torch.float32)
    if dec.ndim == 1:  # two classes: sklearn returns the positive class's margin only
        dec = torch.stack([-dec, dec], dim=1)
    out = torch.full((X.shape[0], n_classes), -1e4)
    out[:, torch.as_tensor(svm.classes_)] = dec
    return out


def run_ngram(data: dict[str, Subset], labels: list[str], grid: tuple[float, ...], seed: int) -> Row | None:
    """Char 1-5-gram TF-IDF + LinearSVC, C chosen on the valid split."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC
    except ImportError:
        note('note: scikit-learn is not installed (pip install -e ".[bench]"); skipping the n-gram row')
        return None
    train, valid, test = data["train"], data["valid"], data["test"]
    t0 = time.perf_counter()
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True)
    X_train, X_valid = vec.fit_transform(train.names), vec.transform(valid.names)
    best_score, best_c, svm = -1.0, grid[0], None
    for c in grid:
        candidate = LinearSVC(C=c, random_state=seed).fit(X_train, train.y.numpy())
        m = compute_metrics(svm_scores(candidate, X_valid, len(labels)), valid.y, labels)
        note(f"  ngram C={c:g}: valid accuracy {m.accuracy:.4f}, macro-F1 {m.macro_f1:.4f}")
        if select_score(m) > best_score:
            best_score, best_c, svm = select_score(m), c, candidate
    train_s = time.perf_counter() - t0

    def score(names: list[str]) -> torch.Tensor:
        return svm_scores(svm, vec.transform(names), len(labels))

    metrics = compute_metrics(score(test.names), test.y, labels)
    return Row(
        "char 1-5-gram TF-IDF + linear SVM",
        metrics,
        train_s,
        names_per_second(score, test.names),
        [
            f"n-gram: {X_train.shape[1]:,} features; C={best_c:g} chosen on valid from "
            f"{{{', '.join(f'{c:g}' for c in grid)}}}; train time includes the TF-IDF fit and every C."
        ],
    )


# --- 3. the 2024 PyTorch tutorial, re-implemented -----------------------------------------------


class TutorialRNN(nn.Module):
    """The tutorial's CharRNN: nn.RNN over one-hot letters, log p = LogSoftmax(V h_T).

    The LogSoftmax + NLLLoss pair is kept on purpose: this row reproduces the reference.
    """

    def __init__(self, n_letters: int, hidden: int, n_classes: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(n_letters, hidden)
        self.h2o = nn.Linear(hidden, n_classes)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, x: torch.Tensor | nn.utils.rnn.PackedSequence) -> torch.Tensor:
        """x (T, B, n_letters), or packed -> log-probabilities (B, n_classes)."""
        _, h = self.rnn(x)  # (1, B, H)
        return self.softmax(self.h2o(h[0]))  # (B, C)


def tutorial_one_hot(name: str) -> torch.Tensor:
    """(T, 58) one-hot letters, as the tutorial's lineToTensor without its batch axis."""
    unk = TUTORIAL_LETTERS.index("_")
    ids = torch.tensor([TUTORIAL_LETTERS.find(c) if c in TUTORIAL_LETTERS else unk for c in name])
    return F.one_hot(ids, len(TUTORIAL_LETTERS)).float()


def train_tutorial(
    model: TutorialRNN,
    xs: list[torch.Tensor],
    y: torch.Tensor,
    epochs: int,
    faithful: bool,
    seed: int,
    batch_size: int = 64,
    lr: float = 0.15,
    clip: float = 3.0,
) -> None:
    """SGD on the summed NLL of each random batch, clipped, as the tutorial trains.

    Batches are the tutorial's: a fresh permutation cut into len // batch_size near-equal
    parts (its np.array_split). `faithful` runs the names of a batch one at a time in Python,
    like the tutorial; otherwise the batch goes through as one packed sequence (same sum).
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    one = nn.NLLLoss()
    summed = nn.NLLLoss(reduction="sum")
    g = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(1, epochs + 1):
        t0, total = time.perf_counter(), 0.0
        perm = torch.randperm(len(xs), generator=g)
        for batch in torch.tensor_split(perm, max(len(xs) // batch_size, 1)):
            ix = batch.tolist()
            if faithful:
                loss = sum(one(model(xs[i][:, None]), y[i : i + 1]) for i in ix)  # (T, 1, 58) per name
            else:
                loss = summed(model(pack_sequence([xs[i] for i in ix], enforce_sorted=False)), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            total += loss.item()
        note(
            f"  tutorial epoch {epoch}/{epochs}: loss {total / len(xs):.4f} ({time.perf_counter() - t0:.1f}s)"
        )


@torch.inference_mode()
def tutorial_scores(model: TutorialRNN, names: list[str]) -> torch.Tensor:
    """Log-probabilities (N, C) from one packed pass over all names."""
    model.eval()
    return model(pack_sequence([tutorial_one_hot(n) for n in names], enforce_sorted=False))


def run_tutorial(data: dict[str, Subset], labels: list[str], epochs: int, faithful: bool, seed: int) -> Row:
    """The 2024 tutorial's recipe on our normalised names; no validation, fixed epochs."""
    train, test = data["train"], data["test"]
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    model = TutorialRNN(len(TUTORIAL_LETTERS), 128, len(labels))
    train_tutorial(model, [tutorial_one_hot(n) for n in train.names], train.y, epochs, faithful, seed)
    train_s = time.perf_counter() - t0
    score = partial(tutorial_scores, model)
    how = "faithful per-name loop" if faithful else "batched, packed"
    return Row(
        f"2024 PyTorch tutorial recipe (re-implemented, {how})",
        compute_metrics(score(test.names), test.y, labels),
        train_s,
        names_per_second(score, test.names),
        [
            f"tutorial: nn.RNN(58, 128) on one-hot letters, SGD lr 0.15, {epochs} epochs, batches of "
            f"64 with summed NLL, clip 3; {'one name at a time' if faithful else 'packed batches'}."
        ],
    )


# --- 4-6. namecls ------------------------------------------------------------------------------


def run_namecls(
    corpus: Corpus, key: str, model_cfg: ModelConfig, train_cfg: TrainConfig, test_names: list[str]
) -> Row:
    """`namecls.train.fit` with the given configs, scored through a Classifier on the test split."""

    def on_epoch(e: EpochLog) -> None:
        note(
            f"  {key} epoch {e.epoch}/{train_cfg.epochs}: loss {e.train_loss:.4f}, "
            f"valid accuracy {e.valid_accuracy:.4f}, macro-F1 {e.valid_macro_f1:.4f} "
            f"({e.seconds:.1f}s){' best' if e.best else ''}"
        )

    t0 = time.perf_counter()
    result = fit(None, model_cfg, train_cfg, torch.device("cpu"), corpus=corpus, on_epoch=on_epoch)
    train_s = time.perf_counter() - t0
    clf = Classifier.from_checkpoint(result.checkpoint)
    ev = evaluate_split(clf, corpus, "test")
    if ev.metrics.n != len(test_names):
        note(f"warning: namecls scored {ev.metrics.n} test names, the other rows {len(test_names)}")
    c = model_cfg
    cell = "RNN" if c.arch in ("rnn", "manual") else c.arch.upper()
    how = {"rnn": ", nn.RNN", "manual": ", hand-written cell"}.get(c.arch, "")
    depth = f"{c.layers}-layer " if c.layers > 1 else ""
    shape = f"{depth}{'bi-' if c.bidirectional else ''}{cell} {c.hidden}{how}"
    label = "namecls default" if key == "default" else f"namecls --arch {c.arch}"
    best = max(h.epoch for h in result.history if h.best)
    return Row(
        f"{label} ({shape})",
        ev.metrics,
        train_s,
        names_per_second(clf.predict_proba, test_names),
        [f"{label}: ran {len(result.history)}/{train_cfg.epochs} epochs, kept epoch {best}."],
    )


# --- table ---------------------------------------------------------------------------------------


def fmt(x: float | None, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def run_seed(
    corpus: Corpus, seed: int, args: argparse.Namespace
) -> tuple[list[Row], dict[str, Subset], bool]:
    """Every row of `args.only` on the split of `seed`: the rows, the split, whether Ctrl-C stopped it."""
    train_cfg = replace(TrainConfig(), seed=seed, split_seed=seed)
    if args.quick:
        train_cfg = replace(train_cfg, epochs=QUICK_EPOCHS)
    split, _ = prepare(corpus, train_cfg)  # the split fit() re-makes from the same config
    data = subsets(corpus, split)
    labels = corpus.labels
    test_names = data["test"].names
    note(f"{len(corpus):,} names, {len(labels)} languages; test split {len(test_names):,} names")

    runners: dict[str, Callable[[], Row | None]] = {
        "majority": partial(run_majority, data, labels),
        "ngram": partial(run_ngram, data, labels, (1.0,) if args.quick else SVM_GRID, seed),
        "tutorial": partial(
            run_tutorial, data, labels, QUICK_EPOCHS if args.quick else 27, args.faithful_loop, seed
        ),
        "default": partial(run_namecls, corpus, "default", ModelConfig(), train_cfg, test_names),
        "rnn": partial(run_namecls, corpus, "rnn", ModelConfig(arch="rnn"), train_cfg, test_names),
        "manual": partial(run_namecls, corpus, "manual", ModelConfig(arch="manual"), train_cfg, test_names),
    }
    rows: list[Row] = []
    interrupted = False
    for key in [k for k in KEYS if k in args.only]:
        note(f"[{key}]")
        try:
            row = runners[key]()
        except KeyboardInterrupt:
            note("interrupted: the table has the rows finished so far")
            interrupted = True
            break
        if row is not None:
            note(f"  test accuracy {row.metrics.accuracy:.4f}, macro-F1 {row.metrics.macro_f1:.4f}")
            rows.append(row)

    return rows, data, interrupted


def render_seeds(per_seed: list[tuple[int, list[Row]]]) -> str:
    """Mean ± std over seeds of each system's test accuracy and macro-F1, with every seed's figures."""
    systems = list(dict.fromkeys(r.system for _, rows in per_seed for r in rows))
    head = ["system", "test accuracy", "macro-F1", "per seed (accuracy / macro-F1)"]
    body = []
    for system in systems:
        runs = [(seed, r.metrics) for seed, rows in per_seed for r in rows if r.system == system]
        acc = [m.accuracy for _, m in runs]
        f1 = [m.macro_f1 for _, m in runs]
        sd = statistics.stdev if len(runs) > 1 else (lambda _: 0.0)
        each = ", ".join(f"{seed}: {m.accuracy:.3f} / {m.macro_f1:.3f}" for seed, m in runs)
        body.append(
            [
                system,
                f"{statistics.mean(acc):.3f} ± {sd(acc):.3f}",
                f"{statistics.mean(f1):.3f} ± {sd(f1):.3f}",
                each,
            ]
        )
    seeds = ", ".join(str(seed) for seed, _ in per_seed)
    foot = [
        f"Mean ± sample standard deviation over split seeds {seeds}: each seed makes its own leak-free "
        "80/10/10 split and seeds every model; each test split has about 1,780 names.",
    ]
    return markdown(head, body) + "\n\n" + "\n".join(f"- {line}" for line in foot) + "\n"


def render(rows: list[Row], footer: list[str]) -> str:
    head = ["system", "test accuracy", "macro-F1", "top-3 accuracy", "train time (s)", "predict names/s"]
    body = [
        [
            r.system,
            fmt(r.metrics.accuracy, ".3f"),
            fmt(r.metrics.macro_f1, ".3f"),
            fmt(r.metrics.top3_accuracy, ".3f"),
            fmt(r.train_s, ".1f"),
            fmt(r.names_per_s, ",.0f"),
        ]
        for r in rows
    ]
    notes = [n for r in rows for n in r.notes]
    return markdown(head, body) + "\n\n" + "\n".join(f"- {n}" for n in footer + notes) + "\n"


def markdown(head: list[str], body: list[list[str]]) -> str:
    """An aligned markdown table: the first column left, the others right."""
    w = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |"]
    lines.append(
        "|" + "|".join("-" * (w[0] + 2) if i == 0 else "-" * (w[i] + 1) + ":" for i in range(len(w))) + "|"
    )
    for line in body:
        cells = [line[0].ljust(w[0])] + [c.rjust(w[i]) for i, c in enumerate(line) if i > 0]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def footer_lines(data: dict[str, Subset], seed: int, quick: bool, namecls_timing: bool) -> list[str]:
    n = {s: len(d.names) for s, d in data.items()}
    timing = (
        " (namecls rows: `Classifier.predict_proba`; metrics from `evaluate_split`)" if namecls_timing else ""
    )
    out = [
        f"Test split: {n['test']:,} examples; train {n['train']:,}, valid {n['valid']:,} (80/10/10 by "
        f"normalised name, leak-free, split seed {seed}); every row scores the same test examples.",
        "Macro-F1 averages the languages present in the test split; top-3: the true language is "
        "among the three highest scores.",
        "Train time: wall seconds on CPU of the whole fit (namecls: the `fit` call, including "
        "per-epoch validation and calibration).",
        "predict names/s: test names / seconds of one batched pass from name strings to scores, "
        f"best of 3 after a warm-up{timing}.",
    ]
    if quick:
        out.insert(0, f"QUICK RUN ({QUICK_EPOCHS} epochs; n-gram: C=1 only): a smoke test, not a benchmark.")
    return out


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one (Linux), else what platform knows."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_lines(argv: list[str], corpus: Corpus) -> list[str]:
    return [
        "Reproduce: `" + shlex.join(["python", "scripts/benchmark_accuracy.py", *argv]) + "`",
        f"Machine: {cpu_name()}, {os.cpu_count()} logical CPUs, {platform.platform()}; "
        f"torch {torch.__version__}, torch threads: {torch.get_num_threads()}; "
        f"Python {platform.python_version()}; namecls {__version__}; data fingerprint {corpus.fingerprint}.",
    ]


# --- main ----------------------------------------------------------------------------------------


def parse_keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in KEYS]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(
            f"unknown row(s) {', '.join(unknown) or text!r}; choose from {', '.join(KEYS)}"
        )
    return keys


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds are integers separated by commas, not {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed")
    return seeds


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / "data" / "names",
        metavar="DIR",
        help="folder of <Language>.txt",
    )
    ap.add_argument("--seed", type=int, default=0, metavar="N", help="split seed and every model's seed")
    ap.add_argument(
        "--seeds",
        type=parse_seeds,
        metavar="N,N,...",
        help="run every row on each of these seeds and print mean ± std instead of one table",
    )
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_EPOCHS} epochs, C=1 only: a smoke test")
    ap.add_argument(
        "--only",
        type=parse_keys,
        metavar="KEY,...",
        default=list(KEYS),
        help=f"comma-separated rows: {','.join(KEYS)}",
    )
    ap.add_argument(
        "--faithful-loop", action="store_true", help="tutorial row: one name at a time, as written"
    )
    ap.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch CPU threads (default: torch's choice); fix it on a busy machine",
    )
    ap.add_argument(
        "--out", type=Path, metavar="FILE.md", help="also write the table (markdown) to this file"
    )
    args = ap.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    try:
        corpus = load_corpus(args.data_dir)
    except NameclsError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    if args.seeds:
        per_seed: list[tuple[int, list[Row]]] = []
        for seed in args.seeds:
            note(f"=== seed {seed}")
            rows, _, interrupted = run_seed(corpus, seed, args)
            per_seed.append((seed, rows))
            if interrupted:
                break
        text = render_seeds(per_seed)
    else:
        rows, data, interrupted = run_seed(corpus, args.seed, args)
        namecls_rows = any(k in args.only for k in ("default", "rnn", "manual"))
        text = render(rows, footer_lines(data, args.seed, args.quick, namecls_rows))
    text += "\n" + "\n".join(machine_lines(argv, corpus)) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)
        note(f"wrote {args.out}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
