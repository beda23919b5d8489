"""The sparse path: AutoRec trained from sparse ratings, its loss and gradients taken at the rated entries only.

This is a faster way to compute what :class:`torch_backend.AutoRecLearner` computes; it is not
another model. It trains the same :class:`torch_backend.AutoRec` on the same objective,

    Σ_rated (f(W·g(V r + μ) + b) − r)²  +  λ/2 · (B/n) · Σ ‖W‖²      (per batch of B of the n rows)

which is :func:`objective.autorec_loss` with the mask written out: the masked squared error is a sum
over the rated entries (:func:`objective.masked_sse` of the reconstruction at those entries, mask 1),
and the penalty's value is :func:`objective.weight_penalty`. Its gradient is added to ``.grad`` by
hand (``λ·(B/n)·W``, which fused Adam then uses as is), so the penalty is not in the autograd graph.
``tests/test_speed_paths.py`` holds the two learners to the same losses, gradients and predictions.

:func:`torch_backend.build_learner` opens this door when :func:`use_sparse_inputs` says so:
``TrainConfig.inputs == "sparse"``, or ``"auto"`` on a CPU (at every size) and on a GPU above
:data:`SPARSE_ABOVE` entries. Where the time goes, on ML-100K's 943 × 1682 matrix (6% rated):

* the encoder reads only the rated entries: ``V r`` is a weighted sum of the rated columns of
  ``V`` (``embedding_bag`` over ``Vᵀ``, stored transposed so that a column is one contiguous row),
  ``2·nnz·k`` flops instead of ``2·B·m·k``;
* the decoder is evaluated at the rated entries only (a sampled product, ``2·k`` per entry);
* the gradients of ``Vᵀ`` and ``W`` are sums over the ratings of each column
  (:class:`_RatedSum`, :class:`_RatedProduct`): no dense ``B × m`` gradient is ever formed;
* PyTorch's fused Adam does the update in one kernel (the same update, rounded differently).

Three more choices are there for speed alone (fused Adam changes the rounding, the other two not
a bit): fused Adam (:class:`SparseAutoRecLearner`), gradient tensors reused from batch to batch
(:class:`GradientBuffers`, :data:`_BAG_CHUNK`) and one thread for the per-column sums
(:func:`_column_sums`). Each stays because removing it alone made the ML-10M-shaped epoch
measurably slower; the figures are beside each. How they were measured (2026-12-05, this
course's shared 2-core AMD EPYC machine, 24 GiB): whole processes, the variant and this code
alternated (A B A B ...), the variant a patched copy of this package put first on ``PYTHONPATH``. At ML-10M's shape one epoch per process, ``python scripts/speed.py --part probe``
(10M synthetic ratings, 71,567 × 10,681, hidden 500, batch 256); at ML-100K's the course's
I-AutoRec, ``python -m autorec_lib train --epochs 20 --patience 20 --no-progress``, the median of
epochs 2–20 per process. "Epoch" ratios are the in-process epoch times; "CPU" ratios are the
whole process's user + system seconds, steadier than wall time on a shared machine. Ratios are
variant ÷ this code: median over the pairs (their range).
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn.utils import parametrize

from .config import TrainConfig
from .matrix import DENSE_CACHE_LIMIT, RatingMatrix, pair_positions
from .objective import masked_sse, weight_penalty
from .torch_backend import AutoRec, AutoRecLearner, make_optimizer

# On a GPU, "auto" feeds rows as sparse ratings only when the matrix has more entries than this
# (dense products are fast there; not yet measured). On a CPU "auto" is sparse at every size.
SPARSE_ABOVE = DENSE_CACHE_LIMIT


def use_sparse_inputs(cfg: TrainConfig, shape: tuple[int, int], device: torch.device) -> bool:
    """Whether AutoRec's rows reach the network as sparse ratings (this module) or as dense rows.

    As ``cfg.inputs`` says; ``auto`` means sparse on a CPU at every size, where it is 2–3× faster
    than dense rows even on ML-100K (``scripts/speed.py``), and on a GPU above :data:`SPARSE_ABOVE`.
    """
    if cfg.inputs != "auto":
        return cfg.inputs == "sparse"
    return device.type == "cpu" or shape[0] * shape[1] > SPARSE_ABOVE


class SparseRows(NamedTuple):
    """A batch of rating rows in CSR form: row ``b``'s ratings are ``values[offsets[b]:offsets[b+1]]``
    at input columns ``cols[...]``; ``rows`` repeats each row's position once per rating.

    With ``by_column=True`` the same ratings are also indexed by column (CSC): column ``j``'s
    ratings are the row-order entries ``col_order[col_offsets[j]:col_offsets[j+1]]``, in rows
    ``col_rows[...]``. Training uses it to compute the large weights' gradients as per-column sums.
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


