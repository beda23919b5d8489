"""AutoRec and matrix factorization in PyTorch, with their learners for :func:`training.fit`."""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import asdict
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn.utils import parametrize

from . import distributed
from .checkpoint import checked_weights
from .config import AutoRecConfig, MFConfig, TrainConfig
from .matrix import DENSE_CACHE_LIMIT, RatingMatrix, pair_positions
from .objective import OutputScale, autorec_loss, masked_sse, weight_penalty

# On a GPU, AutoRec learners with inputs="auto" feed rows as sparse ratings only when the rating
# matrix has more than this many entries, else as dense rows from a cached dense matrix (see
# sparse_inputs; on a CPU "auto" always means sparse ratings).
SPARSE_ABOVE = DENSE_CACHE_LIMIT
# On the sparse path, whether the decoder computes only the rated entries (sampled matmul) rather
# than whole rows gathered afterwards; the loss and gradients are the same either way.
OBSERVED_DECODER = True

ACTIVATIONS = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh,
               "elu": nn.ELU, "selu": nn.SELU}


def pick_device(name: str = "auto") -> torch.device:
    """CUDA when present (``auto``), else CPU; asking for CUDA without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was asked for, but PyTorch sees no CUDA GPU; use --device cpu or auto")
    return torch.device(name)


class SparseRows(NamedTuple):
    """A batch of rating rows in CSR form: row ``b``'s ratings are ``values[offsets[b]:offsets[b+1]]``
    at input columns ``cols[...]``; ``rows`` repeats each row's position once per rating.

    With ``by_column=True`` the same ratings are also indexed by column (CSC): column ``j``'s
    ratings are the row-order entries ``col_order[col_offsets[j]:col_offsets[j+1]]``, in rows
    ``col_rows[...]``. Training uses it to compute the large weights' gradients as per-column sums
    (see :func:`rated_sum`, :func:`rated_product`), with no dense temporary.
    """

    offsets: torch.Tensor
    cols: torch.Tensor
    values: torch.Tensor
    rows: torch.Tensor
    col_offsets: torch.Tensor | None = None
    col_rows: torch.Tensor | None = None
    col_order: torch.Tensor | None = None

    @classmethod
    def of(cls, matrix: RatingMatrix, rows: np.ndarray, device: torch.device, by_column: bool = False) -> "SparseRows":
        offsets, cols, values = matrix.sparse(rows)
        by_col = ()
        if by_column:  # SciPy's CSR -> CSC is a counting sort, linear in the ratings
            csc = sp.csr_matrix((np.arange(len(cols)), cols, offsets), shape=(len(rows), matrix.shape[1])).tocsc()
            by_col = (csc.indptr, csc.indices, csc.data)
        as_tensor = lambda a: torch.from_numpy(a.astype(np.int64) if a.dtype.kind == "i" else a).to(device)
        offsets, cols, values, *by_col = (as_tensor(a) for a in (offsets, cols, values, *by_col))
        positions = torch.repeat_interleave(torch.arange(len(rows), device=device), torch.diff(offsets))
        return cls(offsets, cols, values, positions, *by_col)


# Gradient tensors that the sparse products' backward may overwrite instead of allocating new ones,
# keyed by their parameter's data pointer (see :func:`recycled_gradients`).
_SPARE_GRADS: dict[int, torch.Tensor] = {}
# Columns per call when a per-column sum is written into an existing tensor on the CPU: each call's
# output (8192 × 500 floats, 16 MB) stays under glibc's 32 MB ceiling for mapping fresh pages, so it
# reuses heap memory; fewer, larger calls fared better than 2048 or 4096 on a loaded 2-core CPU.
_BAG_CHUNK = 8192


@contextlib.contextmanager
def recycled_gradients(params):
    """Inside the block, :func:`rated_sum` and :func:`rated_product` write these parameters'
    gradients into the tensors now in their ``.grad`` (which is cleared, so autograd takes the
    tensor back as the new gradient without adding to it) instead of into new tensors. On the CPU a
    new ML-10M-sized gradient (71,567 × 500, 143 MB) costs more in page faults than its computation."""
    params = list(params)
    for p in params:
        if p.grad is not None:
            _SPARE_GRADS[p.data_ptr()] = p.grad
            p.grad = None
    try:
        yield
    finally:
        for p in params:
            _SPARE_GRADS.pop(p.data_ptr(), None)


def _column_sums(indices, table, offsets, weights, out_rows: int, key: int | None) -> torch.Tensor:
    """``out[j] = Σ_e weights[e]·table[indices[e]]`` over ``e`` in ``offsets[j]:offsets[j+1]``: a
    sparse (out_rows × len(table)) times dense product, as ``embedding_bag`` sums. Written into the
    spare gradient under ``key`` when there is one on the CPU, in chunks of columns (elsewhere, e.g.
    on CUDA, whose caching allocator makes a new tensor cheap, into a new tensor)."""
    out = _SPARE_GRADS.pop(key, None) if key is not None else None
    if out is None or table.device.type != "cpu" or out.device != table.device or out.dtype != table.dtype \
            or out.shape != (out_rows, table.shape[1]):
        return nn.functional.embedding_bag(indices, table, offsets, mode="sum", per_sample_weights=weights,
                                           include_last_offset=True)
    bounds = offsets[::_BAG_CHUNK].tolist() + [int(offsets[-1])]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # memory-bound: a second thread gains little, and loses much when cores are shared
    try:
        for c, start in enumerate(range(0, out_rows, _BAG_CHUNK)):
            stop, lo, hi = min(start + _BAG_CHUNK, out_rows), bounds[c], bounds[c + 1]
            out[start:stop] = nn.functional.embedding_bag(indices[lo:hi], table, offsets[start:stop + 1] - lo,
                                                          mode="sum", per_sample_weights=weights[lo:hi],
                                                          include_last_offset=True)
    finally:
        torch.set_num_threads(threads)
    return out


def _sampled_matmul(offsets: torch.Tensor, indices: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(a @ b)`` at the entries of a CSR pattern only (row ``i``'s columns ``indices[offsets[i]:offsets[i+1]]``),
    in the pattern's order: ``torch.sparse.sampled_addmm``, ``2·k`` flops an entry."""
    with warnings.catch_warnings():  # "sparse CSR support is in beta": it is used for this one product
        warnings.simplefilter("ignore", UserWarning)
        pattern = torch.sparse_csr_tensor(offsets, indices, torch.zeros(len(indices), dtype=a.dtype, device=a.device),
                                          (a.shape[0], b.shape[1]), check_invariants=False)
        return torch.sparse.sampled_addmm(pattern, a, b).values()


