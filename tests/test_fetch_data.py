"""`make data`'s script: local copy, download fallback (from a zip this test builds), manifest check."""

import hashlib
import importlib.util
import zipfile
from pathlib import Path

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("fetch_data", REPO / "scripts" / "fetch_data.py")
fetch_data = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch_data)

FILES = {"Alpha.txt": b"Abc\nAbd\n", "Beta.txt": b"Xyz\n"}


def manifest(tmp_path: Path, files=FILES) -> Path:
    m = tmp_path / "names.sha256"
    m.write_text("".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in files.items()))
    return m


def test_copies_from_local_source(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    for n, b in FILES.items():
        (src / n).write_bytes(b)
    dest = tmp_path / "dest"
    rc = fetch_data.main(["--source", str(src), "--dest", str(dest), "--manifest", str(manifest(tmp_path))])
    assert rc == 0 and {p.name: p.read_bytes() for p in dest.iterdir()} == FILES


def test_downloads_archive_when_no_source(tmp_path: Path):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for n, b in FILES.items():
            zf.writestr(f"data/names/{n}", b)
        zf.writestr("data/eng-fra.txt", b"unrelated")
    dest = tmp_path / "dest"
    rc = fetch_data.main(
        [
            "--source",
            str(tmp_path / "absent"),
            "--dest",
            str(dest),
            "--manifest",
            str(manifest(tmp_path)),
            "--url",
            archive.as_uri(),
        ]
    )
    assert rc == 0 and {p.name: p.read_bytes() for p in dest.iterdir()} == FILES


def test_mismatch_is_reported_by_name(tmp_path: Path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "Alpha.txt").write_bytes(FILES["Alpha.txt"])
    (src / "Beta.txt").write_bytes(b"changed\n")
    rc = fetch_data.main(
        ["--source", str(src), "--dest", str(tmp_path / "dest"), "--manifest", str(manifest(tmp_path))]
    )
    assert rc == 1
    assert "Beta.txt" in capsys.readouterr().err


def test_repo_manifest_lists_the_18_files():
    entries = fetch_data.read_manifest(REPO / "data" / "names.sha256")
    assert len(entries) == 18 and "Russian.txt" in entries
