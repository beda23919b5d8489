"""One call to train and score a model in either framework: what the CLI, notebooks and benchmark use."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import backends
from .config import RunConfig, course_config
from .datasets import DataError, RatingData
from .matrix import RatingMatrix
from .metrics import Evaluation
from .splits import Split
from .trained import TrainedModel, load
from .training import History, evaluate_learner, fit

__all__ = ["Result", "train", "load", "TrainedModel"]


@dataclass
class Result:
    """A trained model with its resolved configuration (``config``), history and scores.

    To predict or recommend by MovieLens ids, or to save a checkpoint, use :meth:`trained`.
    """

    config: RunConfig
    history: History
    scores: dict[str, Evaluation]
    learner: object = field(repr=False)
    data: RatingData = field(repr=False)
    split: Split = field(repr=False)
    device: str = "cpu"
    seconds: float = 0.0
    warm_start: bool = False  # True when training started from given weights (init_weights), not at random

    @property
    def test_rmse(self) -> float:
        return self.scores["test"].rmse

    def summary(self) -> dict:
        return {"config": self.config.as_dict(), "device": self.device, "best_epoch": self.history.best_epoch,
                "epochs_run": len(self.history.records), "seconds": self.seconds,
                "seconds_per_epoch": self.history.seconds_per_epoch,
                **{f"{part}_{k}": v for part, e in self.scores.items() for k, v in e.as_dict().items()}}

    def trained(self) -> TrainedModel:
        """The model as it stands alone: weights, configuration and the training ratings it encodes."""
        return TrainedModel.from_learner(self.learner, self.config, self.data, self.split)

    def save(self, path: str | Path, overwrite: bool = True) -> Path:
        """Checkpoint everything needed to predict and recommend later (see :mod:`autorec_lib.trained`)."""
        return self.trained().save(path, overwrite)


def resolve(model_type: str | None, variant: str | None, framework: str | None, config: RunConfig | None,
            overrides: dict) -> RunConfig:
    """The run's configuration: ``config`` (or the course's defaults) with ``overrides`` applied field by field."""
    if config is None:
        return course_config(model_type or "autorec", variant or "item", framework or "torch", **overrides)
    if not isinstance(config, RunConfig):
        raise ValueError(f"config must be a RunConfig (e.g. config.course_config(...)), got {type(config).__name__}")
    for key, value in (("model_type", model_type), ("variant", variant)):
        if value is not None and value != getattr(config, key):
            raise ValueError(f"{key}={value!r} contradicts config.{key}={getattr(config, key)!r}; pass one of them")
    return config.replace(**({"framework": framework} if framework else {}), **overrides)


def check_split(data: RatingData, split: Split) -> None:
    """Refuse a split that was not made from ``data`` (by its recorded data set, then by its indices)."""
    made_from = split.spec.dataset if split.spec is not None else None
    if made_from is not None and made_from != data.name:
        raise DataError(f"this split was made from {made_from}, not from {data.name}: make one from this data "
                        f"with splits.make_split({data.name!r} data, ...)")
    for what, n in (("user", data.n_users), ("item", data.n_items)):
        largest = max((int(part[what].max()) for part in (split.train, split.valid, split.test)
                       if part is not None and len(part)), default=-1)
        if largest >= n:
            raise DataError(f"this split names {what} index {largest}, but {data.name} has {n} {what}s: the split "
                            "was made from another data set; make one from this data with splits.make_split")


def train(data: RatingData, split: Split, model_type: str | None = None, variant: str | None = None,
          framework: str | None = None, *, config: RunConfig | None = None, progress: bool = True,
          eval_test: bool = True, init_weights: dict | None = None, **overrides) -> Result:
    """Train on ``split.train``, pick the best epoch on ``split.valid``, score on ``split.test``.

    The run is ``config`` if given, else the course's defaults for ``model_type``/``variant``; each
    keyword in ``overrides`` changes one field (``lr=5e-4``, ``hidden=300``) and nothing else.
    ``init_weights`` (NumPy arrays under the library's names, e.g. from another framework's model)
    replace the random initialisation.
    """
    run = resolve(model_type, variant, framework, config, overrides)
    fw = backends.get(run.framework)  # a missing framework is reported before any data is touched
    check_split(data, split)
    run = run.bind(data.n_users, data.n_items)
    fw.seed_everything(run.train.seed)
    model = fw.build_model(run.net)
    if init_weights is not None:
        fw.set_weights(model, init_weights)
    matrix = RatingMatrix(split.train, data.n_users, data.n_items, run.variant) if run.is_autorec else None
    learner = fw.build_learner(model, matrix, split.train, run.train, data.scale)
    start = time.perf_counter()
    history = fit(learner, split, data.scale, run.train, progress, eval_test, desc=run.label)
    seconds = time.perf_counter() - start
    scores = evaluate_learner(learner, split, data.scale)
    return Result(run, history, scores, learner, data, split, fw.device_name(run.train), seconds,
                  warm_start=init_weights is not None)