class _RatedSum(torch.autograd.Function):
    """``V r`` for sparse rows, ``V`` given as ``Vᵀ``; its gradient is summed per input column."""

    @staticmethod
    def forward(ctx, weight_t: torch.Tensor, r: SparseRows) -> torch.Tensor:
        ctx.r, ctx.key, ctx.shape = r, weight_t.data_ptr(), weight_t.shape
        return nn.functional.embedding_bag(r.cols, weight_t, r.offsets, mode="sum", per_sample_weights=r.values,
                                           include_last_offset=True)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        r = ctx.r
        # dL/dVᵀ[j] = Σ over column j's ratings of r_bj · dL/d(V r)[b]
        return _column_sums(r.col_rows, grad.contiguous(), r.col_offsets, r.values[r.col_order], ctx.shape[0],
                            ctx.key), None


def rated_sum(weight_t: torch.Tensor, r: SparseRows) -> torch.Tensor:
    """``V r`` (``weight_t`` is ``Vᵀ``, inputs × outputs) for sparse rows that carry their columns
    (``SparseRows.of(..., by_column=True)``), with the gradient of ``Vᵀ`` computed as per-column sums:
    ``2·nnz·k`` flops, no zero-filled dense gradient and no sort."""
    return _RatedSum.apply(weight_t, r)


