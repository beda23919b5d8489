"""Model and training configurations, shared by the PyTorch and MXNet implementations.

Every value is checked when a configuration is built, so a bad hyperparameter is refused with a
message naming it before any training starts.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


ACTIVATIONS = ("identity", "sigmoid", "relu", "tanh", "elu", "selu")
OPTIMIZERS = ("adam", "rprop", "sgd")


def check_activation(name: str, role: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown {role} activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return name


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


@dataclass
class AutoRecConfig:
    """``h(r) = f(W · g(V r + μ) + b)``; ``hidden`` lists the hidden sizes (``(500, 250, 500)`` goes deeper)."""

    n_inputs: int
    hidden: tuple[int, ...] = (500,)
    encoder: str = "sigmoid"
    decoder: str = "identity"
    dropout: float = 0.0

    def __post_init__(self):
        _positive_int(self.n_inputs, "n_inputs")
        hidden = (self.hidden,) if isinstance(self.hidden, int) else tuple(self.hidden)
        if not hidden:
            raise ValueError("hidden must list at least one hidden size, got ()")
        self.hidden = tuple(_positive_int(h, "hidden size") for h in hidden)
        check_activation(self.encoder, "encoder")
        check_activation(self.decoder, "decoder")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout!r}")

    @property
    def layer_sizes(self) -> list[tuple[int, int]]:
        """(inputs, outputs) of each weight matrix, encoder first, decoder last."""
        sizes = [self.n_inputs, *self.hidden, self.n_inputs]
        return list(zip(sizes[:-1], sizes[1:]))

    def n_parameters(self) -> int:
        return sum(i * o + o for i, o in self.layer_sizes)

    def flops_per_epoch(self, n_rows: int) -> float:
        """Floating-point operations of one training epoch over ``n_rows`` dense rows.

        A layer with ``i`` inputs and ``o`` outputs costs ``2·i·o`` per row forward (multiply-add)
        and ``2·i·o`` for its weight gradient; every layer but the first also passes a gradient
        to its input (another ``2·i·o``). The input ratings need no gradient, so one hidden layer
        of ``k`` costs ``(4 + 6)·n·m·k = 10·n·m·k``, not 12.
        """
        sizes = [i * o for i, o in self.layer_sizes]
        return 2 * n_rows * (2 * sizes[0] + 3 * sum(sizes[1:]))


@dataclass
class MFConfig:
    """Matrix factorization ``r̂ = p_u · q_i`` (+ ``μ + b_u + b_i`` when ``biased``)."""

    n_users: int
    n_items: int
    n_factors: int = 32
    biased: bool = True

    def __post_init__(self):
        _positive_int(self.n_users, "n_users")
        _positive_int(self.n_items, "n_items")
        _positive_int(self.n_factors, "n_factors")


@dataclass
class TrainConfig:
    """How to train. ``lam`` is the paper's λ; see :mod:`autorec_lib.objective` for its scaling."""

    epochs: int = 100
    lr: float = 1e-3
    lam: float = 1.0
    batch_size: int = 64
    optimizer: str = "adam"
    patience: int = 10
    seed: int = 0
    device: str = "auto"

    def __post_init__(self):
        _positive_int(self.epochs, "epochs")
        _positive_int(self.batch_size, "batch_size")
        if not self.lr > 0:
            raise ValueError(f"learning rate must be positive, got {self.lr!r}")
        if not self.lam >= 0:
            raise ValueError(f"lambda (weight regularization) must be >= 0, got {self.lam!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.device not in ("auto", "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"unknown device {self.device!r}; choose auto, cpu or cuda")
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 1:
            raise ValueError(f"patience must be a positive integer, got {self.patience!r}")

    def as_dict(self) -> dict:
        return asdict(self)
