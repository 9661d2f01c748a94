"""`make eval`: score a model on the leak-free test split and fail below the floors.

The floors live in scripts/eval_floors.json, the one place they are written.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(HERE.parent / "namecls" / "models" / "default.pt"))
    ap.add_argument("--data-dir", default=str(HERE.parent / "data" / "names"))
    ap.add_argument("--floors", type=Path, default=HERE / "eval_floors.json")
    args = ap.parse_args()

    floors = json.loads(args.floors.read_text())
    cmd = [
        sys.executable,
        "-m",
        "namecls",
        "evaluate",
        "--model",
        args.model,
        "--data-dir",
        args.data_dir,
        "--split",
        "test",
        "--json",
        "--device",
        "cpu",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        print(f"eval: `namecls evaluate` failed with exit code {run.returncode}", file=sys.stderr)
        return 1
    scores = json.loads(run.stdout)
    failed = False
    for key, floor in floors.items():
        ok = scores[key] >= floor
        failed |= not ok
        print(f"{key:>9}: {scores[key]:.4f}  (floor {floor:.2f})  {'ok' if ok else 'BELOW FLOOR'}")
    print(f"test names: {scores['n']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
