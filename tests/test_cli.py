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


def test_mixed_precision_trains_a_float32_model(tiny_session_dir: Path, tmp_path: Path):
    model = tmp_path / "amp.pt"
    args = ["--data-dir", tiny_session_dir, "--out", model, "--epochs", 2, "--hidden", 8, "--batch-size", 8]
    r = invoke("train", *args, "--precision", "amp", "--logit-adjust", 0, "--device", "cpu")
    assert r.exit_code == 0, r.stderr
    ckpt = torch.load(model, weights_only=True)
    assert ckpt["train_config"]["precision"] == "amp"
    assert ckpt["train_config"]["logit_adjust"] == 0 and not any(ckpt["logit_bias"])
    assert all(t.dtype == torch.float32 for t in ckpt["state_dict"].values() if t.is_floating_point())
    r = invoke("evaluate", "--model", model, "--data-dir", tiny_session_dir, "--split", "all", "--json")
    assert r.exit_code == 0 and 0 <= json.loads(r.stdout)["accuracy"] <= 1


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
    assert r.exit_code == 0, r.stderr
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

    r = invoke("train", "--precision", "fp8", "--out", tmp_path / "m.pt")
    assert r.exit_code == 2 and "unknown --precision" in one_error_line(r)

    r = invoke("predict", "x", "--model", tiny_model, "--device", "tpu")
    assert r.exit_code == 2 and "unknown device" in one_error_line(r)

    r = invoke("evaluate", "--model", tiny_model, "--split", "dev")
    assert r.exit_code == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(tiny_model: Path):
    r = invoke("predict", "Satoshi", "--model", tiny_model, "--device", "cuda")
    assert r.exit_code == 1
    assert one_error_line(r) == "Error: --device cuda was asked for, but CUDA is not available here"


def test_every_command_and_parameter_has_help():
    import typer

    group = typer.main.get_command(app)
    assert set(group.commands) == {"train", "evaluate", "predict", "data", "info"}
    for name, command in group.commands.items():
        assert command.help and "Example" in command.help, name
        for param in command.params:
            assert getattr(param, "help", None), f"{name} {param.name}: no help text"
        r = invoke(name, "--help")
        assert r.exit_code == 0 and "Example" in r.stdout


