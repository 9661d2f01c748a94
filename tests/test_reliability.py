"""Interruptions, atomic writes, resume and determinism, on the tiny data set."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from namecls.checkpoint import load_checkpoint
from namecls.model import ModelConfig
from namecls.predict import Classifier
from namecls.train import TrainConfig, fit
from tests.conftest import TINY, write_tiny

SMALL = ModelConfig(arch="gru", hidden=16, embed_dim=8)


def big_tiny(folder: Path) -> Path:
    """The tiny languages, each name in a few spellings: enough batches for an epoch to take a while."""
    langs = {
        lang: " ".join(f"{n}{s}" for n in names.split() for s in ("", "a", "o", "i", "e", "u"))
        for lang, names in TINY.items()
    }
    return write_tiny(folder, langs)


def train_cmd(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "namecls",
        "train",
        "--data-dir",
        str(data),
        "--out",
        str(out),
        "--hidden",
        "64",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        *extra,
    ]


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.time()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < timeout, "no checkpoint appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_keeps_best_checkpoint_and_exits_130(sig, tmp_path: Path):
    data, out = big_tiny(tmp_path / "names"), tmp_path / "m.pt"
    proc = subprocess.Popen(
        train_cmd(data, out, "--epochs", "200"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for(out, proc)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"best model so far kept at {out}" in stderr
    ck = load_checkpoint(out)
    assert "resume" in ck  # an interrupted run can be carried on
    Classifier.load(out, device="cpu").predict(["Ivanov"])


def test_kill_during_training_never_leaves_a_broken_file(tmp_path: Path):
    data, out = big_tiny(tmp_path / "names"), tmp_path / "m.pt"
    for delay in (0.0, 0.13, 0.37, 0.61):
        before = out.stat().st_mtime_ns if out.exists() else None
        proc = subprocess.Popen(
            train_cmd(data, out, "--epochs", "200"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        t0 = time.time()  # wait for this run's first save, so the kill lands among its saves
        while not out.exists() or out.stat().st_mtime_ns == before:
            assert proc.poll() is None and time.time() - t0 < 120, "no new checkpoint appeared"
            time.sleep(0.02)
        time.sleep(delay)
        proc.kill()  # SIGKILL: no handler runs
        proc.wait()
        # either the previous best or the new one, never a torn file (a stray .tmp may remain)
        Classifier.load(out, device="cpu").predict(["Ivanov"])


@pytest.mark.parametrize("older", [False, True], ids=["this-version", "older-checkpoint"])
def test_resume_reaches_the_same_model_as_an_uninterrupted_run(
    older: bool, tmp_path: Path, tiny_session_dir: Path
):
    cfg = TrainConfig(epochs=6, batch_size=8, lr=0.02, patience=6, valid_frac=0.2, test_frac=0.2)
    full = fit(tiny_session_dir, SMALL, cfg, torch.device("cpu"), out=tmp_path / "full.pt")

    calls = {"n": 0}

    def stop_in_epoch_3() -> bool:  # polled after each of 5 batches and once more per epoch
        calls["n"] += 1
        return calls["n"] > 14  # the 15th poll: after the third batch of epoch 3

    part = fit(
        tiny_session_dir,
        SMALL,
        cfg,
        torch.device("cpu"),
        out=tmp_path / "part.pt",
        should_stop=stop_in_epoch_3,
    )
    assert part.interrupted
    ckpt = load_checkpoint(tmp_path / "part.pt")
    if older:  # as written before logit_adjust, precision and loss scaling: a raw-logit best score
        del ckpt["train_config"]["logit_adjust"], ckpt["train_config"]["precision"]
        del ckpt["resume"]["scaler"]
        ckpt["resume"]["best_score"] = 0.99
    resumed = fit(tiny_session_dir, SMALL, cfg, torch.device("cpu"), out=tmp_path / "part.pt", resume=ckpt)
    assert not resumed.interrupted
    for k, v in full.checkpoint["state_dict"].items():
        torch.testing.assert_close(resumed.checkpoint["state_dict"][k], v, rtol=0, atol=1e-6)
    assert resumed.valid.accuracy == pytest.approx(full.valid.accuracy)
    assert "resume" not in load_checkpoint(tmp_path / "part.pt")  # finished: training state dropped


def test_resume_of_a_finished_model_is_refused(tiny_model: Path, tiny_session_dir: Path):
    from namecls.errors import NameclsError

    with pytest.raises(NameclsError, match="nothing to resume"):
        fit(tiny_session_dir, SMALL, TrainConfig(), torch.device("cpu"), resume=load_checkpoint(tiny_model))


def test_same_seed_same_metrics_and_predictions(tmp_path: Path, tiny_session_dir: Path):
    cfg = TrainConfig(epochs=3, batch_size=8, lr=0.02, valid_frac=0.2, test_frac=0.2)
    a = fit(tiny_session_dir, SMALL, cfg, torch.device("cpu"))
    b = fit(tiny_session_dir, SMALL, cfg, torch.device("cpu"))
    assert [h.train_loss for h in a.history] == [h.train_loss for h in b.history]
    assert a.valid.to_dict() == b.valid.to_dict()
    names = ["Satoshi", "Ivanov", "Rossi", "Schmidt"]
    pa = Classifier.from_checkpoint(a.checkpoint).predict_proba(names)
    pb = Classifier.from_checkpoint(b.checkpoint).predict_proba(names)
    assert torch.equal(pa, pb)


def test_predict_closed_pipe_exits_quietly(tiny_model: Path):
    names = "\n".join(["Ivanov", "Rossi"] * 20000) + "\n"
    cmd = f"{sys.executable} -m namecls predict - --model {tiny_model} | head -1"
    run = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], input=names, capture_output=True, text=True)
    assert run.stdout.startswith("Ivanov\t")
    assert "Traceback" not in run.stderr and "Error" not in run.stderr
    assert run.returncode == 0, run.stderr