class GradientBuffers:
    """Last batch's gradient tensors, for the next backward to overwrite instead of allocating anew.

    A learner owns one. Before a backward, :meth:`take` moves each weight's ``.grad`` here (and clears
    it, so that autograd takes the returned tensor as the new gradient instead of adding to the old);
    the backward of :class:`_RatedSum` and :class:`_RatedProduct` then writes the per-column sums into
    the tensor :meth:`pop` hands it. Nothing else may hold that tensor meanwhile: autograd adopts a
    returned gradient only when no other reference to it exists, and copies it otherwise. On the CPU a
    new ML-10M-sized gradient (71,567 × 500, 143 MB) is fresh memory from the kernel, paid for in
    page faults.

    Measured without it (a new gradient every batch, one ``embedding_bag`` call each, same thread
    count; see the module docstring for how), 2026-12-05: at ML-10M's shape, ``OMP_NUM_THREADS=1``,
    6 pairs, load 7.0 → 5.3: epoch 35.7 s against 29.8 s (medians), paired ratio 1.35 (0.81–2.76);
    process CPU 26.6 s against 22.7 s, 1.16 (1.12–1.23), every pair slower, the kernel's share
    7.9 s against 3.0 s (user time 18.7 s against 19.8). Holding the last batch's gradients costs
    memory: a peak RSS of 1.65 GiB with it, 1.53 without. At ML-100K's shape it gains nothing and
    may cost a little (1 thread, 10 pairs, load 10: epoch ratio without it 0.85 (0.62–1.02),
    process CPU 0.97 (0.93–1.01)): kept for the larger sets. Bit for bit the same weights either way.
    """

    def __init__(self):
        self._spare: dict[int, torch.Tensor] = {}

    def take(self, params: list[torch.Tensor]) -> None:
        for p in params:
            if p.grad is not None:
                self._spare[id(p)] = p.grad
                p.grad = None

    def pop(self, param: torch.Tensor) -> torch.Tensor | None:
        """The spare gradient of ``param``, given up (``None`` when there is none)."""
        return self._spare.pop(id(param), None)

    def clear(self) -> None:
        self._spare.clear()


# Columns per call when a per-column sum is written into a reused gradient (GradientBuffers) on the
# CPU: embedding_bag has no output argument, so one call would allocate the whole result anew; each
# chunk's result (8192 × 500 floats, 16 MB) stays under glibc's 32 MB ceiling for mapping fresh
# pages and reuses heap memory. Measured with the reuse, as one trick (GradientBuffers' docstring);
# the size itself was chosen in an earlier round and not measured again.
_BAG_CHUNK = 8192


def _column_sums(indices, table, offsets, weights, out_rows: int, out: torch.Tensor | None) -> torch.Tensor:
    """``out[j] = Σ_e weights[e]·table[indices[e]]`` over ``e`` in ``offsets[j]:offsets[j+1]``: a
    sparse (out_rows × len(table)) times dense product, as ``embedding_bag`` sums. Written into
    ``out`` (a spare gradient) when one fits, on the CPU, in chunks of columns, with one thread;
    otherwise (e.g. on CUDA, whose caching allocator makes a new tensor cheap) into a new tensor.

    One thread, whatever the process's count: these sums are bound by memory, and on this shared
    CPU a second thread made them slower, not faster. Measured against running them with the
    process's default count (2 here; module docstring for how), 2026-12-05: at ML-10M's
    shape, 5 pairs, load 3.5 → 4.5: epoch 56.9 s against 30.2 s (medians), paired ratio 1.80
    (1.07–2.57); process CPU 39.8 s against 32.2 s, 1.27 (1.21–1.31). At ML-100K's shape no
    difference beyond the noise (8 pairs, load 8.5: epoch ratio 0.85 (0.27–2.49), process CPU
    1.06 (0.80–1.46)). The same weights bit for bit either way (8 training settings compared at 2 threads).
    """
    if out is None or table.device.type != "cpu" or out.device != table.device or out.dtype != table.dtype \
            or out.shape != (out_rows, table.shape[1]):
        return nn.functional.embedding_bag(indices, table, offsets, mode="sum", per_sample_weights=weights,
                                           include_last_offset=True)
    bounds = offsets[::_BAG_CHUNK].tolist() + [int(offsets[-1])]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see the docstring: measured 1.27× the CPU time at ML-10M's shape without it
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
    def forward(ctx, weight_t: torch.Tensor, r: SparseRows, buffers: GradientBuffers) -> torch.Tensor:
        ctx.r, ctx.buffers, ctx.weight_t = r, buffers, weight_t
        return nn.functional.embedding_bag(r.cols, weight_t, r.offsets, mode="sum", per_sample_weights=r.values,
                                           include_last_offset=True)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        r = ctx.r
        # dL/dVᵀ[j] = Σ over column j's ratings of r_bj · dL/d(V r)[b]
        weight_t = ctx.weight_t
        return _column_sums(r.col_rows, grad.contiguous(), r.col_offsets, r.values[r.col_order], weight_t.shape[0],
                            ctx.buffers.pop(weight_t)), None, None


