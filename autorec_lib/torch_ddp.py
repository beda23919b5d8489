"""Data-parallel learners for ``torchrun``: each process trains on its shard of every batch.

:func:`torch_backend.build_learner` opens this door inside a running process group (see
:mod:`autorec_lib.distributed` for how ``torchrun`` starts it). Each learner here is the plain
learner with three changes: the model is wrapped in ``DistributedDataParallel``, whose backward
averages the gradients over the processes; a batch's loss is this process's shard of it (every
``size``-th entry from its rank, as ``DistributedSampler`` does), scaled by ``size`` for the step so
that the averaged gradient is the whole batch's, as in one process; and the epoch's loss is summed
over the processes. Each shard carries its own share ``len(shard)/n`` of AutoRec's weight penalty, so
the shares add up to the batch's.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import distributed
from .config import TrainConfig
from .matrix import RatingMatrix
from .objective import autorec_loss, masked_sse, weight_penalty
from .torch_backend import MF, AutoRec, AutoRecLearner, MFLearner


class _DataParallel:
    """What both data-parallel learners add to a plain one (which they come before in the bases)."""

    def _join_world(self) -> None:
        self.world = distributed.current()
        ids = [self.device.index or 0] if self.device.type == "cuda" else None
        unused = isinstance(self.model, MF) and not self.model.config.biased  # b_u, b_i sit idle
        self.ddp = nn.parallel.DistributedDataParallel(self.model, device_ids=ids, find_unused_parameters=unused)

    def shard(self, index):
        """This process's part of a batch: every ``size``-th entry from its rank."""
        return index[self.world.rank::self.world.size]

    def step(self, share: torch.Tensor) -> None:
        super().step(share * self.world.size)  # DDP averages over the processes: the sum is the batch's

    def train_epoch(self, rng: np.random.Generator) -> float:
        return distributed.all_sum(super().train_epoch(rng))


class DistributedAutoRecLearner(_DataParallel, AutoRecLearner):
    """:class:`~autorec_lib.torch_backend.AutoRecLearner` on this process's shard of every batch (dense rows)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._join_world()

    def batch_loss(self, rows: np.ndarray) -> torch.Tensor:
        shard = self.shard(rows)
        r, m = self.rows(shard)
        return autorec_loss(self.ddp(r), self.output.to_decoder(r), m, self.model.weight_matrices(), self.cfg.lam,
                            len(shard) / self.matrix.shape[0])


class DistributedMFLearner(_DataParallel, MFLearner):
    """:class:`~autorec_lib.torch_backend.MFLearner` on this process's shard of every batch."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._join_world()

    def batch_loss(self, index: torch.Tensor) -> torch.Tensor:
        shard = self.shard(index)
        u, i, r = self.users[shard], self.items[shard], self.ratings[shard]
        return masked_sse(self.ddp(u, i), r, 1.0) + weight_penalty(self.model.penalised(u, i), self.cfg.lam)


def build_learner(model: nn.Module, matrix: RatingMatrix | None, train: pd.DataFrame, cfg: TrainConfig,
                  device: torch.device, scale: tuple[float, float] | None = None):
    """The data-parallel learner for ``model``; AutoRec takes dense rows (the sparse path runs in one process)."""
    if not isinstance(model, AutoRec):
        return DistributedMFLearner(model, train, cfg, device)
    if cfg.inputs == "sparse":
        raise ValueError("inputs='sparse' trains in one process; under torchrun AutoRec takes dense rows: "
                         "use --inputs dense or auto")
    return DistributedAutoRecLearner(model, matrix, cfg, device, scale)
