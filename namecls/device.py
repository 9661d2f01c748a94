"""Choose the torch device once, for every command."""

from __future__ import annotations

import re

import torch

from namecls.errors import NameclsError, UsageError

_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def select_device(name: str = "auto") -> torch.device:
    """`auto` takes CUDA when present, else the CPU; `cuda`/`cuda:N` must exist."""
    if not _DEVICE.fullmatch(name):
        raise UsageError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise NameclsError(f"--device {name} was asked for, but CUDA is not available here")
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise NameclsError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s)")
        return dev
    return torch.device("cpu")
