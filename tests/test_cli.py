import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from namecls.cli import app
from tests.conftest import write_tiny

runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


@pytest.mark.parametrize("arch", ["manual", "rnn"])
def test_train_evaluate_predict_end_to_end(arch, tiny_session_dir: Path, tmp_path: Path):
    model = tmp_path / f"{arch}.pt"
    r = invoke(
        "train",
        "--data-dir",
        tiny_session_dir,
        "--out",
        model,
        "--arch",
        arch,
        "--epochs",
        1,
        "--hidden",
        8,
        "--batch-size",
        8,
        "--device",
        "cpu",
    )
    assert r.exit_code == 0, r.stderr
    assert model.is_file() and "valid accuracy" in r.stdout
    assert "training" in r.stderr and "valid accuracy" not in r.stderr

    r = invoke("evaluate", "--model", model, "--data-dir", tiny_session_dir, "--json")
    assert r.exit_code == 0, r.stderr
    ev = json.loads(r.stdout)
    assert set(ev) == {"accuracy", "macro_f1", "n", "per_class", "confusion"}
    assert set(ev["per_class"]) == {"Italian", "Japanese", "Russian"}
    assert set(ev["per_class"]["Russian"]) == {"precision", "recall", "f1", "support"}
    assert ev["confusion"]["labels"] == ["Italian", "Japanese", "Russian"]
    assert sum(map(sum, ev["confusion"]["matrix"])) == ev["n"] > 0

    r = invoke("predict", "Satoshi", "Ivanov", "--model", model, "--json", "--top-k", 2)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [o["name"] for o in out] == ["Satoshi", "Ivanov"]
    for o in out:
        assert set(o) == {"name", "predictions"} and len(o["predictions"]) == 2
        probs = [p["probability"] for p in o["predictions"]]
        assert probs == sorted(probs, reverse=True) and all(0 <= p <= 1 for p in probs)
    assert f"using model {model}" in r.stderr


def test_trained_model_learns_the_tiny_data(tiny_model: Path, tiny_session_dir: Path):
    r = invoke("evaluate", "--model", tiny_model, "--data-dir", tiny_session_dir, "--split", "all", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["accuracy"] > 0.5  # three balanced classes: chance is 1/3


def test_evaluate_tables(tiny_model: Path, tiny_session_dir: Path):
    r = invoke("evaluate", "--model", tiny_model, "--data-dir", tiny_session_dir, "--split", "valid")
    assert r.exit_code == 0, r.stderr
    for text in ("accuracy", "macro-F1", "per language", "confusion", "most confused"):
        assert text in r.stdout


def test_predict_from_stdin_keeps_order_and_flags_empty(tiny_model: Path):
    r = invoke("predict", "-", "--model", tiny_model, "--json", input="Rossi\n\n12\nIvanov\n")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [o["name"] for o in out] == ["Rossi", "", "12", "Ivanov"]
    assert out[1]["error"] == out[2]["error"] == "no letters to classify"
    assert out[1]["predictions"] == [] and len(out[3]["predictions"]) == 3

    r = invoke("predict", "-", "--model", tiny_model, input="Rossi\nIvanov\n")
    lines = r.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["Rossi", "Ivanov"]


def test_predict_only_bad_names_is_a_usage_error(tiny_model: Path):
    r = invoke("predict", "", "🎉", "--model", tiny_model)
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines()[-1] == "Error: no name had letters to classify"


def test_shipped_or_default_model_answers_without_training(monkeypatch, tmp_path: Path):
    from namecls.predict import SHIPPED_MODEL

    if not SHIPPED_MODEL.is_file():
        pytest.skip("no shipped model yet: run `make model`")
    monkeypatch.chdir(tmp_path)  # no out/namecls.pt here
    monkeypatch.delenv("NAMECLS_MODEL", raising=False)
    r = invoke("predict", "Satoshi", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[0]["predictions"][0]["label"] == "Japanese"
    assert "shipped" in r.stderr


def test_default_output_path_is_used_after_training(monkeypatch, tmp_path: Path, tiny_model: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NAMECLS_MODEL", raising=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "namecls.pt").write_bytes(tiny_model.read_bytes())
    r = invoke("predict", "Rossi")
    assert r.exit_code == 0, r.stderr
    assert "out/namecls.pt (default training output)" in r.stderr


def one_error_line(r) -> str:
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    return lines[-1]


def test_error_exit_codes(tmp_path: Path, tiny_model: Path):
    r = invoke("predict", "x", "--model", tmp_path / "none.pt")
    assert r.exit_code == 1 and one_error_line(r).startswith("Error: model file")

    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"not a model")
    r = invoke("predict", "x", "--model", bad)
    assert r.exit_code == 1 and "corrupt.pt" in one_error_line(r)

    r = invoke("train", "--data-dir", tmp_path / "missing", "--out", tmp_path / "m.pt")
    assert r.exit_code == 1 and "does not exist" in one_error_line(r)

    (tmp_path / "empty").mkdir()
    r = invoke("evaluate", "--model", tiny_model, "--data-dir", tmp_path / "empty")
    assert r.exit_code == 1 and "no .txt files" in one_error_line(r)

    one = write_tiny(tmp_path / "one", {"Russian": "Ivanov Petrov"})
    r = invoke("train", "--data-dir", one, "--out", tmp_path / "m.pt")
    assert r.exit_code == 1 and "at least 2" in one_error_line(r)
    assert not (tmp_path / "m.pt").exists()

    r = invoke("train", "--arch", "transformer", "--out", tmp_path / "m.pt")
    assert r.exit_code == 2 and "unknown --arch" in one_error_line(r)

    r = invoke("predict", "x", "--model", tiny_model, "--device", "tpu")
    assert r.exit_code == 2 and "unknown device" in one_error_line(r)

    r = invoke("evaluate", "--model", tiny_model, "--split", "dev")
    assert r.exit_code == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(tiny_model: Path):
    r = invoke("predict", "Satoshi", "--model", tiny_model, "--device", "cuda")
    assert r.exit_code == 1
    assert one_error_line(r) == "Error: --device cuda was asked for, but CUDA is not available here"


def test_every_command_has_help():
    r = invoke("--help")
    assert r.exit_code == 0
    for command in ("train", "evaluate", "predict"):
        r = invoke(command, "--help")
        assert r.exit_code == 0 and "Example" in r.stdout
        options = [line for line in r.stdout.splitlines() if line.strip().startswith(("│ --", "│ *"))]
        for line in options:
            assert len(line.strip("│ ").split()) > 2, f"{command}: option without help: {line}"


def test_version():
    from namecls import __version__

    r = invoke("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"namecls {__version__}"
