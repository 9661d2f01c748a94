"""How much a random line split leaks: the share of test lines whose name is also in training.

    python scripts/leak_check.py [--data-dir data/names] [--seeds 3]

The tutorial-style split shuffles the raw lines (duplicates included) 80/10/10; namecls's split
puts every spelling of a normalised name in one split, so its figure is 0 by construction.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from namecls.data import normalize


def leak(names: list[str], seed: int) -> float:
    order = list(range(len(names)))
    random.Random(seed).shuffle(order)
    n = len(order)
    train = {names[i] for i in order[: int(0.8 * n)]}
    test = order[int(0.9 * n) :]
    return sum(names[i] in train for i in test) / len(test)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("data/names"))
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    names = [
        normalize(line)
        for path in sorted(args.data_dir.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    shares = [leak(names, s) for s in range(args.seeds)]
    print(
        f"{len(names)} lines; random 80/10/10 line split, seeds 0..{args.seeds - 1}: "
        + ", ".join(f"{x:.1%}" for x in shares)
        + " of test lines have their name in training"
    )


if __name__ == "__main__":
    main()
