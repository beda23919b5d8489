"""AutoRec and matrix factorization in MXNet Gluon (hybridized), mirroring :mod:`torch_backend`.

MXNet 1.9.1 is the last release (the project is retired) and needs NumPy < 1.24. Load it with
``backends.get("mxnet")``, which names the install extra when MXNet is missing.
"""
from __future__ import annotations

import ctypes
import math
import os
import sys
from dataclasses import asdict

import numpy as np
import pandas as pd


def _openmp():
    """The process's GNU OpenMP runtime (shared by MXNet and PyTorch's Linux wheels), or ``None``."""
    try:
        return ctypes.CDLL("libgomp.so.1")
    except OSError:
        return None


def openmp_default_threads() -> int:
    """OpenMP's thread count in a fresh process: ``OMP_NUM_THREADS`` when set, else the usable CPUs."""
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if first.isdigit() and int(first) > 0:
        return int(first)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _import_mxnet_keeping_threads():
    """``import mxnet`` without letting it change the process's OpenMP (and so PyTorch's) thread count.

    Without ``OMP_NUM_THREADS``, MXNet's engine halves the CPU count (assuming hyper-threading)
    and calls ``omp_set_num_threads`` on the one OpenMP runtime the process shares, so on a
    2-core machine PyTorch dropped from 2 threads to 1 once MXNet was imported, in either order.
    The count is read before the import and put back after it; when MXNet was already imported
    (by the caller), OpenMP's fresh-process default is put back instead. MXNet's own operators
    keep the count its engine computed for them.
    """
    omp = _openmp()
    already = "mxnet" in sys.modules
    before = openmp_default_threads() if already or omp is None else omp.omp_get_max_threads()
    torch_before = sys.modules["torch"].get_num_threads() if "torch" in sys.modules and not already else before
    import mxnet  # without MXNet, backends.get("mxnet") turns this ImportError into one clear message

    if omp is not None:
        omp.omp_set_num_threads(before)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(torch_before)
    return mxnet


mx = _import_mxnet_keeping_threads()
from mxnet import autograd, gluon, nd  # noqa: E402

from .checkpoint import checked_weights
from .config import AutoRecConfig, MFConfig, TrainConfig
from .matrix import RatingMatrix, gather_predictions
from .objective import OutputScale, weight_penalty


def activation(F, name: str, x):
    """The named activation with MXNet operators (same definitions as PyTorch's)."""
    if name == "identity":
        return x
    if name in ("sigmoid", "relu", "tanh"):
        return getattr(F, name)(x)
    if name == "elu":
        return F.LeakyReLU(x, act_type="elu", slope=1.0)
    return F.LeakyReLU(x, act_type="selu")


def pick_context(name: str = "auto") -> "mx.Context":
    """The GPU context when MXNet sees a GPU (``auto``), else the CPU: never an empty list."""
    gpus = mx.context.num_gpus()
    if name == "auto":
        return mx.gpu(0) if gpus > 0 else mx.cpu()
    if name.startswith("cuda"):
        if gpus == 0:
            raise RuntimeError(f"device {name!r} was asked for, but MXNet sees no GPU "
                               "(the PyPI mxnet wheel is CPU-only; GPU builds are mxnet-cu11x)")
        return mx.gpu(int(name.partition(":")[2] or 0))
    return mx.cpu()


def _torch_like_init(fan_in: int):
    """PyTorch's ``nn.Linear`` default, U(-1/√fan_in, 1/√fan_in), so both frameworks start alike."""
    return mx.init.Uniform(1.0 / math.sqrt(fan_in))


