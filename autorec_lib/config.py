"""Model and training configurations, shared by the PyTorch and MXNet implementations.

Every value is checked when a configuration is built, so a bad hyperparameter is refused with a
message naming it before any training starts. A :class:`RunConfig` holds everything that defines
a run (model type, variant, framework, the network's config and the training config) and is
passed whole; :data:`COURSE` holds the course's defaults, and :meth:`RunConfig.replace` changes
one field and nothing else.

Words used the same way in every module: a *model* is the network object (an ``nn.Module`` or a
Gluon block, ``learner.model``); ``model_type`` names what kind it is (``"autorec"``, ``"mf"``,
``"biased-mf"``); ``net`` is the network's configuration (:class:`AutoRecConfig` or
:class:`MFConfig`, ``RunConfig.net``).
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import asdict, dataclass, field

from .matrix import VARIANTS


ACTIVATIONS = ("identity", "sigmoid", "relu", "tanh", "elu", "selu")
OPTIMIZERS = ("adam", "rprop", "sgd")
LR_SCHEDULES = ("constant", "plateau")
INPUTS = ("auto", "dense", "sparse")


def check_activation(name: str, role: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown {role} activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return name


def real_number(value, what: str) -> float:
    """``value`` as a float if it is a real number (not a bool or a string), else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"{what} must be a number, got {value!r} ({type(value).__name__})")
    return float(value)


