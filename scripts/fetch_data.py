"""Fill data/names: copy from ../shared/data/names when present, else download the tutorial archive.

Then check every file against data/names.sha256 and name any that differ. Standard library only,
so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import sys
import urllib.request
import zipfile
from pathlib import Path

URL = "https://download.pytorch.org/tutorial/data.zip"
ROOT = Path(__file__).resolve().parent.parent


def read_manifest(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            entries[name.strip().lstrip("*")] = digest
    return entries


def extract_names(archive: bytes, dest: Path, wanted: set[str]) -> int:
    """Write the archive's data/names/<Language>.txt members named in `wanted` into dest."""
    count = 0
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        for info in zf.infolist():
            parts = Path(info.filename).parts
            if len(parts) >= 2 and parts[-2] == "names" and parts[-1] in wanted:
                (dest / parts[-1]).write_bytes(zf.read(info))
                count += 1
    return count


def verify(dest: Path, manifest: dict[str, str]) -> list[str]:
    """Names of files that are missing or whose sha256 differs from the manifest."""
    bad = []
    for name, digest in sorted(manifest.items()):
        f = dest / name
        if not f.is_file() or hashlib.sha256(f.read_bytes()).hexdigest() != digest:
            bad.append(name)
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--source",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "names",
        help="local copy to take the files from when it exists",
    )
    ap.add_argument("--dest", type=Path, default=ROOT / "data" / "names")
    ap.add_argument("--manifest", type=Path, default=ROOT / "data" / "names.sha256")
    ap.add_argument("--url", default=URL, help="archive to download when --source is absent")
    args = ap.parse_args(argv)

    manifest = read_manifest(args.manifest)
    args.dest.mkdir(parents=True, exist_ok=True)
    if not verify(args.dest, manifest):
        print(f"data: {args.dest} already holds the {len(manifest)} files", file=sys.stderr)
        return 0
    if args.source.is_dir():
        for name in manifest:
            if (args.source / name).is_file():
                shutil.copyfile(args.source / name, args.dest / name)
        print(f"data: copied from {args.source}", file=sys.stderr)
    else:
        print(f"data: downloading {args.url}", file=sys.stderr)
        try:
            with urllib.request.urlopen(args.url, timeout=60) as r:
                archive = r.read()
        except OSError as e:
            print(f"Error: could not download {args.url}: {e}", file=sys.stderr)
            return 1
        extract_names(archive, args.dest, set(manifest))
    bad = verify(args.dest, manifest)
    if bad:
        print(f"Error: {len(bad)} file(s) differ from {args.manifest}: {', '.join(bad)}", file=sys.stderr)
        return 1
    print(f"data: {len(manifest)} files in {args.dest} match {args.manifest.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
