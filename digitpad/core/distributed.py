"""Training across processes with torch.distributed: ``torchrun --nproc-per-node N -m digitpad train``.

torchrun starts N copies of the command and tells each its place through the environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``). ``Group.from_env``
reads that and joins the process group: gloo on the CPU, nccl on CUDA, each rank on its own GPU.
The Trainer then wraps its model in DistributedDataParallel and each rank trains on its share of
every global batch, so N processes with batch B take the same steps as one process with batch B.
Rank 0 alone evaluates, prints and writes the checkpoint. Without torchrun nothing here is used.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Group:
    """This process's place among the training processes (``Group.single()`` when there is one)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def single(cls) -> "Group":
        return cls()

    @classmethod
    def from_env(cls, device_preference: str = "auto") -> "Group":
        """Join the process group torchrun described in the environment, or a group of one."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size <= 1:
            return cls.single()
        group = cls(
            int(os.environ["RANK"]),
            world_size,
            int(os.environ.get("LOCAL_RANK", "0")),
            int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size))),
        )
        if not dist.is_initialized():
            use_cuda = torch.cuda.is_available() and device_preference in ("auto", "cuda")
            if use_cuda:
                torch.cuda.set_device(group.local_rank)
            dist.init_process_group(backend="nccl" if use_cuda else "gloo")
        return group

    def device(self, preference: str = "auto") -> str:
        """The device this rank trains on: its own GPU under nccl, else the CPU."""
        if dist.is_initialized() and dist.get_backend() == "nccl":
            return f"cuda:{self.local_rank}"
        return "cpu" if preference == "auto" else preference

    def cpu_threads(self) -> int:
        """The machine's cores shared out between the ranks on it."""
        return max(1, (os.cpu_count() or 1) // self.local_world_size)

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when ``flag`` is true on any: a stop on one rank stops them all together."""
        if not self.active:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def shard(self, batch_index: torch.Tensor) -> torch.Tensor:
        """This rank's share of one global batch (every rank holds the same permutation)."""
        return batch_index[self.rank :: self.world_size] if self.active else batch_index

    def main_first(self, load):
        """``load()`` on rank 0 first (it may download and cache), then on the others (from the cache)."""
        if not self.active:
            return load()
        if self.is_main:
            try:
                return load()
            finally:
                dist.barrier()  # also on failure: the others then fail on their own load, not hang
        dist.barrier()
        return load()

    def close(self) -> None:
        """Leave the group together: the other ranks wait here while rank 0 evaluates and saves.
        A rank that tore its group down alone aborted in gloo ("terminate called without an active
        exception"), seen when the machine was busy."""
        if self.active and dist.is_initialized():
            dist.barrier()
            # A DDP model left in a reference cycle keeps the gloo group alive past its destruction
            # until interpreter exit, where tearing down its threads can abort: collect it first.
            gc.collect()
            dist.destroy_process_group()