def test_version():
    from namecls import __version__

    r = invoke("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"namecls {__version__}"


def test_predict_csv_in_csv_and_jsonl_out(tiny_model: Path, tmp_path: Path):
    src = tmp_path / "people.csv"
    src.write_text("id,surname\n1,Nakamura\n2,\n3,Rossi\n", encoding="utf-8")
    dst = tmp_path / "out.csv"
    r = invoke("predict", "--input", src, "--column", "surname", "--output", dst, "--model", tiny_model)
    assert r.exit_code == 0, r.stderr
    import csv

    rows = list(csv.DictReader(dst.open()))
    assert [row["id"] for row in rows] == ["1", "2", "3"]
    assert set(rows[0]) == {"id", "surname", "label", "probability", "top_k", "error"}
    assert rows[1]["error"] == "no letters to classify" and rows[1]["label"] == ""
    assert rows[2]["top_k"].count(":") == 3 and 0 < float(rows[2]["probability"]) <= 1

    dst = tmp_path / "out.jsonl"
    r = invoke(
        "predict", "--input", src, "--column", "surname", "--output", dst, "--model", tiny_model, "-k", 2
    )
    assert r.exit_code == 0, r.stderr
    recs = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [rec["id"] for rec in recs] == ["1", "2", "3"]
    assert recs[0]["label"] == recs[0]["predictions"][0]["label"] and len(recs[0]["predictions"]) == 2

    txt = tmp_path / "names.txt"
    txt.write_text("Ivanov\nRossi\n")
    r = invoke("predict", "--input", txt, "--model", tiny_model, "--json")
    assert [o["name"] for o in json.loads(r.stdout)] == ["Ivanov", "Rossi"]


def test_predict_input_errors(tiny_model: Path, tmp_path: Path):
    src = tmp_path / "people.csv"
    src.write_text("id,surname\n1,Nakamura\n")
    r = invoke("predict", "--input", src, "--model", tiny_model)
    assert r.exit_code == 2 and "--column" in one_error_line(r)
    r = invoke("predict", "--input", src, "--column", "name", "--model", tiny_model)
    assert r.exit_code == 2 and "no column 'name'" in one_error_line(r)
    r = invoke("predict", "x", "--output", tmp_path / "out.xlsx", "--model", tiny_model)
    assert r.exit_code == 2
    r = invoke("predict", "--model", tiny_model)
    assert r.exit_code == 2
    r = invoke("predict", "--input", tmp_path / "missing.txt", "--model", tiny_model)
    assert r.exit_code == 1 and "missing.txt" in one_error_line(r)


def test_full_names_combine_parts_and_explain(tiny_model: Path):
    from namecls.predict import Classifier

    clf = Classifier.load(tiny_model, device="cpu")
    assert clf.name_parts("Nguyễn Văn An") == ["nguyen", "van", "an"]
    assert clf.name_parts("O'Neill-Smith") == ["o'neill", "smith"]
    # a single surname is scored exactly as before: one part, the whole name
    single = clf.predict_proba(["Nakamura"])
    whole = clf.scores([clf.encode("Nakamura")]).softmax(1)
    torch.testing.assert_close(single, whole)
    # two parts: the normalised product of the parts' probabilities
    both = clf.predict_proba(["Nakamura Ivanov"])
    parts = clf.predict_proba(["Nakamura", "Ivanov"])
    expected = (parts[0].log() + parts[1].log()).softmax(0)
    torch.testing.assert_close(both[0], expected, atol=1e-5, rtol=0)

    r = invoke("predict", "Satoshi Nakamoto", "--explain", "--json", "--model", tiny_model)
    out = json.loads(r.stdout)[0]
    assert [p["name"] for p in out["parts"]] == ["satoshi", "nakamoto"]


def test_data_and_info_commands(tiny_model: Path, tiny_session_dir: Path):
    r = invoke("data", "--data-dir", tiny_session_dir, "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert [x["label"] for x in d["languages"]] == ["Italian", "Japanese", "Russian"]
    assert all(x["train"] + x["valid"] + x["test"] == x["kept"] for x in d["languages"])
    r = invoke("data", "--data-dir", tiny_session_dir)
    assert r.exit_code == 0 and "names under several languages" in r.stdout

    r = invoke("info", tiny_model, "--json")
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["labels"] == ["Italian", "Japanese", "Russian"] and info["history"]
    r = invoke("info", tiny_model)
    assert r.exit_code == 0 and "training history" in r.stdout


def test_evaluate_plot_writes_an_image(tiny_model: Path, tiny_session_dir: Path, tmp_path: Path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "confusion.png"
    r = invoke(
        "evaluate", "--model", tiny_model, "--data-dir", tiny_session_dir, "--split", "all", "--plot", png
    )
    assert r.exit_code == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pipes_get_no_colour_or_markup(tiny_model: Path, tiny_session_dir: Path):
    for args in (
        ["predict", "Rossi", "--model", tiny_model],
        ["evaluate", "--model", tiny_model, "--data-dir", tiny_session_dir, "--split", "all"],
        ["predict", "x", "--model", tiny_model / "missing"],
    ):
        r = invoke(*args)
        for stream in (r.stdout, r.stderr):
            assert "\x1b[" not in stream and "[red]" not in stream and "[dim]" not in stream


def test_python_dash_m():
    import subprocess
    import sys

    from namecls import __version__

    run = subprocess.run([sys.executable, "-m", "namecls", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == f"namecls {__version__}"
    run = subprocess.run([sys.executable, "-m", "namecls"], capture_output=True, text=True)
    assert "Usage" in run.stdout + run.stderr  # no_args_is_help


def test_initials_are_left_out_of_full_names():
    from namecls.predict import Classifier

    assert Classifier.name_parts("J. R. R. Tolkien") == ["tolkien"]
    assert Classifier.name_parts("O Brien") == ["brien"]
    assert Classifier.name_parts("X") == ["x"]  # a lone letter is still a name to score


def test_predict_input_file_edge_cases(tiny_model: Path, tmp_path: Path):
    src = tmp_path / "people.csv"
    src.write_bytes("\ufeffsurname,id\nNakamura,1\n,2\n3\n".encode())  # Excel's BOM, an empty and a short row
    dst = tmp_path / "out.jsonl"
    r = invoke("predict", "-i", src, "--column", "surname", "-o", dst, "--model", tiny_model)
    assert r.exit_code == 0, r.stderr
    recs = [json.loads(line) for line in dst.read_text().splitlines()]
    assert recs[0]["surname"] == "Nakamura" and recs[0]["label"]
    assert recs[1]["error"] == recs[2]["error"] == "no letters to classify"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []

    before = src.read_bytes()
    r = invoke(
        "predict", "-i", src, "--column", "surname", "-o", tmp_path / "people.csv", "--model", tiny_model
    )
    assert r.exit_code == 2 and "is the --input file" in one_error_line(r)
    assert src.read_bytes() == before

    bad = tmp_path / "names.txt"
    bad.write_bytes(b"Rossi\nIvanov\nBad\xffname\n")
    r = invoke("predict", "-i", bad, "-o", tmp_path / "bad.csv", "--model", tiny_model)
    assert r.exit_code == 2 and one_error_line(r) == f"Error: {bad} is not UTF-8 (line 3)"
    assert not (tmp_path / "bad.csv").exists()  # nothing half-written

    r = invoke("evaluate", "--model", tiny_model, "--plot", tmp_path / "c.xyz")
    assert r.exit_code == 2 and "--plot" in one_error_line(r)
