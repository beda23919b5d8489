"""One call to train and score a model in either framework: what the CLI, notebooks and benchmark use."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import backends
from .config import RunConfig, course_config
from .datasets import RatingData
from .matrix import RatingMatrix
from .metrics import Evaluation, recommend
from .model import TrainedModel, load
from .splits import Split
from .training import History, evaluate_learner, fit

__all__ = ["Result", "train", "defaults", "load", "TrainedModel"]


def defaults(model: str = "autorec", variant: str = "item", framework: str = "torch") -> RunConfig:
    """The course's defaults for a model (and AutoRec variant), as a :class:`RunConfig`."""
    return course_config(model, variant, framework)


@dataclass
class Result:
    """A trained model with its resolved configuration, history and scores."""

    config: RunConfig
    history: History
    scores: dict[str, Evaluation]
    learner: object = field(repr=False)
    data: RatingData = field(repr=False)
    split: Split = field(repr=False)
    device: str = "cpu"
    seconds: float = 0.0

    model = property(lambda self: self.config.model)
    variant = property(lambda self: self.config.variant)
    framework = property(lambda self: self.config.framework)
    train_config = property(lambda self: self.config.train)

    @property
    def model_config(self) -> dict:
        """The model's config as a dict (what built the network)."""
        return dataclasses.asdict(self.config.net)

    @property
    def test_rmse(self) -> float:
        return self.scores["test"].rmse

    def summary(self) -> dict:
        return {"config": self.config.as_dict(), "model": self.model, "variant": self.variant,
                "framework": self.framework, "device": self.device, "best_epoch": self.history.best_epoch,
                "epochs_run": len(self.history.records), "seconds": self.seconds,
                "seconds_per_epoch": self.history.seconds_per_epoch,
                **{f"{part}_{k}": v for part, e in self.scores.items() for k, v in e.as_dict().items()}}

    def trained(self) -> TrainedModel:
        """The model as it stands alone: weights, configuration and the training ratings it encodes."""
        return TrainedModel.from_learner(self.learner, self.config, self.data, self.split)

    def save(self, path: str | Path) -> Path:
        """Checkpoint everything needed to predict and recommend later (see :mod:`autorec_lib.model`)."""
        return self.trained().save(path)

    def recommend(self, user: int, n: int = 10):
        """Top-``n`` items that user index ``user`` has not rated in training, with titles (scores clipped)."""
        return recommend(self.learner.predict, user, self.split.train, self.data.n_items, self.data.titles,
                         self.data.item_ids, n, self.data.scale)


def resolve(model: str | None, variant: str | None, framework: str | None, config: RunConfig | None,
            overrides: dict) -> RunConfig:
    """The run's configuration: ``config`` (or the course's defaults) with ``overrides`` applied field by field."""
    if config is None:
        return course_config(model or "autorec", variant or "item", framework or "torch", **overrides)
    for key, value in (("model", model), ("variant", variant)):
        if value is not None and value != getattr(config, key):
            raise ValueError(f"{key}={value!r} contradicts config.{key}={getattr(config, key)!r}; pass one of them")
    return config.replace(**({"framework": framework} if framework else {}), **overrides)


def train(data: RatingData, split: Split, model: str | None = None, variant: str | None = None,
          framework: str | None = None, *, config: RunConfig | None = None, progress: bool = True,
          eval_test: bool = True, init_weights: dict | None = None, **overrides) -> Result:
    """Train on ``split.train``, pick the best epoch on ``split.valid``, score on ``split.test``.

    The run is ``config`` if given, else the course's defaults for ``model``/``variant``; each
    keyword in ``overrides`` changes one field (``lr=5e-4``, ``hidden=300``) and nothing else.
    ``init_weights`` (NumPy arrays under the library's names, e.g. from another framework's model)
    replace the random initialisation.
    """
    run = resolve(model, variant, framework, config, overrides)
    fw = backends.get(run.framework)  # a missing framework is reported before any data is touched
    run = run.bind(data.n_users, data.n_items)
    fw.seed_everything(run.train.seed)
    net = fw.build_model(run.net)
    if init_weights is not None:
        fw.set_weights(net, init_weights)
    matrix = RatingMatrix(split.train, data.n_users, data.n_items, run.variant) if run.is_autorec else None
    learner = fw.build_learner(net, matrix, split.train, run.train, data.scale)
    start = time.perf_counter()
    history = fit(learner, split, data.scale, run.train.epochs, run.train.patience, run.train.seed, progress,
                  eval_test, desc=run.label, lr_hint=run.train.lr)
    seconds = time.perf_counter() - start
    scores = evaluate_learner(learner, split, data.scale)
    return Result(run, history, scores, learner, data, split, fw.device_name(run.train), seconds)