class AutoRec(gluon.HybridBlock):
    """``h(r) = f(W · g(V r + μ) + b)`` as a Gluon HybridBlock; same options as the PyTorch class."""

    def __init__(self, n_inputs: int, hidden=500, encoder: str = "sigmoid", decoder: str = "identity",
                 dropout: float = 0.0):
        super().__init__()
        self.config = AutoRecConfig(n_inputs, hidden, encoder, decoder, dropout)
        with self.name_scope():
            self.layers = gluon.nn.HybridSequential()
            for fan_in, fan_out in self.config.layer_sizes:
                init = _torch_like_init(fan_in)
                self.layers.add(gluon.nn.Dense(fan_out, in_units=fan_in, weight_initializer=init,
                                               bias_initializer=init))
            self.dropout = gluon.nn.Dropout(dropout)

    def hybrid_forward(self, F, r):
        h = r
        n = len(self.layers)
        for k in range(n - 1):
            h = self.dropout(activation(F, self.config.encoder, self.layers[k](h)))
        return activation(F, self.config.decoder, self.layers[n - 1](h))

    def weight_matrices(self, ctx=None) -> list:
        """The weight matrices (their copies on ``ctx`` when the model lives on several contexts)."""
        return [layer.weight.data(ctx) for layer in self.layers]

    def named_weights(self) -> dict:
        names = {}
        for k, layer in enumerate(self.layers):
            names[f"W{k}"], names[f"b{k}"] = layer.weight, layer.bias
        return names


class MF(gluon.HybridBlock):
    """Matrix factorization ``p_u · q_i`` (+ ``μ + b_u + b_i`` when ``biased``) in Gluon."""

    def __init__(self, n_users: int, n_items: int, n_factors: int = 32, biased: bool = True):
        super().__init__()
        self.config = MFConfig(n_users, n_items, n_factors, biased)
        with self.name_scope():
            normal = mx.init.Normal(0.1)
            self.P = gluon.nn.Embedding(n_users, n_factors, weight_initializer=normal)
            self.Q = gluon.nn.Embedding(n_items, n_factors, weight_initializer=normal)
            self.bu = gluon.nn.Embedding(n_users, 1, weight_initializer=mx.init.Zero())
            self.bi = gluon.nn.Embedding(n_items, 1, weight_initializer=mx.init.Zero())
            self.mu = self.params.get("mu", shape=(1,), init=mx.init.Zero(), grad_req="null")
        if not biased:  # kept (zero) so both frameworks share one weight layout, but never trained
            for emb in (self.bu, self.bi):
                emb.weight.grad_req = "null"

    def hybrid_forward(self, F, users, items, mu):
        # p_u · q_i as a matrix-vector product with ones: MXNet's sum(axis=-1) (and batch_dot) are slower
        pred = F.dot(self.P(users) * self.Q(items), F.ones((self.config.n_factors,)))
        bias = self.bu(users).reshape((-1,)) + self.bi(items).reshape((-1,))
        if not self.config.biased:  # unused, but referenced so Gluon sees every parameter in the graph
            return F.broadcast_add(pred + 0 * bias, 0 * mu)
        return F.broadcast_add(pred + bias, mu)

    def penalised(self, users, items) -> list:
        out = [self.P(users), self.Q(items)]
        if self.config.biased:
            out += [self.bu(users), self.bi(items)]
        return out

    def named_weights(self) -> dict:
        return {"P": self.P.weight, "Q": self.Q.weight, "bu": self.bu.weight, "bi": self.bi.weight,
                "mu": self.mu}


def get_weights(model) -> dict[str, np.ndarray]:
    """NumPy copies of a model's parameters under the framework-neutral names."""
    return {k: p.data().asnumpy().copy() for k, p in model.named_weights().items()}


def set_weights(model, weights: dict[str, np.ndarray]) -> None:
    """Load NumPy arrays (from PyTorch or a checkpoint) into a Gluon model, checking shapes."""
    params = model.named_weights()
    for name, value in checked_weights({k: tuple(p.shape) for k, p in params.items()}, weights).items():
        param = params[name]
        param.set_data(nd.array(value, ctx=param.list_ctx()[0]))