class _RatedProduct(torch.autograd.Function):
    """``(h Wᵀ + b)`` at the rated entries only; both the product and its gradients cost ``2·nnz·k``."""

    @staticmethod
    def forward(ctx, h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, r: SparseRows,
                buffers: GradientBuffers) -> torch.Tensor:
        ctx.save_for_backward(h, weight)
        ctx.r, ctx.buffers, ctx.weight = r, buffers, weight
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
                                  ctx.buffers.pop(ctx.weight))
        if ctx.needs_input_grad[2]:
            grad_b = torch.zeros(weight.shape[0], dtype=grad.dtype, device=grad.device).index_add_(0, r.cols, grad)
        return grad_h, grad_w, grad_b, None, None


class _Transposed(nn.Module):
    """Stores a weight ``W`` (outputs × inputs) as ``Wᵀ``, so each input column's weights are one
    contiguous row: what a sparse lookup (``embedding_bag``) reads without copying."""

    def forward(self, stored: torch.Tensor) -> torch.Tensor:
        return stored.t()

    def right_inverse(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.t().contiguous()


def store_input_weight_transposed(model: AutoRec) -> None:
    """Keep the encoder's ``V`` as ``Vᵀ`` in memory (``model.layers[0].weight`` still reads as ``V``)."""
    layer = model.layers[0]
    if not parametrize.is_parametrized(layer, "weight"):
        parametrize.register_parametrization(layer, "weight", _Transposed())


def stored_weight_matrices(model: AutoRec) -> list[torch.Tensor]:
    """The weight matrices as the parameters that hold them (``Vᵀ`` where ``V`` is stored transposed)."""
    return [layer.parametrizations.weight.original if parametrize.is_parametrized(layer, "weight") else layer.weight
            for layer in model.layers]


def _dot_norm(w: torch.Tensor) -> torch.Tensor:
    """‖W‖²_F as one dot product of the flattened weight (``(w ** 2).sum()`` would allocate a copy of W)."""
    flat = w.reshape(-1)
    return torch.dot(flat, flat)


def _input_weight_t(layer: nn.Linear) -> torch.Tensor:
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight.t().contiguous()  # embedding_bag reads a strided weight many times slower


def encode(model: AutoRec, r: SparseRows, buffers: GradientBuffers | None = None) -> torch.Tensor:
    """The last hidden layer's output for sparse rows: the model's encoder, its first product
    computed from the rated entries (``V r + μ``: a weighted sum of the rated columns of ``V``).
    With ``buffers`` (training; ``r`` made ``by_column``) the gradient of ``Vᵀ`` is a per-column sum."""
    first = model.layers[0]
    weight_t = _input_weight_t(first)
    if buffers is not None:
        summed = _RatedSum.apply(weight_t, r, buffers)
    else:
        summed = nn.functional.embedding_bag(r.cols, weight_t, r.offsets, mode="sum", per_sample_weights=r.values,
                                             include_last_offset=True)
    h = model.dropout(model.g(summed + first.bias))
    for layer in model.layers[1:-1]:
        h = model.dropout(model.g(layer(h)))
    return h


def decode_at(model: AutoRec, h: torch.Tensor, offsets: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """The output layer at some entries only: for row ``b`` of ``h``, the columns
    ``cols[offsets[b]:offsets[b+1]]`` (CSR order), by a sampled product (``2·k`` flops each)."""
    last = model.layers[-1]
    return model.f(_sampled_matmul(offsets, cols, h, last.weight.t()) + last.bias[cols])


class SparseAutoRecLearner(AutoRecLearner):
    """Trains an :class:`~autorec_lib.torch_backend.AutoRec` from sparse ratings (see the module's docstring); the same model,
    objective and updates as :class:`~autorec_lib.torch_backend.AutoRecLearner`, up to float rounding.

    It keeps ``V`` transposed in memory (``model.layers[0].weight`` still reads as ``V``), steps with
    fused Adam, and owns the :class:`GradientBuffers` its backward writes into.

    Fused Adam (``make_optimizer(..., fused=True)``; with SGD or Rprop there is none) reads and
    writes each weight and its moments once per step where the default (``foreach``) Adam makes
    several passes; it rounds differently, so the course's recorded numbers depend on it. Measured
    against the default Adam (module docstring for how), 2026-12-05, ``OMP_NUM_THREADS=1``: at
    ML-10M's shape, 6 pairs, load 5.3 → 3.5: epoch 41.9 s against 17.3 s (medians), paired ratio
    2.47 (1.95–3.20); process CPU 1.67 (1.62–1.75); peak RSS 2.05 GiB against 1.66. At ML-100K's
    shape, 10 pairs, load 9: epoch 0.138 s against 0.118, paired ratio 1.22 (0.99–1.93); process
    CPU 1.05 (1.01–1.08).
    """

    def __init__(self, model: AutoRec, matrix: RatingMatrix, cfg: TrainConfig, device: torch.device,
                 scale: tuple[float, float] | None = None):
        super().__init__(model, matrix, cfg, device, scale)
        store_input_weight_transposed(model)  # replaces V's parameter by Vᵀ's: build the optimizer after
        self.weights = stored_weight_matrices(model)
        self.optimizer = make_optimizer(model.parameters(), cfg, fused=True)
        self.buffers = GradientBuffers()

    def train_epoch(self, rng: np.random.Generator) -> float:
        self.model.train()
        total = torch.zeros((), device=self.device)
        for rows in self.matrix.batches(self.batch_size, rng):
            total += self.gradients(rows)
            self.optimizer.step()
        return float(total) / self.matrix.nnz

    def gradients(self, rows: np.ndarray) -> torch.Tensor:
        """Fill every parameter's ``.grad`` with the objective's gradient on these rows; return the objective.

        The error is taken at the rated entries only, the decoder computing only those; the penalty
        ``λ/2·(B/n)·Σ‖W‖²`` stays out of the autograd graph (at ML-10M's size its squares and their
        backward would cost a quarter of the epoch in memory traffic): its gradient ``λ·(B/n)·W`` is
        added to ``.grad`` in place.
        """
        fraction = len(rows) / self.matrix.shape[0]
        r = SparseRows.of(self.matrix, rows, self.device, by_column=True)
        self.buffers.take(self.weights)
        self.optimizer.zero_grad(set_to_none=True)
        h = encode(self.model, r, self.buffers)
        last = self.model.layers[-1]
        at_rated = self.model.f(_RatedProduct.apply(h, last.weight, last.bias, r, self.buffers))
        error = masked_sse(at_rated, self.output.to_decoder(r.values), 1.0)
        error.backward()
        self.buffers.clear()
        with torch.no_grad():
            for w in self.weights:
                w.grad.add_(w, alpha=self.cfg.lam * fraction)
            return error.detach() + weight_penalty(self.weights, self.cfg.lam, fraction, norm=_dot_norm)

    @torch.no_grad()
    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        self.model.eval()
        h = encode(self.model, SparseRows.of(self.matrix, rows, self.device))
        return self.output.to_rating(self.model.f(self.model.layers[-1](h))).float().cpu().numpy()

    @torch.no_grad()
    def predict(self, users: np.ndarray, items: np.ndarray, rows_at_once: int = 4096) -> np.ndarray:
        """Ratings for (user, item) index pairs, computed at those entries only.

        Each needed row is encoded from its ratings (``2·nnz·k`` flops) and the decoder is evaluated
        at the asked entries alone (``2·k`` per pair), instead of reconstructing whole rows
        (``2·rows·m·k``): scoring validation and test every epoch then costs a small fraction of an epoch.
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
            h = encode(self.model, SparseRows.of(self.matrix, chunk, self.device))
            z = decode_at(self.model, h, offsets, torch.from_numpy(key_cols[a:b]).to(self.device))
            values[a:b] = self.output.to_rating(z).float().cpu().numpy()
        return values[where.reshape(-1)]