class _RatedProduct(torch.autograd.Function):
    """``(h Wᵀ + b)`` at the rated entries only; both the product and its gradients cost ``2·nnz·k``."""

    @staticmethod
    def forward(ctx, h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, r: SparseRows) -> torch.Tensor:
        ctx.save_for_backward(h, weight)
        ctx.r, ctx.key = r, weight.data_ptr()
        # sampled by column: (W hᵀ) at the pattern's transpose, so that W is read row by row, in place
        by_column = _sampled_matmul(r.col_offsets, r.col_rows, weight, h.t().contiguous())
        out = torch.empty_like(by_column)
        out[r.col_order] = by_column
        return out + bias[r.cols]

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        h, weight = ctx.saved_tensors
        r = ctx.r
        grad = grad.contiguous()
        grad_h = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # dL/dh[b] = Σ over row b's ratings of g_bj · W[j]
            grad_h = nn.functional.embedding_bag(r.cols, weight, r.offsets, mode="sum", per_sample_weights=grad,
                                                 include_last_offset=True)
        if ctx.needs_input_grad[1]:  # dL/dW[j] = Σ over column j's ratings of g_bj · h[b]
            grad_w = _column_sums(r.col_rows, h.contiguous(), r.col_offsets, grad[r.col_order], weight.shape[0],
                                  ctx.key)
        if ctx.needs_input_grad[2]:
            grad_b = torch.zeros(weight.shape[0], dtype=grad.dtype, device=grad.device).index_add_(0, r.cols, grad)
        return grad_h, grad_w, grad_b, None


def rated_product(h: torch.Tensor, layer: nn.Linear, r: SparseRows) -> torch.Tensor:
    """``layer(h)`` at the rated entries of ``r`` only, in ``r``'s order (``r`` must carry its columns)."""
    return _RatedProduct.apply(h, layer.weight, layer.bias, r)