class Rprop:
    """Resilient backpropagation (iRprop−, as ``torch.optim.Rprop``), which MXNet lacks.

    ``wd`` (set by the learners, as on a Gluon optimizer) adds ``wd · wd_mult · w`` to each gradient.
    """

    def __init__(self, params, lr: float, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0)):
        self.params = [p for p in params if p.grad_req != "null"]
        self.etas, self.bounds = etas, step_sizes
        self.wd = 0.0
        self.prev = [nd.zeros(p.shape, ctx=p.list_ctx()[0]) for p in self.params]
        self.steps = [nd.full(p.shape, lr, ctx=p.list_ctx()[0]) for p in self.params]

    def step(self, _batch_size: int = 1) -> None:
        for k, p in enumerate(self.params):
            grad = p.grad()
            if self.wd * p.wd_mult:
                grad = grad + (self.wd * p.wd_mult) * p.data()
            sign = nd.sign(grad * self.prev[k])
            step = self.steps[k]
            step = nd.where(sign > 0, nd.minimum(step * self.etas[1], self.bounds[1]), step)
            step = nd.where(sign < 0, nd.maximum(step * self.etas[0], self.bounds[0]), step)
            grad = nd.where(sign < 0, nd.zeros_like(grad), grad)
            p.data()[:] = p.data() - nd.sign(grad) * step
            self.steps[k], self.prev[k] = step, grad


def make_trainer(model, cfg: TrainConfig):
    if cfg.optimizer == "rprop":
        return Rprop(model.collect_params().values(), cfg.lr)
    options = {"learning_rate": cfg.lr}
    if cfg.optimizer == "sgd":
        options["momentum"] = 0.9
    return gluon.Trainer(model.collect_params(), cfg.optimizer, options)


def _optimizer(trainer):
    """The object whose ``wd`` a step reads: the Gluon trainer's optimizer, or the library's Rprop."""
    return trainer if isinstance(trainer, Rprop) else trainer.optimizer


def _squared_norm(x, F=nd):
    """``Σ x²`` as one dot product of the flattened array (MXNet's ``sum`` is several times slower);
    ``F`` is ``nd``, or the operator namespace a hybridized block is given."""
    flat = x.reshape((-1,))
    return F.dot(flat, flat)


class _MXLearner:
    model: gluon.HybridBlock

    def get_weights(self) -> dict[str, np.ndarray]:
        return get_weights(self.model)

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        set_weights(self.model, weights)

    def set_learning_rate(self, lr: float) -> None:
        self.trainer.set_learning_rate(lr)  # a Gluon trainer (the config refuses a schedule with Rprop)


