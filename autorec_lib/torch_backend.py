"""AutoRec and matrix factorization in PyTorch, with their learners for :func:`training.fit`.

This is the model notebooks 03 and 04 derive, computed the plain way: dense rows of the rating
matrix in, the whole reconstruction out, the objective of :mod:`autorec_lib.objective`. Two doors
lead to faster paths that compute the same objective, each in a module of its own:
:mod:`autorec_lib.sparse` (a CPU's default: sparse ratings in, the loss and gradients at the
rated entries only) and :mod:`autorec_lib.torch_ddp` (several processes under ``torchrun``);
:func:`build_learner` chooses, from ``TrainConfig.inputs`` and the process group.
"""
from __future__ import annotations

from dataclasses import asdict
from functools import cached_property

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import distributed
from .checkpoint import checked_weights
from .config import AutoRecConfig, MFConfig, TrainConfig
from .matrix import RatingMatrix, gather_predictions
from .objective import OutputScale, autorec_loss, masked_sse, weight_penalty

ACTIVATIONS = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh,
               "elu": nn.ELU, "selu": nn.SELU}


def pick_device(name: str = "auto") -> torch.device:
    """CUDA when present (``auto``), else CPU; asking for CUDA without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for, but PyTorch sees no CUDA GPU; use --device cpu or auto")
    return torch.device(name)


class AutoRec(nn.Module):
    """``h(r) = f(W · g(V r + μ) + b)``: I-AutoRec when rows are items, U-AutoRec when rows are users.

    Extra hidden sizes stack more ``g`` layers (the "go deeper" exercise); dropout acts on every
    hidden layer's output.
    """

    def __init__(self, n_inputs: int, hidden=500, encoder: str = "sigmoid", decoder: str = "identity",
                 dropout: float = 0.0):
        super().__init__()
        self.config = AutoRecConfig(n_inputs, hidden, encoder, decoder, dropout)
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in self.config.layer_sizes)
        self.g = ACTIVATIONS[encoder]()
        self.f = ACTIVATIONS[decoder]()
        self.dropout = nn.Dropout(dropout)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        """Reconstructed rows: every hidden layer is ``dropout(g(layer(h)))``, the last is ``f(layer(h))``."""
        h = r
        for layer in self.layers[:-1]:
            h = self.dropout(self.g(layer(h)))
        return self.f(self.layers[-1](h))

    def weight_matrices(self) -> list[torch.Tensor]:
        """The regularised parameters: every weight matrix, no biases."""
        return [layer.weight for layer in self.layers]

    def named_weights(self) -> dict[str, torch.Tensor]:
        names = {}
        for k, layer in enumerate(self.layers):
            names[f"W{k}"], names[f"b{k}"] = layer.weight, layer.bias
        return names


class MF(nn.Module):
    """Matrix factorization: ``p_u · q_i``, plus ``μ + b_u + b_i`` when ``biased``."""

    def __init__(self, n_users: int, n_items: int, n_factors: int = 32, biased: bool = True):
        super().__init__()
        self.config = MFConfig(n_users, n_items, n_factors, biased)
        self.P = nn.Embedding(n_users, n_factors)
        self.Q = nn.Embedding(n_items, n_factors)
        for emb in (self.P, self.Q):
            nn.init.normal_(emb.weight, std=0.1)
        self.bu = nn.Embedding(n_users, 1)
        self.bi = nn.Embedding(n_items, 1)
        for emb in (self.bu, self.bi):
            nn.init.zeros_(emb.weight)
        self.mu = nn.Parameter(torch.zeros(1), requires_grad=False)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        pred = (self.P(users) * self.Q(items)).sum(-1)
        if self.config.biased:
            pred = pred + self.mu + self.bu(users).squeeze(-1) + self.bi(items).squeeze(-1)
        return pred

    def penalised(self, users: torch.Tensor, items: torch.Tensor) -> list[torch.Tensor]:
        """Factors (and biases, when used) of the rated pairs: what the MF penalty acts on."""
        out = [self.P(users), self.Q(items)]
        if self.config.biased:
            out += [self.bu(users), self.bi(items)]
        return out

    def named_weights(self) -> dict[str, torch.Tensor]:
        return {"P": self.P.weight, "Q": self.Q.weight, "bu": self.bu.weight, "bi": self.bi.weight,
                "mu": self.mu}


def get_weights(model: nn.Module) -> dict[str, np.ndarray]:
    """NumPy copies of a model's parameters under the library's framework-neutral names."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.named_weights().items()}


