"""Any string in, an answer or a per-name message out; data folders that are wrong in every way."""

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from namecls.cli import app
from namecls.data import load_corpus
from namecls.errors import DataError
from namecls.predict import NO_LETTERS, Classifier

runner = CliRunner()

HOSTILE = {
    "": False,
    "   ": False,
    "\t\t": False,
    "12345": False,
    "!!!???": False,
    "😀🎉👍": False,
    "a" * 20000: True,
    "Иванов": True,
    "Παπαδόπουλος": True,
    "عبد الله": True,
    "山田": True,
    "Nguyễn Văn An": True,
    "O'Neill-Smith": True,
    "--help": True,  # after `--` it is a name, not an option
    "-k": True,
    "x\x00y": True,
    "\u200b\u200d": False,
    "Ivanov\r": True,
}


@pytest.fixture(scope="module")
def clf(tiny_model: Path) -> Classifier:
    return Classifier.load(tiny_model, device="cpu")


def test_every_hostile_name_gets_an_answer_in_order(tiny_model: Path):
    names = list(HOSTILE)
    r = runner.invoke(app, ["predict", "--model", str(tiny_model), "--json", "--", *names])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [o["name"] for o in out] == names
    for o, has_letters in zip(out, HOSTILE.values(), strict=True):
        if has_letters:
            assert "error" not in o and len(o["predictions"]) == 3, o["name"][:20]
        else:
            assert o["error"] == NO_LETTERS and o["predictions"] == []


def test_hostile_names_from_stdin(tiny_model: Path):
    text = "\n".join(n.replace("\n", " ") for n in HOSTILE) + "\n"
    r = runner.invoke(app, ["predict", "-", "--model", str(tiny_model), "--json"], input=text)
    assert r.exit_code == 0, r.stderr
    assert len(json.loads(r.stdout)) == len(text.splitlines())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(max_size=40), min_size=1, max_size=6), k=st.integers(1, 5))
def test_predict_never_raises_and_probabilities_are_sane(clf: Classifier, names, k):
    preds = clf.predict(names, top_k=k)
    assert [p.name for p in preds] == names
    probs = clf.predict_proba(names)
    for p, row in zip(preds, probs, strict=True):
        if p.error:
            assert p.predictions == () and all(math.isnan(v) for v in row.tolist())
            continue
        values = [v for _, v in p.predictions]
        assert len(values) == min(k, len(clf.labels))
        assert all(0.0 <= v <= 1.0 for v in values)
        assert values == sorted(values, reverse=True)
        assert sum(values) <= 1.0 + 1e-5
        assert abs(row.sum().item() - 1.0) < 1e-4


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


@pytest.mark.parametrize(
    "files, message",
    [
        ({}, "no .txt files"),
        ({"notes.md": b"Ivanov\n"}, "no .txt files"),
        ({"A.txt": b"\n\n  \n", "B.txt": b"\n"}, "0 language"),
        ({"Russian.txt": b"Ivanov\nPetrov\n"}, "1 language"),
        ({"Russian.txt": b"Ivanov\n", "Emoji.txt": "😀\n123\n".encode()}, "1 language"),
        ({"A.txt": b"Abc\n", "B.txt": b"ok\n\xc3\x28\n"}, r"B\.txt is not UTF-8 \(line 2"),
    ],
)
def test_bad_data_folders_are_one_line_errors(tmp_path: Path, files, message):
    folder = write(tmp_path / "names", files)
    with pytest.raises(DataError, match=message):
        load_corpus(folder)
    r = runner.invoke(app, ["train", "--data-dir", str(folder), "--out", str(tmp_path / "m.pt")])
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "Traceback" not in r.stderr


def test_language_with_nothing_usable_is_skipped_with_a_warning(tmp_path: Path, tiny_session_dir: Path):
    folder = tmp_path / "names"
    folder.mkdir()
    for f in tiny_session_dir.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "Emoji.txt").write_text("😀\n123\n", encoding="utf-8")
    (folder / "Blank.txt").write_text("\n\n", encoding="utf-8")
    corpus = load_corpus(folder)
    assert "Emoji" not in corpus.labels and "Blank" not in corpus.labels
    r = runner.invoke(
        app,
        [
            "train",
            "--data-dir",
            str(folder),
            "--out",
            str(tmp_path / "m.pt"),
            "--epochs",
            "1",
            "--hidden",
            "8",
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert "skipped Emoji: none of its 2 lines is a usable name" in r.stderr
    assert "skipped Blank: none of its 0 lines is a usable name" in r.stderr


def test_missing_data_folder(tmp_path: Path):
    r = runner.invoke(app, ["data", "--data-dir", str(tmp_path / "nope")])
    assert r.exit_code == 1 and "does not exist" in r.stderr
