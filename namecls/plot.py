"""Pictures of evaluation results; matplotlib is an optional extra (`pip install 'namecls[plot]'`)."""

from __future__ import annotations

from pathlib import Path

from namecls.errors import NameclsError


def save_confusion(confusion: dict, path: str | Path, title: str = "") -> Path:
    """Draw a confusion matrix (rows: true, columns: predicted), shaded by each row's share."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise NameclsError("--plot needs matplotlib: pip install 'namecls[plot]'") from None
    labels, counts = confusion["labels"], confusion["matrix"]
    shares = [[v / max(sum(row), 1) for v in row] for row in counts]
    n = len(labels)
    fig, ax = plt.subplots(figsize=(1.0 + 0.5 * n, 1.0 + 0.45 * n), dpi=120)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i, row in enumerate(counts):
        for j, v in enumerate(row):
            if v:
                ax.text(
                    j,
                    i,
                    str(v),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if shares[i][j] > 0.5 else "black",
                )
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