@torch.no_grad()
def set_weights(model: nn.Module, weights: dict[str, np.ndarray]) -> None:
    """Load NumPy arrays (e.g. from MXNet or a checkpoint) into a model, checking every shape."""
    params = model.named_weights()
    for name, value in checked_weights({k: tuple(p.shape) for k, p in params.items()}, weights).items():
        param = params[name]
        param.copy_(torch.from_numpy(value).to(param.device, param.dtype))


def make_optimizer(params, cfg: TrainConfig, fused: bool = False) -> torch.optim.Optimizer:
    """The configured optimizer; ``fused`` picks PyTorch's one-kernel Adam (the same update,
    rounded differently; the sparse path's choice, see :mod:`autorec_lib.sparse`)."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, **({"fused": True} if fused else {}))
    if cfg.optimizer == "rprop":
        return torch.optim.Rprop(params, lr=cfg.lr)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9)


class _TorchLearner:
    """What both PyTorch learners share: weights in and out, the learning rate, the optimizer step."""

    model: nn.Module
    optimizer: torch.optim.Optimizer

    def get_weights(self) -> dict[str, np.ndarray]:
        return get_weights(self.model)

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        set_weights(self.model, weights)

    def set_learning_rate(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def step(self, loss: torch.Tensor) -> None:
        """One optimizer step down the gradient of ``loss``."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


