"""Several processes, one model: DistributedDataParallel under `torchrun`."""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
import torch.distributed as dist
from torch import nn


def world() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) in a plain process."""
    return (
        int(os.environ.get("RANK", 0)),
        int(os.environ.get("WORLD_SIZE", 1)),
        int(os.environ.get("LOCAL_RANK", 0)),
    )


def init(device: torch.device) -> torch.device:
    """Join the process group when started by torchrun; each process takes its own GPU."""
    _, size, local = world()
    if size == 1 or dist.is_initialized():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def rank_and_size() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


class MemberLogits(nn.Module):
    """Puts `member_logits` behind `forward`, which is what DistributedDataParallel hooks into."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.model.member_logits(x, lengths)  # (M, B, C)


def trainer(model: nn.Module) -> nn.Module:
    """What the training step calls: the model itself, or its DDP wrapper across processes."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return MemberLogits(model)
    return nn.parallel.DistributedDataParallel(MemberLogits(model))


def any_rank(flag: Callable[[], bool], device: torch.device) -> Callable[[], bool]:
    """A stop flag that is true on every process once it is true on one, so none waits alone."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return flag

    def synced() -> bool:
        t = torch.tensor([1.0 if flag() else 0.0], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    return synced
