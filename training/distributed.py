"""Process-group helpers: DistributedDataParallel when launched by ``torchrun``, else one
process. Only rank 0 writes files and events."""

from __future__ import annotations

import logging
import os

import torch
import torch.distributed as dist

from medgrad_desktop.process_rank import ProcessRank, launched_by_torchrun

log = logging.getLogger(__name__)


def init_distributed(device_type: str) -> ProcessRank:
    """Join the process group torchrun set up (nccl on CUDA, gloo otherwise)."""
    if not launched_by_torchrun():
        return ProcessRank()
    backend = "nccl" if device_type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    info = ProcessRank(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    log.info("Distributed training: rank %d of %d (%s)", info.rank, info.world_size, backend)
    return info


def barrier(info: ProcessRank) -> None:
    if info.active:
        dist.barrier()


def any_rank(info: ProcessRank, flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on at least one rank."""
    if not info.active:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def broadcast_object(info: ProcessRank, value):
    """Rank 0's ``value`` on every rank."""
    if not info.active:
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def shutdown(info: ProcessRank) -> None:
    if info.active and dist.is_initialized():
        dist.destroy_process_group()