class AutoRecLearner(_TorchLearner):
    """Trains an :class:`AutoRec` on the rows of a :class:`RatingMatrix`, in mini-batches of dense
    rows with their masks (Rprop: full batch).

    ``scale`` is the rating scale, needed when the decoder is bounded (see :class:`OutputScale`).
    """

    def __init__(self, model: AutoRec, matrix: RatingMatrix, cfg: TrainConfig, device: torch.device,
                 scale: tuple[float, float] | None = None):
        self.model, self.matrix, self.cfg, self.device = model.to(device), matrix, cfg, device
        self.output = OutputScale(model.config.decoder, scale)
        self.optimizer = make_optimizer(model.parameters(), cfg)
        self.batch_size = cfg.batch_for(matrix.shape[0])

    @cached_property
    def _on_device(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The whole matrix and mask, dense, on the device, when small enough (batches are indexed from it)."""
        dense = self.matrix.dense_if_small()
        return None if dense is None else tuple(torch.from_numpy(a).to(self.device) for a in dense)

    def rows(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The given rows of the rating matrix, dense, and their 0/1 mask of observed entries."""
        if self._on_device is not None:
            index = torch.from_numpy(rows).to(self.device)
            return self._on_device[0][index], self._on_device[1][index]
        values, mask = self.matrix.dense(rows)
        return torch.from_numpy(values).to(self.device), torch.from_numpy(mask).to(self.device)

    def batch_loss(self, rows: np.ndarray) -> torch.Tensor:
        """The objective on these rows, with their share ``len(rows)/n`` of the weight penalty."""
        r, m = self.rows(rows)
        fraction = len(rows) / self.matrix.shape[0]
        return autorec_loss(self.model(r), self.output.to_decoder(r), m, self.model.weight_matrices(), self.cfg.lam,
                            fraction)

    def train_epoch(self, rng: np.random.Generator) -> float:
        """One pass over the rows in shuffled batches; returns the epoch's objective per rating."""
        self.model.train()
        total = torch.zeros((), device=self.device)
        for rows in self.matrix.batches(self.batch_size, rng):
            loss = self.batch_loss(rows)
            self.step(loss)
            total += loss.detach()
        return float(total) / self.matrix.nnz

    @torch.no_grad()
    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        """The reconstruction of these rows on the rating scale (dropout off)."""
        self.model.eval()
        return self.output.to_rating(self.model(self.rows(rows)[0])).float().cpu().numpy()

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Ratings for (user, item) index pairs, read from the reconstructions of their rows."""
        return gather_predictions(self.reconstruct, self.matrix, users, items)


class MFLearner(_TorchLearner):
    """Trains :class:`MF` on shuffled mini-batches of ratings; λ/2 penalises the rated pairs' factors."""

    def __init__(self, model: MF, train: pd.DataFrame, cfg: TrainConfig, device: torch.device):
        self.model, self.cfg, self.device = model.to(device), cfg, device
        as_tensor = lambda col, dtype: torch.as_tensor(train[col].to_numpy(copy=True), dtype=dtype, device=device)
        self.users, self.items = as_tensor("user", torch.long), as_tensor("item", torch.long)
        self.ratings = as_tensor("rating", torch.float32)
        with torch.no_grad():
            model.mu.fill_(float(train["rating"].mean()))
        self.optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg)
        self.batch_size = cfg.batch_for(len(train))

    def batch_loss(self, index: torch.Tensor) -> torch.Tensor:
        """Squared error of these ratings plus λ/2 times the squared norms of their factors."""
        u, i, r = self.users[index], self.items[index], self.ratings[index]
        return masked_sse(self.model(u, i), r, 1.0) + weight_penalty(self.model.penalised(u, i), self.cfg.lam)

    def train_epoch(self, rng: np.random.Generator) -> float:
        self.model.train()
        order = torch.from_numpy(rng.permutation(len(self.ratings))).to(self.device)
        total = torch.zeros((), device=self.device)
        for start in range(0, len(order), self.batch_size):
            loss = self.batch_loss(order[start:start + self.batch_size])
            self.step(loss)
            total += loss.detach()
        return float(total) / len(self.ratings)

    @torch.no_grad()
    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        self.model.eval()
        u = torch.tensor(users, dtype=torch.long, device=self.device)  # a copy: pandas 3 arrays are read-only
        i = torch.tensor(items, dtype=torch.long, device=self.device)
        return self.model(u, i).cpu().numpy()


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)


def build_model(config: AutoRecConfig | MFConfig) -> nn.Module:
    """A model built from its (bound) config object."""
    if isinstance(config, AutoRecConfig):
        return AutoRec(**asdict(config))
    return MF(**asdict(config))


def build_learner(model: nn.Module, matrix: RatingMatrix | None, train: pd.DataFrame, cfg: TrainConfig,
                  scale: tuple[float, float] | None = None):
    """The learner for ``model`` on ``cfg.device``: AutoRec trains on ``matrix``'s rows, MF on ``train``'s
    ratings. Inside a ``torchrun`` process group, a data-parallel learner (:mod:`autorec_lib.torch_ddp`);
    otherwise AutoRec takes sparse ratings where :func:`sparse.use_sparse_inputs` says so
    (:mod:`autorec_lib.sparse`), else dense rows."""
    from . import sparse

    device = pick_device(cfg.device)
    if distributed.current().size > 1:
        from . import torch_ddp

        return torch_ddp.build_learner(model, matrix, train, cfg, device, scale)
    if not isinstance(model, AutoRec):
        return MFLearner(model, train, cfg, device)
    if sparse.use_sparse_inputs(cfg, matrix.shape, device):
        return sparse.SparseAutoRecLearner(model, matrix, cfg, device, scale)
    return AutoRecLearner(model, matrix, cfg, device, scale)


def device_name(cfg: TrainConfig) -> str:
    device = pick_device(cfg.device)
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