def positive_int(value, what: str) -> int:
    """``value`` if it is a positive integer (NumPy integers included), else a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r} ({type(value).__name__})")
    return int(value)


@dataclass
class AutoRecConfig:
    """``h(r) = f(W · g(V r + μ) + b)``; ``hidden`` lists the hidden sizes (``(500, 250, 500)`` goes deeper)."""

    n_inputs: int | None = None  # None until bound to a data set (RunConfig.bind)
    hidden: tuple[int, ...] = (500,)
    encoder: str = "sigmoid"
    decoder: str = "identity"
    dropout: float = 0.0

    def __post_init__(self):
        if self.n_inputs is not None:
            positive_int(self.n_inputs, "n_inputs")
        if isinstance(self.hidden, (str, bytes)) or not isinstance(self.hidden, (numbers.Integral, tuple, list)):
            raise ValueError(f"hidden must be a positive integer or a tuple of them, got {self.hidden!r} "
                             f"({type(self.hidden).__name__})")
        hidden = (self.hidden,) if isinstance(self.hidden, numbers.Integral) else tuple(self.hidden)
        if not hidden:
            raise ValueError(f"hidden must list at least one hidden size, got {self.hidden!r}")
        self.hidden = tuple(positive_int(h, "hidden size") for h in hidden)
        check_activation(self.encoder, "encoder")
        check_activation(self.decoder, "decoder")
        if not 0.0 <= real_number(self.dropout, "dropout") < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout!r}")

    @property
    def layer_sizes(self) -> list[tuple[int, int]]:
        """(inputs, outputs) of each weight matrix, encoder first, decoder last."""
        if self.n_inputs is None:
            raise ValueError("this AutoRecConfig is not bound to a data set yet (n_inputs=None)")
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

    n_users: int | None = None  # None until bound to a data set (RunConfig.bind)
    n_items: int | None = None
    n_factors: int = 32
    biased: bool = True

    def __post_init__(self):
        for name in ("n_users", "n_items"):
            if getattr(self, name) is not None:
                positive_int(getattr(self, name), name)
        positive_int(self.n_factors, "n_factors")


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
    # How AutoRec's rows reach the network (PyTorch): ``dense`` rows with a mask, or ``sparse``
    # ratings, whose cost scales with the ratings (encoder) and the rated entries (loss); the same
    # objective, rounded differently. ``auto``: sparse on a CPU, on a GPU for large matrices only
    # (sparse.use_sparse_inputs).
    inputs: str = "auto"
    # ``plateau``: multiply the learning rate by ``lr_factor`` whenever ``lr_patience`` epochs in a row
    # bring no better validation RMSE (training.fit; PyTorch's ReduceLROnPlateau rule).
    lr_schedule: str = "constant"
    lr_patience: int = 5
    lr_factor: float = 0.5

    def __post_init__(self):
        positive_int(self.epochs, "epochs")
        positive_int(self.batch_size, "batch_size")
        positive_int(self.patience, "patience")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r} ({type(self.seed).__name__})")
        if not real_number(self.lr, "learning rate") > 0:
            raise ValueError(f"learning rate must be positive, got {self.lr!r}")
        if not real_number(self.lam, "lambda (weight regularization)") >= 0:
            raise ValueError(f"lambda (weight regularization) must be >= 0, got {self.lam!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if not isinstance(self.device, str) or (self.device not in ("auto", "cpu", "cuda")
                                                and not self.device.startswith("cuda:")):
            raise ValueError(f"unknown device {self.device!r}; choose auto, cpu or cuda")
        if self.inputs not in INPUTS:
            raise ValueError(f"unknown inputs {self.inputs!r}; choose one of {', '.join(INPUTS)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}")
        positive_int(self.lr_patience, "lr_patience")
        if not 0.0 < real_number(self.lr_factor, "lr_factor") < 1.0:
            raise ValueError(f"lr_factor must lie strictly between 0 and 1, got {self.lr_factor!r}")
        if self.lr_schedule != "constant" and self.optimizer == "rprop":
            raise ValueError("Rprop adapts its own step sizes and has no learning rate to schedule: "
                             "use lr_schedule='constant' with optimizer 'rprop'")

    def as_dict(self) -> dict:
        return asdict(self)

    def batch_for(self, n_examples: int) -> int:
        """The mini-batch size for ``n_examples`` rows or ratings: Rprop trains full-batch."""
        return n_examples if self.optimizer == "rprop" else self.batch_size


MODEL_TYPES = ("autorec", "mf", "biased-mf")
# framework -> the module of autorec_lib that implements backends.Backend for it
BACKEND_MODULES = {"torch": "torch_backend", "mxnet": "mxnet_backend"}
FRAMEWORKS = tuple(BACKEND_MODULES)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run, passed whole: what to build, in which framework, how to train.

    ``model_type`` is what to build (``autorec``, ``mf`` or ``biased-mf``), ``net`` the network's
    config (its data sizes are filled in by :meth:`bind`), ``train`` the training config. Change fields with :meth:`replace`; the course's defaults are :data:`COURSE`.
    """

    model_type: str = "autorec"
    variant: str = "item"
    framework: str = "torch"
    net: AutoRecConfig | MFConfig = field(default_factory=AutoRecConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        if self.model_type not in MODEL_TYPES:
            raise ValueError(f"unknown model type {self.model_type!r}; choose one of {', '.join(MODEL_TYPES)}")
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown AutoRec variant {self.variant!r}; choose item or user")
        if self.framework not in FRAMEWORKS:
            raise ValueError(f"unknown framework {self.framework!r}; choose torch or mxnet")
        want = AutoRecConfig if self.is_autorec else MFConfig
        if not isinstance(self.net, want):
            raise ValueError(f"model type {self.model_type!r} needs a {want.__name__}, got {type(self.net).__name__}")
        if not isinstance(self.train, TrainConfig):
            raise ValueError(f"train must be a TrainConfig, got {type(self.train).__name__}")
        if not self.is_autorec and self.net.biased != (self.model_type == "biased-mf"):
            raise ValueError(f"model type {self.model_type!r} needs MFConfig(biased={self.model_type == 'biased-mf'})")
        if not self.is_autorec and self.train.inputs != "auto":
            raise ValueError(f"inputs={self.train.inputs!r} chooses how AutoRec's rows reach the network; "
                             f"model type {self.model_type!r} trains on single ratings: leave inputs at 'auto'")

    @property
    def is_autorec(self) -> bool:
        return self.model_type == "autorec"

    @property
    def label(self) -> str:
        """A short name for progress bars and file names, e.g. ``torch autorec (item)``."""
        return f"{self.framework} {self.model_type}" + (f" ({self.variant})" if self.is_autorec else "")

    def replace(self, **changes) -> "RunConfig":
        """A copy with the named fields changed (``lr=5e-4``, ``hidden=300``, ``framework="mxnet"``).

        Each keyword names one field of the run, its model config or its training config; every
        other field keeps its value. A field this model type does not have is refused.
        """
        top, net, train = {}, {}, {}
        net_fields = {f.name for f in dataclasses.fields(self.net)} - {"n_inputs", "n_users", "n_items", "biased"}
        train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
        for key, value in changes.items():
            if key == "framework":
                top[key] = value
            elif key in net_fields:
                net[key] = value
            elif key in train_fields:
                train[key] = value
            elif key in ("model_type", "variant"):
                raise ValueError(f"{key} picks the course's defaults: start from course_config(model_type, variant) "
                                 f"instead of replacing {key}")
            else:
                known = ", ".join(sorted(net_fields | train_fields | {"framework"}))
                raise ValueError(f"{key!r} is not a setting of model type {self.model_type!r}; its settings are: {known}")
        return dataclasses.replace(self, **top, net=dataclasses.replace(self.net, **net),
                                   train=dataclasses.replace(self.train, **train))

    def bind(self, n_users: int, n_items: int) -> "RunConfig":
        """The same run with the model's data sizes filled in (I-AutoRec rows are items: inputs are users)."""
        if self.is_autorec:
            net = dataclasses.replace(self.net, n_inputs=n_users if self.variant == "item" else n_items)
        else:
            net = dataclasses.replace(self.net, n_users=n_users, n_items=n_items)
        return dataclasses.replace(self, net=net)

    def as_dict(self) -> dict:
        return {"model_type": self.model_type, "variant": self.variant, "framework": self.framework,
                "net": asdict(self.net), "train": self.train.as_dict()}

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        """The inverse of :meth:`as_dict` (as stored in results and checkpoints)."""
        net_type = AutoRecConfig if values["model_type"] == "autorec" else MFConfig
        return cls(values["model_type"], values["variant"], values["framework"],
                   net_type(**values["net"]), TrainConfig(**values["train"]))


# The course's hyperparameters, chosen on the validation split of ML-100K's 90/10 random split
# (scripts/tune.py; U-AutoRec's later rounds averaged the validation RMSE of several seeds, and its
# epoch cap was raised to 300 because the best validation epoch sat at the old cap of 200); the
# test split played no part in choosing them.
COURSE: dict[tuple[str, str], RunConfig] = {
    ("autorec", "item"): RunConfig("autorec", "item", net=AutoRecConfig(hidden=(500,), dropout=0.0),
                                   train=TrainConfig(epochs=150, lr=1e-3, lam=100.0, batch_size=256, patience=10)),
    ("autorec", "user"): RunConfig("autorec", "user", net=AutoRecConfig(hidden=(300,), dropout=0.5),
                                   train=TrainConfig(epochs=300, lr=5e-4, lam=60.0, batch_size=128, patience=20)),
    ("mf", "item"): RunConfig("mf", net=MFConfig(n_factors=64, biased=False),
                              train=TrainConfig(epochs=60, lr=5e-3, lam=0.2, batch_size=1024, patience=5)),
    ("biased-mf", "item"): RunConfig("biased-mf", net=MFConfig(n_factors=128, biased=True),
                                     train=TrainConfig(epochs=60, lr=5e-3, lam=0.2, batch_size=1024, patience=5)),
}


def course_config(model_type: str = "autorec", variant: str = "item", framework: str = "torch",
                  **changes) -> RunConfig:
    """The course's defaults for ``model_type`` (and AutoRec ``variant``), with ``changes`` applied field by field."""
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown model type {model_type!r}; choose one of {', '.join(MODEL_TYPES)}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown AutoRec variant {variant!r}; choose item or user")
    base = COURSE[(model_type, variant if model_type == "autorec" else "item")]
    return base.replace(framework=framework, **changes)
