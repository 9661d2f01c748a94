"""Save and load the one self-describing model file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from namecls import __version__
from namecls.errors import CheckpointError

FORMAT_VERSION = 1
REQUIRED = ("format_version", "state_dict", "config", "vocab", "labels")


def save_checkpoint(path: str | Path, ckpt: dict[str, Any]) -> None:
    """Write atomically: a temp file in the same folder, fsync, then rename over `path`.

    A process killed at any moment leaves either the old file or the new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ckpt = {**ckpt, "format_version": FORMAT_VERSION, "namecls_version": __version__}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a model file is as readable as any other
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(ckpt, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint without unpickling code (`weights_only=True`) and check its shape."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file {path} does not exist")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated, random bytes, or a pickle that asks for code
        if "GLOBAL" in str(e):  # the weights-only unpickler met a class or function to import
            raise CheckpointError(
                f"{path} holds Python objects, not only tensors and plain data: refused, as it could run code"
            ) from None
        raise CheckpointError(
            f"{path} is not a readable namecls model (truncated, or not a torch file)"
        ) from None
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED):
        raise CheckpointError(f"{path} is not a namecls model (missing fields)")
    if ckpt["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has model format {ckpt['format_version']!r}; this namecls reads {FORMAT_VERSION}"
        )
    return ckpt