class AutoRecLearner(_MXLearner):
    """Trains a Gluon :class:`AutoRec` on the rows of a :class:`RatingMatrix` (``scale``: as in PyTorch).

    Each step takes the same objective as :func:`objective.autorec_loss` with fewer operators:
    the reconstruction's gradient ``2·E`` (``E`` the masked residual) is fed to ``backward``
    directly, and the penalty's gradient ``λ·(B/n)·W`` is the optimizer's weight decay (``wd``,
    added to the gradient inside Adam's and SGD's fused update; biases get none), which is the
    same update. Squared norms are dot products. An epoch's rows are taken from the dense
    matrix once, in batch order, and each batch is a slice of them.

    ``ctx`` may be a list of contexts (e.g. ``[mx.gpu(0), mx.gpu(1)]``): data parallelism, Gluon's
    way. The model is copied to every context, each batch is cut into one slice per context
    (``split_and_load``), each copy computes its slice's gradients, and the trainer sums the
    gradients over the copies before one update, so a step follows the whole batch (Adam and
    SGD; the library's Rprop runs on one context only).
    """

    def __init__(self, model: AutoRec, matrix: RatingMatrix, cfg: TrainConfig, ctx,
                 scale: tuple[float, float] | None = None):
        self.contexts = list(ctx) if isinstance(ctx, (list, tuple)) else [ctx]
        if len(self.contexts) > 1:
            if cfg.optimizer == "rprop":
                raise ValueError("data parallelism over several contexts needs a Gluon optimizer (adam or sgd), "
                                 "not the library's Rprop")
            model.collect_params().reset_ctx(self.contexts)
        self.model, self.matrix, self.cfg, self.ctx = model, matrix, cfg, self.contexts[0]
        ctx = self.ctx
        self.output = OutputScale(model.config.decoder, scale)
        for name, param in model.named_weights().items():  # the penalty (weight decay) spares the biases
            param.wd_mult = 0.0 if name.startswith("b") else 1.0
        self.trainer = make_trainer(model, cfg)
        self.batch_size = cfg.batch_for(matrix.shape[0])
        dense = matrix.dense_if_small()
        self._dense = None if dense is None else tuple(nd.array(a, ctx=ctx) for a in dense)

    def rows(self, rows: np.ndarray, with_mask: bool = True):
        """The given rows of the rating matrix, dense, and (``with_mask``) their 0/1 mask of observed entries."""
        if self._dense is not None:
            index = nd.array(rows, ctx=self.ctx, dtype="int64")
            values = nd.take(self._dense[0], index)
            return (values, nd.take(self._dense[1], index)) if with_mask else values
        values, mask = self.matrix.dense(rows)
        values = nd.array(values, ctx=self.ctx)
        return (values, nd.array(mask, ctx=self.ctx)) if with_mask else values

    def train_epoch(self, rng: np.random.Generator) -> float:
        n_rows = self.matrix.shape[0]
        batches = list(self.matrix.batches(self.batch_size, rng))
        if self._dense is not None:  # the epoch's rows in batch order, taken once; batches are slices
            values, mask = self.rows(np.concatenate(batches))
        total = nd.zeros((1,), ctx=self.ctx, dtype="float64")  # summed on the context: no sync per batch
        start = 0
        for rows in batches:
            stop = start + len(rows)
            r, m = (values[start:stop], mask[start:stop]) if self._dense is not None else self.rows(rows)
            start = stop
            fraction = len(rows) / n_rows
            _optimizer(self.trainer).wd = self.cfg.lam * fraction
            penalty = weight_penalty(self.model.weight_matrices(self.ctx), self.cfg.lam, fraction,
                                     norm=_squared_norm)  # before the step
            error = self._parallel_gradients(r, m) if len(self.contexts) > 1 else self._gradients(r, m)
            self.trainer.step(1)
            total += (error + penalty).astype("float64")
        return float(total.asscalar()) / self.matrix.nnz

    def _gradients(self, r, m):
        """Backpropagate the masked squared error of rows ``r`` (mask ``m``); return it."""
        with autograd.record():
            out = self.model(r)
        residual = (out - self.output.to_decoder(r)) * m
        out.backward(2 * residual)
        return _squared_norm(residual)

    def _parallel_gradients(self, r, m):
        """The masked squared error's gradients on a batch cut into a slice per context; returns the error."""
        slices = [gluon.utils.split_and_load(a, self.contexts, even_split=False) for a in (r, m)]
        with autograd.record():
            outs = [self.model(x) for x in slices[0]]
        residuals = [(out - self.output.to_decoder(x)) * mask for out, x, mask in zip(outs, *slices)]
        autograd.backward(outs, [2 * e for e in residuals])
        return nd.add_n(*(_squared_norm(e).as_in_context(self.ctx) for e in residuals))

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        """The reconstruction of these rows on the rating scale (the ratings alone: no mask is needed)."""
        return self.output.to_rating(self.model(self.rows(rows, with_mask=False))).asnumpy()

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return gather_predictions(self.reconstruct, self.matrix, users, items)


