"""One call to train and score a model in either framework: what the CLI, notebooks and benchmark use."""
from __future__ import annotations

import dataclasses
import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .datasets import RatingData
from .matrix import RatingMatrix, check_variant
from .metrics import Evaluation, recommend
from .splits import Split
from .training import History, evaluate_learner, fit

FRAMEWORKS = ("torch", "mxnet")
MODELS = ("autorec", "mf", "biased-mf")
MXNET_MISSING = ("MXNet is not installed. Install the course's MXNet extra with "
                 "`pip install -e '.[mxnet]'` (it pins mxnet==1.9.1 and numpy==1.23.5, since MXNet "
                 "breaks with NumPy >= 1.24), or use framework='torch'.")

# The course's hyperparameters, chosen on the validation split of ML-100K's 90/10 random split
# (scripts/tune.py; U-AutoRec's later rounds averaged the validation RMSE of several seeds, and its
# epoch cap was raised to 300 because the best validation epoch sat at the old cap of 200); the
# test split played no part in choosing them.
DEFAULTS: dict[str, dict] = {
    "autorec-item": {"model": {"hidden": 500, "encoder": "sigmoid", "decoder": "identity", "dropout": 0.0},
                     "train": {"epochs": 150, "lr": 1e-3, "lam": 100.0, "batch_size": 256, "patience": 10}},
    "autorec-user": {"model": {"hidden": 300, "encoder": "sigmoid", "decoder": "identity", "dropout": 0.5},
                     "train": {"epochs": 300, "lr": 5e-4, "lam": 60.0, "batch_size": 128, "patience": 20}},
    "mf": {"model": {"n_factors": 64}, "train": {"epochs": 60, "lr": 5e-3, "lam": 0.2,
                                                  "batch_size": 1024, "patience": 5}},
    "biased-mf": {"model": {"n_factors": 128}, "train": {"epochs": 60, "lr": 5e-3, "lam": 0.2,
                                                          "batch_size": 1024, "patience": 5}},
}


def backend(framework: str):
    """The framework's module (imported on first use; MXNet only when asked for)."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; choose torch or mxnet")
    if framework == "mxnet":
        try:
            import mxnet  # noqa: F401
        except ImportError as err:
            raise ImportError(MXNET_MISSING) from err
    return importlib.import_module(f".{framework}_backend", __package__)


def defaults(model: str = "autorec", variant: str = "item") -> dict:
    """The course's default model and training options for a model (and AutoRec variant)."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    key = f"autorec-{check_variant(variant)}" if model == "autorec" else model
    return {part: dict(values) for part, values in DEFAULTS[key].items()}


@dataclass
class Result:
    """A trained model with its history and scores."""

    model: str
    variant: str
    framework: str
    model_config: dict
    train_config: TrainConfig
    history: History
    scores: dict[str, Evaluation]
    learner: object = field(repr=False)
    device: str = "cpu"
    seconds: float = 0.0

    @property
    def test_rmse(self) -> float:
        return self.scores["test"].rmse

    def summary(self) -> dict:
        return {"model": self.model, "variant": self.variant, "framework": self.framework,
                "device": self.device, "model_config": self.model_config,
                "train_config": self.train_config.as_dict(), "best_epoch": self.history.best_epoch,
                "epochs_run": len(self.history.records), "seconds": self.seconds,
                "seconds_per_epoch": self.history.seconds_per_epoch,
                **{f"{part}_{k}": v for part, e in self.scores.items() for k, v in e.as_dict().items()}}

    def save(self, path: str | Path) -> Path:
        """Checkpoint the weights with the configs that built them (framework-neutral)."""
        meta = {"model": self.model, "variant": self.variant, "framework": self.framework,
                "model_config": self.model_config, "train_config": self.train_config.as_dict()}
        return save_checkpoint(path, self.learner.get_weights(), meta)

    def recommend(self, user: int, data: RatingData, train, n: int = 10):
        """Top-``n`` unrated items for user index ``user``, with titles."""
        return recommend(self.learner.predict, user, train, data.n_items, data.titles, data.item_ids, n)


def model_config(model: str, variant: str, data: RatingData, options: dict) -> tuple[str, dict]:
    """The model kind (``autorec`` or ``mf``) and the config dict that builds it for ``data``."""
    if model == "autorec":
        n_inputs = data.n_users if variant == "item" else data.n_items
        return "autorec", {"n_inputs": n_inputs, **options}
    return "mf", {"n_users": data.n_users, "n_items": data.n_items, "biased": model == "biased-mf", **options}


def train(data: RatingData, split: Split, model: str = "autorec", variant: str = "item",
          framework: str = "torch", train_config: TrainConfig | None = None, progress: bool = True,
          eval_test: bool = True, init_weights: dict | None = None, **model_options) -> Result:
    """Train ``model`` on ``split.train``, pick the best epoch on ``split.valid``, score on ``split.test``.

    Unset options take the course defaults (:func:`defaults`); a keyword naming a training field
    (``lr=5e-4``, ``epochs=20``) changes that field only. ``init_weights`` (NumPy arrays under the library's names,
    e.g. from another framework's model) replace the random initialisation.
    """
    chosen = defaults(model, variant)
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    train_options = {k: model_options.pop(k) for k in list(model_options) if k in train_fields}
    cfg = dataclasses.replace(train_config or TrainConfig(**chosen["train"]), **train_options)
    kind, config = model_config(model, variant, data, {**chosen["model"], **model_options})
    fw = backend(framework)
    fw.seed_everything(cfg.seed)
    net = fw.build_model(kind, config)
    if init_weights is not None:
        fw.set_weights(net, init_weights)
    matrix = RatingMatrix(split.train, data.n_users, data.n_items, variant) if kind == "autorec" else None
    learner = fw.build_learner(kind, net, matrix, split.train, cfg, data.scale)
    label = f"{framework} {model}" + (f" ({variant})" if kind == "autorec" else "")
    start = time.perf_counter()
    history = fit(learner, split, data.scale, cfg.epochs, cfg.patience, cfg.seed, progress, eval_test,
                  desc=label, lr_hint=cfg.lr)
    seconds = time.perf_counter() - start
    scores = evaluate_learner(learner, split, data.scale)
    return Result(model, variant, framework, dataclasses.asdict(net.config),
                  cfg, history, scores, learner, fw.device_name(cfg), seconds)


def load_model(path: str | Path, framework: str | None = None):
    """Rebuild a model from a checkpoint, in its own framework or another one."""
    meta, weights = load_checkpoint(path)
    fw = backend(framework or meta["framework"])
    kind = "autorec" if meta["model"] == "autorec" else "mf"
    net = fw.build_model(kind, meta["model_config"])
    fw.set_weights(net, weights)
    return net, meta
