"""How much logit adjustment: the score of every tau on the validation split of trained models.

The default recipe subtracts tau * log(class prior) from the logits (`TrainConfig.logit_adjust`).
This script takes checkpoints (trained with any tau: the sweep replaces their adjustment and
temperature), scores each tau on each model's own validation split exactly as `predict` scores
names, and prints the mean over the models. tau is chosen by the mean validation score
(accuracy + macro-F1) / 2. The test columns are there to show what each choice costs, not to
choose by.

It also scores the rule the recipe used before: tau picked afresh for each model on its own
validation split. Models trained with some tau chose their best epoch under it, which tilts
their sweep a little towards that tau; models trained with `--logit-adjust 0` avoid that.

    for s in 0 1 2 3 4 5; do namecls train --seed $s --logit-adjust 0 --out out/tau0-$s.pt; done
    python scripts/tau_sweep.py out/tau0-*.pt
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

from namecls.data import load_corpus, split_indices
from namecls.evaluate import compute_metrics
from namecls.predict import Classifier
from namecls.train import logit_adjustment

TAUS = [i / 20 for i in range(13)]  # 0, 0.05, ..., 0.6


def sweep(clf: Classifier, corpus, taus: list[float]) -> dict[str, list[tuple[float, float]]]:
    """(accuracy, macro-F1) for each tau on the model's valid and test splits."""
    rec = clf.checkpoint["split"]
    parts = split_indices(corpus, rec["seed"], (rec["valid_frac"], rec["test_frac"]))
    train_y = [corpus.targets[i] for i in parts["train"]]
    clf.temperature = 1.0  # the temperature changes no answer's rank
    out: dict[str, list[tuple[float, float]]] = {"valid": [], "test": []}
    for tau in taus:
        clf.logit_bias = logit_adjustment(train_y, len(clf.labels), tau)
        for split in ("valid", "test"):
            names = [corpus.names[i] for i in parts[split]]
            y = torch.tensor([corpus.targets[i] for i in parts[split]])
            m = compute_metrics(clf.log_proba(names), y, corpus.labels)
            out[split].append((m.accuracy, m.macro_f1))
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path, metavar="MODEL.pt")
    ap.add_argument("--data-dir", type=Path, default=Path("data/names"), metavar="DIR")
    args = ap.parse_args(argv)
    corpus = load_corpus(args.data_dir)
    runs = []
    for path in args.models:
        clf = Classifier.load(path, device="cpu")
        if clf.labels != corpus.labels or clf.checkpoint.get("data_fingerprint") != corpus.fingerprint:
            print(f"Error: {path} was not trained on {args.data_dir}", file=sys.stderr)
            return 1
        print(f"scoring {path}", file=sys.stderr)
        runs.append(sweep(clf, corpus, TAUS))

    def mean(split: str, i: int, k: int) -> float:
        return statistics.mean(r[split][i][k] for r in runs)

    def score(pair: tuple[float, float]) -> float:
        return (pair[0] + pair[1]) / 2  # as namecls.train.select_score: both weigh the same

    best = max(range(len(TAUS)), key=lambda i: statistics.mean(score(r["valid"][i]) for r in runs))
    head = ["tau", "valid accuracy", "valid macro-F1", "valid score", "test accuracy", "test macro-F1"]
    head.append("lowest test macro-F1")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("-" * (len(h) + 1) + ":" for h in head) + "|")
    for i, tau in enumerate(TAUS):
        valid_score = statistics.mean(score(r["valid"][i]) for r in runs)
        low = min(r["test"][i][1] for r in runs)
        mark = " (chosen)" if i == best else ""
        print(
            f"| {tau:.2f}{mark} | {mean('valid', i, 0):.4f} | {mean('valid', i, 1):.4f} | {valid_score:.4f} "
            f"| {mean('test', i, 0):.4f} | {mean('test', i, 1):.4f} | {low:.4f} |"
        )
    own = [max(range(len(TAUS)), key=lambda i, r=r: (score(r["valid"][i]), -i)) for r in runs]
    accs = [r["test"][i][0] for r, i in zip(runs, own, strict=True)]
    f1s = [r["test"][i][1] for r, i in zip(runs, own, strict=True)]
    print()
    print(
        f"tau picked per model on its own valid split: {', '.join(f'{TAUS[i]:.2f}' for i in own)}; "
        f"test accuracy {statistics.mean(accs):.4f}, macro-F1 {statistics.mean(f1s):.4f} "
        f"(lowest {min(f1s):.4f}), over {len(runs)} models."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
