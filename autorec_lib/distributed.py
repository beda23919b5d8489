"""Data-parallel training with PyTorch's own engine: ``torchrun --nproc-per-node=N -m autorec_lib train``.

torchrun starts N processes and sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (plus the rendezvous
address) in each one's environment. The CLI reads them (:func:`from_env`) and joins the process
group (:func:`init`: gloo on CPU, NCCL on CUDA). Every process then holds the whole model; the
PyTorch learners see the process group, wrap the model in ``DistributedDataParallel`` and train on
their shard of each mini-batch: all processes draw the same seeded permutation of the rows every
epoch and process ``k`` of ``N`` takes rows ``k, k+N, k+2N, …`` of each batch (what
``DistributedSampler`` does over a whole epoch). DDP averages the gradients over the processes, so
each scales its summed error by ``N``; a step then sees the same gradient as one process training
on the whole batch (``--batch-size`` is the global batch). Evaluation runs once, in process 0,
which sends the scores to the others so that all stop at the same epoch; only process 0 prints and
writes results.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class World:
    """Where this process stands: ``rank`` of ``size`` processes, ``local_rank`` on its machine."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env(environ=None) -> World | None:
    """The world torchrun describes in the environment, or ``None`` outside torchrun."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env or "RANK" not in env:
        return None
    return World(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", env["RANK"])))


def init(world: World, device: str = "auto") -> str:
    """Join the process group (gloo on CPU, NCCL when training on CUDA); returns the backend's name.

    On CUDA each process takes the GPU numbered by its ``LOCAL_RANK``.
    """
    import torch
    import torch.distributed as dist

    cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    backend = "nccl" if cuda else "gloo"
    if cuda:
        torch.cuda.set_device(world.local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=world.rank, world_size=world.size)
    return backend


def current() -> World:
    """This process's world when a PyTorch process group is running, else a world of one."""
    if "torch" not in sys.modules:  # no process group without PyTorch; do not import it for MXNet runs
        return World()
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return World()
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))


def from_main(value):
    """Process 0's ``value`` in every process (``value`` is ignored elsewhere); a no-op in a world of one."""
    if current().size == 1:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_sum(value: float) -> float:
    """The sum of ``value`` over all processes (itself in a world of one)."""
    if current().size == 1:
        return value
    import torch
    import torch.distributed as dist

    device = f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return float(tensor.item())


def finish() -> None:
    """Leave the process group, if one is running."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
