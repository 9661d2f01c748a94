"""`torchrun --nproc-per-node 2 -m namecls train`: DDP over gloo on CPU, one writer."""

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from namecls.checkpoint import load_checkpoint
from namecls.cli import app


def test_two_cpu_processes_train_one_model(tiny_session_dir: Path, tmp_path: Path):
    out = tmp_path / "ddp.pt"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "-m",
        "namecls",
        "train",
        "--data-dir",
        str(tiny_session_dir),
        "--out",
        str(out),
        "--epochs",
        "20",
        "--hidden",
        "16",
        "--batch-size",
        "8",
        "--lr",
        "0.02",
        "--device",
        "cpu",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("valid accuracy") == 1  # only the first process reports
    assert run.stderr.count("saved ") == 1
    assert [p.name for p in tmp_path.iterdir() if p.suffix in (".pt", ".tmp")] == ["ddp.pt"]
    ck = load_checkpoint(out)
    assert len(ck["history"]) >= 1 and ck["history"][0]["train_loss"] > 0

    r = CliRunner().invoke(
        app,
        ["evaluate", "--model", str(out), "--data-dir", str(tiny_session_dir), "--split", "all", "--json"],
    )
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["accuracy"] > 0.5  # as the single-process tiny model: chance is 1/3