class _Transposed(nn.Module):
    """Stores a weight ``W`` (outputs × inputs) as ``Wᵀ``, so each input column's weights are one
    contiguous row: what a sparse lookup (``embedding_bag``) reads without copying."""

    def forward(self, stored: torch.Tensor) -> torch.Tensor:
        return stored.t()

    def right_inverse(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.t().contiguous()


def store_input_weight_transposed(model: "AutoRec") -> None:
    """Keep the encoder's ``V`` as ``Vᵀ`` in memory (``model.layers[0].weight`` still reads as ``V``)."""
    layer = model.layers[0]
    if not parametrize.is_parametrized(layer, "weight"):
        parametrize.register_parametrization(layer, "weight", _Transposed())


def stored_weight_matrices(model: "AutoRec") -> list[torch.Tensor]:
    """The weight matrices as the parameters that hold them (``Vᵀ`` where ``V`` is stored transposed)."""
    return [layer.parametrizations.weight.original if parametrize.is_parametrized(layer, "weight") else layer.weight
            for layer in model.layers]


def sparse_linear(layer: nn.Linear, r: SparseRows) -> torch.Tensor:
    """``V r + μ`` for sparse rows: a weighted sum of the rated columns' weights, ``2·nnz·k`` flops."""
    if parametrize.is_parametrized(layer, "weight"):
        weight_t = layer.parametrizations.weight.original
    else:
        weight_t = layer.weight.t().contiguous()  # embedding_bag reads a strided weight many times slower
    if r.col_offsets is not None and torch.is_grad_enabled() and weight_t.requires_grad:
        return rated_sum(weight_t, r) + layer.bias
    summed = nn.functional.embedding_bag(r.cols, weight_t, r.offsets, mode="sum", per_sample_weights=r.values,
                                         include_last_offset=True)
    return summed + layer.bias


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

    def encode(self, r: torch.Tensor | SparseRows) -> torch.Tensor:
        """The last hidden layer's output, from dense rows or from :class:`SparseRows` (the same function)."""
        first = self.layers[0]
        h = self.dropout(self.g(sparse_linear(first, r) if isinstance(r, SparseRows) else first(r)))
        for layer in self.layers[1:-1]:
            h = self.dropout(self.g(layer(h)))
        return h

    def forward(self, r: torch.Tensor | SparseRows) -> torch.Tensor:
        """Reconstructed rows."""
        return self.f(self.layers[-1](self.encode(r)))

    def observed(self, r: SparseRows) -> torch.Tensor:
        """The reconstruction at the rated entries of ``r`` only, in ``r``'s order (same as
        ``self(r)[r.rows, r.cols]``): the decoder's product is sampled at those entries
        (``torch.sparse.sampled_addmm``), so it costs ``2·nnz·k``, not ``2·B·m·k``. When ``r``
        carries its columns, the gradients too are sums over the ratings (:func:`rated_product`);
        otherwise autograd's gradient of the sampled product is a dense ``B × m`` product."""
        h = self.encode(r)
        if r.col_offsets is not None:
            return self.f(rated_product(h, self.layers[-1], r))
        return self.decode_at(h, r.offsets, r.cols)

    def decode_at(self, h: torch.Tensor, offsets: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """The output layer at some entries only: for row ``b`` of ``h``, the columns
        ``cols[offsets[b]:offsets[b+1]]`` (CSR order), by a sampled product (``2·k`` flops each)."""
        last = self.layers[-1]
        return self.f(_sampled_matmul(offsets, cols, h, last.weight.t()) + last.bias[cols])

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
    """The configured optimizer; ``fused`` picks PyTorch's one-kernel Adam (much faster on large
    layers, the same update rounded differently, so off by default to keep the course's numbers)."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, **({"fused": True} if fused else {}))
    if cfg.optimizer == "rprop":
        return torch.optim.Rprop(params, lr=cfg.lr)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9)


class _TorchLearner:
    """What both PyTorch learners share: weights in and out, the optimizer step, and the world.

    Inside a running process group (``torchrun``, see :mod:`autorec_lib.distributed`) ``net`` is
    the model wrapped in ``DistributedDataParallel`` and each process trains on its shard of every
    batch; otherwise ``net`` is the model itself.
    """

    model: nn.Module

    def _join_world(self) -> None:
        self.world = distributed.current()
        self.net = self.model
        if self.world.size > 1:
            ids = [self.device.index or 0] if self.device.type == "cuda" else None
            unused = isinstance(self.model, MF) and not self.model.config.biased  # b_u, b_i sit idle
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids, find_unused_parameters=unused)

    def _shard(self, index):
        """This process's part of a batch: every ``size``-th entry from its rank (all of it alone)."""
        return index if self.world.size == 1 else index[self.world.rank::self.world.size]

    def _epoch_total(self, total: torch.Tensor) -> float:
        """The epoch's summed objective over all processes (each summed its share)."""
        return distributed.all_sum(float(total)) if self.world.size > 1 else float(total)

    def _scaled_step(self, share: torch.Tensor) -> None:
        """Step on this process's share of the batch objective. DDP averages gradients over the
        ``size`` processes, so the share is scaled by ``size``: the step then follows the whole
        batch's gradient, as in one process."""
        self._step(share if self.world.size == 1 else share * self.world.size)

    def get_weights(self) -> dict[str, np.ndarray]:
        return get_weights(self.model)

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        set_weights(self.model, weights)

    def set_learning_rate(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


def sparse_inputs(cfg: TrainConfig, shape: tuple[int, int], device: torch.device) -> bool:
    """Whether AutoRec's rows reach the network as sparse ratings (else dense rows and a mask).

    As ``cfg.inputs`` says; ``auto`` means sparse on a CPU at every size, where it is 2–3× faster
    than dense rows even on ML-100K's 943 × 1682 matrix, 6% full (``scripts/speed.py``). On a GPU,
    whose dense products are fast (not yet measured here), ``auto`` keeps dense rows up to
    :data:`SPARSE_ABOVE` entries.
    """
    if cfg.inputs != "auto":
        return cfg.inputs == "sparse"
    return device.type == "cpu" or shape[0] * shape[1] > SPARSE_ABOVE


class AutoRecLearner(_TorchLearner):
    """Trains an :class:`AutoRec` on the rows of a :class:`RatingMatrix` (Rprop: full batch).

    ``scale`` is the rating scale, needed when the decoder is bounded (see :class:`OutputScale`).
    ``sparse`` (default: as :func:`sparse_inputs` decides from ``cfg.inputs``) feeds the
    encoder sparse rows and takes the loss at the observed entries only, gathered from the
    reconstruction, with no dense target or mask; the objective and its gradients are the same
    as the dense path's, up to float summation order. It also keeps ``V`` transposed in memory
    and, with Adam, uses PyTorch's fused Adam step (the same update, rounded differently), whose
    ``weight_decay``, set to ``λ·B/n`` for each batch, adds the penalty's gradient ``λ·(B/n)·W``
    to the weight matrices' gradients inside the step (Adam's L2 term, exactly the paper's penalty;
    not AdamW's decoupled decay), one pass over the weights fewer.
    """

    def __init__(self, model: AutoRec, matrix: RatingMatrix, cfg: TrainConfig, device: torch.device,
                 scale: tuple[float, float] | None = None, sparse: bool | None = None):
        self.model, self.matrix, self.cfg, self.device = model.to(device), matrix, cfg, device
        self.output = OutputScale(model.config.decoder, scale)
        self.sparse = sparse_inputs(cfg, matrix.shape, device) if sparse is None else sparse
        if self.sparse:
            store_input_weight_transposed(model)
        self._join_world()
        # sparse path with Adam: the penalty's gradient λ·(B/n)·W is added inside the fused Adam step
        # (its weight_decay, set per batch), saving a pass over every weight (see sparse_gradients)
        self._decay_in_step = self.sparse and cfg.optimizer == "adam"
        self.optimizer = make_optimizer(self._param_groups() if self._decay_in_step else model.parameters(), cfg,
                                        fused=self.sparse)
        self.batch_size = cfg.batch_for(matrix.shape[0])
        dense = None if self.sparse else matrix.dense_if_small()
        self._dense = None if dense is None else tuple(torch.from_numpy(a).to(device) for a in dense)

    def _rows(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        if self._dense is not None:
            index = torch.from_numpy(rows).to(self.device)
            return self._dense[0][index], self._dense[1][index]
        values, mask = self.matrix.dense(rows)
        return torch.from_numpy(values).to(self.device), torch.from_numpy(mask).to(self.device)

    def train_epoch(self, rng: np.random.Generator) -> float:
        self.model.train()
        total = torch.zeros((), device=self.device)
        for rows in self.matrix.batches(self.batch_size, rng):
            if self.sparse:
                loss = self.sparse_gradients(rows, penalty_gradient=not self._decay_in_step)
                if self._decay_in_step:
                    self.optimizer.param_groups[0]["weight_decay"] = self.cfg.lam * len(rows) / self.matrix.shape[0]
                self.optimizer.step()
            else:
                self._scaled_step(loss := self.batch_loss(rows))
            total += loss.detach()
        return self._epoch_total(total) / self.matrix.nnz

    def batch_loss(self, rows: np.ndarray) -> torch.Tensor:
        """The objective on these dense rows (their share of the penalty included), for autograd.

        In a process group: this process's shard of the rows, with ``1/size`` of the batch's penalty.
        """
        fraction = len(rows) / self.matrix.shape[0] / self.world.size
        r, m = self._rows(self._shard(rows))
        return autorec_loss(self.net(r), self.output.to_decoder(r), m, self.model.weight_matrices(), self.cfg.lam,
                            fraction)

    def _param_groups(self) -> list[dict]:
        """Group 0: the weight matrices as stored, whose ``weight_decay`` carries the penalty; group 1: the rest."""
        weights = stored_weight_matrices(self.model)
        rest = [p for p in self.model.parameters() if all(p is not w for w in weights)]
        return [{"params": weights, "weight_decay": 0.0}, {"params": rest, "weight_decay": 0.0}]

    def sparse_gradients(self, rows: np.ndarray, penalty_gradient: bool = True) -> torch.Tensor:
        """Fill every parameter's ``.grad`` with the objective's gradient on these rows; return the objective.

        The error term is taken at the rated entries only (no dense target or mask); with
        :data:`OBSERVED_DECODER` the decoder computes only those entries, and the gradients of ``Vᵀ``
        and ``W`` are sums over the ratings written into the previous batch's gradient tensors
        (:func:`recycled_gradients`). The penalty ``λ/2·(B/n)·Σ‖W‖²`` is not in the autograd graph
        (at ML-10M's size its squares and their backward would cost a quarter of the epoch in memory
        traffic): its gradient ``λ·(B/n)·W`` is added to ``.grad`` in place, or, with
        ``penalty_gradient=False``, left to the caller (the training loop lets fused Adam add it as
        ``weight_decay``, the same sum computed inside the step). In a process group the returned
        objective is this process's share (its shard's error, ``1/size`` of the penalty).
        """
        fraction = len(rows) / self.matrix.shape[0]
        observed_decoder = OBSERVED_DECODER and self.world.size == 1
        r = SparseRows.of(self.matrix, self._shard(rows), self.device, by_column=True)
        weights = stored_weight_matrices(self.model)
        with recycled_gradients(weights):
            self.optimizer.zero_grad(set_to_none=True)
            if observed_decoder:
                observed = self.model.observed(r)  # the decoder computes the rated entries only
            else:
                observed = self.net(r)[r.rows, r.cols]  # the whole reconstruction, gathered at the rated entries
            error = masked_sse(observed, self.output.to_decoder(r.values), 1.0)
            (error if self.world.size == 1 else error * self.world.size).backward()
        with torch.no_grad():
            penalty = 0.5 * self.cfg.lam * fraction * sum(torch.dot(w.reshape(-1), w.reshape(-1)) for w in weights)
            if penalty_gradient:
                for w in weights:
                    w.grad.add_(w, alpha=self.cfg.lam * fraction)
        return error.detach() + penalty / self.world.size

    @torch.no_grad()
    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        self.model.eval()
        r = SparseRows.of(self.matrix, rows, self.device) if self.sparse else self._rows(rows)[0]
        return self.output.to_rating(self.model(r)).float().cpu().numpy()

    @torch.no_grad()
    def predict(self, users: np.ndarray, items: np.ndarray, rows_at_once: int = 4096) -> np.ndarray:
        """Ratings for (user, item) index pairs, computed at those entries only.

        Each needed row is encoded from its ratings (``2·nnz·k`` flops, the same function as the
        dense encoder up to float rounding) and the decoder is evaluated at the asked entries
        alone (``2·k`` per pair), instead of reconstructing whole rows (``2·rows·m·k``): scoring
        validation and test every epoch then costs a small fraction of an epoch.
        """
        rows, cols = pair_positions(self.matrix, users, items)
        n_cols = self.matrix.shape[1]
        keys, where = np.unique(rows.astype(np.int64) * n_cols + cols, return_inverse=True)
        key_rows, key_cols = keys // n_cols, keys % n_cols
        needed, first = np.unique(key_rows, return_index=True)
        first = np.append(first, len(keys))
        values = np.empty(len(keys), dtype=np.float32)
        self.model.eval()
        for lo in range(0, len(needed), rows_at_once):
            chunk = needed[lo:lo + rows_at_once]
            a, b = first[lo], first[min(lo + rows_at_once, len(needed))]
            offsets = torch.from_numpy(first[lo:lo + len(chunk) + 1] - a).to(self.device)
            h = self.model.encode(SparseRows.of(self.matrix, chunk, self.device))
            z = self.model.decode_at(h, offsets, torch.from_numpy(key_cols[a:b]).to(self.device))
            values[a:b] = self.output.to_rating(z).float().cpu().numpy()
        return values[where.reshape(-1)]


class MFLearner(_TorchLearner):
    """Trains :class:`MF` on shuffled mini-batches of ratings; λ/2 penalises the rated pairs' factors."""

    def __init__(self, model: MF, train: pd.DataFrame, cfg: TrainConfig, device: torch.device):
        self.model, self.cfg, self.device = model.to(device), cfg, device
        as_tensor = lambda col, dtype: torch.as_tensor(train[col].to_numpy(copy=True), dtype=dtype, device=device)
        self.users, self.items = as_tensor("user", torch.long), as_tensor("item", torch.long)
        self.ratings = as_tensor("rating", torch.float32)
        with torch.no_grad():
            model.mu.fill_(float(train["rating"].mean()))
        self._join_world()
        self.optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg)
        self.batch_size = cfg.batch_for(len(train))

    def train_epoch(self, rng: np.random.Generator) -> float:
        self.model.train()
        order = torch.from_numpy(rng.permutation(len(self.ratings))).to(self.device)
        total = torch.zeros((), device=self.device)
        for start in range(0, len(order), self.batch_size):
            idx = self._shard(order[start:start + self.batch_size])
            u, i, r = self.users[idx], self.items[idx], self.ratings[idx]
            loss = masked_sse(self.net(u, i), r, 1.0) + weight_penalty(self.model.penalised(u, i), self.cfg.lam)
            self._scaled_step(loss)
            total += loss.detach()
        return self._epoch_total(total) / len(self.ratings)

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
    """AutoRec trains on ``matrix``'s rows, MF on ``train``'s ratings, on ``cfg.device``."""
    device = pick_device(cfg.device)
    if isinstance(model, AutoRec):
        return AutoRecLearner(model, matrix, cfg, device, scale)
    return MFLearner(model, train, cfg, device)


def device_name(cfg: TrainConfig) -> str:
    device = pick_device(cfg.device)
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