class MFObjective(gluon.HybridBlock):
    """A batch's MF objective, ``Σ (p̂ − r)² + λ/2 · Σ ‖penalised rows‖²``, as one hybridized graph
    (the model's operators and the loss's, run as one cached graph; squared norms as dot products)."""

    def __init__(self, model: MF, lam: float):
        super().__init__()
        self.model, self.lam = model, lam

    def hybrid_forward(self, F, users, items, ratings):
        squares = [_squared_norm(x, F)
                   for x in (self.model(users, items) - ratings, *self.model.penalised(users, items))]
        return squares[0] + 0.5 * self.lam * F.add_n(*squares[1:])


class MFLearner(_MXLearner):
    """Trains Gluon :class:`MF` on shuffled mini-batches of ratings.

    The ratings live on the context as NDArrays once; each epoch takes them in shuffled order
    with one ``take``, and each batch is a slice of that (indices are float32, as Gluon's
    ``Embedding`` takes them). A step runs :class:`MFObjective`, hybridized with static memory.
    """

    def __init__(self, model: MF, train: pd.DataFrame, cfg: TrainConfig, ctx):
        self.model, self.cfg, self.ctx = model, cfg, ctx
        ratings = train["rating"].to_numpy(np.float32)
        self.users = nd.array(train["user"].to_numpy(), ctx=ctx)
        self.items = nd.array(train["item"].to_numpy(), ctx=ctx)
        self.ratings = nd.array(ratings, ctx=ctx)
        self.n = len(ratings)
        model.mu.set_data(nd.array([ratings.mean()], ctx=ctx))
        self.trainer = make_trainer(model, cfg)
        self.batch_size = cfg.batch_for(len(train))
        self.objective = MFObjective(model, cfg.lam)
        self.objective.hybridize(static_alloc=True, static_shape=True)

    def train_epoch(self, rng: np.random.Generator) -> float:
        order = nd.array(rng.permutation(self.n), ctx=self.ctx, dtype="int64")
        users, items, ratings = (nd.take(a, order) for a in (self.users, self.items, self.ratings))
        total = nd.zeros((1,), ctx=self.ctx, dtype="float64")  # no asscalar() per batch: no sync in the loop
        for start in range(0, self.n, self.batch_size):
            batch = slice(start, start + self.batch_size)
            with autograd.record():
                loss = self.objective(users[batch], items[batch], ratings[batch])
            loss.backward()
            self.trainer.step(1)
            total += loss.astype("float64")
        return float(total.asscalar()) / self.n

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        u = nd.array(users, ctx=self.ctx)
        i = nd.array(items, ctx=self.ctx)
        return self.model(u, i).asnumpy()


def seed_everything(seed: int) -> None:
    mx.random.seed(seed)


def build_model(config: AutoRecConfig | MFConfig, ctx=None):
    """A hybridized, initialised Gluon model built from its (bound) config object."""
    model = AutoRec(**asdict(config)) if isinstance(config, AutoRecConfig) else MF(**asdict(config))
    model.initialize(ctx=ctx or pick_context())
    model.hybridize()
    return model


def build_learner(model, matrix: RatingMatrix | None, train: pd.DataFrame, cfg: TrainConfig,
                  scale: tuple[float, float] | None = None):
    """AutoRec trains on ``matrix``'s rows, MF on ``train``'s ratings, on ``cfg.device``'s context."""
    if isinstance(model, AutoRec) and cfg.inputs == "sparse":
        raise ValueError("inputs='sparse' is PyTorch's path: MXNet trains AutoRec on dense rows. "
                         "Use framework 'torch' for sparse inputs, or inputs 'auto' or 'dense' with MXNet")
    ctx = pick_context(cfg.device)
    model.collect_params().reset_ctx(ctx)
    if isinstance(model, AutoRec):
        return AutoRecLearner(model, matrix, cfg, ctx, scale)
    return MFLearner(model, train, cfg, ctx)


def device_name(cfg: TrainConfig) -> str:
    return str(pick_context(cfg.device))
