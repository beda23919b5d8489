"""A trained model that stands alone: predict and recommend for known users and items, from a checkpoint.

AutoRec predicts by reconstructing rows of the training matrix, so the weights alone are not a
model: a checkpoint also holds the training ratings the network encodes, the maps from MovieLens
ids to indices, the titles and the rating scale, and the split that produced them (so that
``evaluate`` can rebuild the held-out parts; a digest of the training ratings proves it rebuilt
the same ones).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import backends
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import RunConfig
from .matrix import RatingMatrix
from .metrics import Evaluation, recommend, whole_numbers
from .ratings import ratings_digest

WEIGHT = "weight/"


def id_digest(frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray) -> str:
    """:func:`ratings_digest` of ``frame``'s ratings under their MovieLens ids (not this data's indices)."""
    return ratings_digest(pd.DataFrame({"user": user_ids[frame["user"]], "item": item_ids[frame["item"]],
                                        "rating": frame["rating"]}))


@dataclass
class TrainedModel:
    """A trained model with everything it needs to predict: use :func:`load` or ``Result.trained()``.

    Users and movies are named by their MovieLens ids (as in the data files), never by the indices
    a data set assigns them.
    """

    config: RunConfig
    learner: object = field(repr=False)  # learner.model is the network
    train: pd.DataFrame = field(repr=False)  # user, item (indices), rating
    user_ids: np.ndarray = field(repr=False)
    item_ids: np.ndarray = field(repr=False)
    titles: np.ndarray = field(repr=False)
    scale: tuple[float, float] = (1.0, 5.0)
    dataset: str = ""
    split: dict | None = None
    meta: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_learner(cls, learner, config: RunConfig, data, split) -> "TrainedModel":
        train = split.train[["user", "item", "rating"]].reset_index(drop=True)
        return cls(config, learner, train, np.asarray(data.user_ids), np.asarray(data.item_ids),
                   np.asarray(data.titles, dtype=str), tuple(data.scale), data.name,
                   split.spec.to_dict() if split.spec else None)

    @property
    def digest(self) -> str:
        return id_digest(self.train, self.user_ids, self.item_ids)

    def save(self, path: str | Path, overwrite: bool = True) -> Path:
        """Write the checkpoint (atomically; ``overwrite=False`` refuses to replace a file)."""
        arrays = {f"{WEIGHT}{k}": v for k, v in self.learner.get_weights().items()}
        arrays.update({"train/user": self.train["user"].to_numpy(np.int64),
                       "train/item": self.train["item"].to_numpy(np.int64),
                       "train/rating": self.train["rating"].to_numpy(np.float32),
                       "ids/user": self.user_ids, "ids/item": self.item_ids, "titles": self.titles})
        meta = {"config": self.config.as_dict(), "dataset": self.dataset, "scale": list(self.scale),
                "split": self.split, "train_digest": self.digest}
        return save_checkpoint(path, arrays, meta, overwrite)

    def _index(self, ids, known: np.ndarray, what: str) -> np.ndarray:
        ids = whole_numbers(ids, f"{what} ids")
        pos = np.minimum(np.searchsorted(known, ids), len(known) - 1)
        unknown = known[pos] != ids
        if unknown.any():
            raise KeyError(f"{what} id {int(ids[np.argmax(unknown)])} is not in {self.dataset or 'the data'} "
                           f"this model was trained on (known {what} ids run from {known.min()} to {known.max()})")
        return pos

    def predict(self, user_ids, item_ids) -> np.ndarray:
        """Predicted ratings for pairs of MovieLens ids (two sequences of the same length, or two
        single ids), clipped to the rating scale."""
        n_users, n_items = np.size(user_ids), np.size(item_ids)
        if n_users != n_items:
            raise ValueError(f"predict takes pairs: {n_users} user ids and {n_items} item ids were given; "
                             "pass one user id per item id (np.repeat a single user over several items)")
        users = self._index(user_ids, self.user_ids, "user")
        items = self._index(item_ids, self.item_ids, "item")
        return np.clip(self.learner.predict(users, items), *self.scale)

    def recommend(self, user_id: int, n: int = 10) -> pd.DataFrame:
        """The ``n`` best unrated movies for MovieLens user ``user_id``: item id, title, predicted rating."""
        if np.ndim(user_id) != 0:
            raise ValueError(f"recommend takes one user id, got {user_id!r}")
        user = int(self._index(user_id, self.user_ids, "user")[0])
        table = recommend(self.learner.predict, user, self.train, len(self.item_ids), self.titles, self.item_ids,
                          n, self.scale)
        return table.drop(columns="item")

    def evaluate(self, data=None) -> dict[str, Evaluation]:
        """Scores on the held-out parts of the split this model was trained on, rebuilt from the data set.

        Refuses when the split was built by hand or the data set here does not rebuild the same
        training ratings (checked by their digest).
        """
        from . import datasets
        from .splits import SplitSpec
        from .training import evaluate_learner

        if not self.split:
            raise ValueError("this model's split was not made by splits.make_split, so it cannot be rebuilt; "
                             "score it with metrics.evaluate on your own held-out ratings")
        data = data if data is not None else datasets.load(self.dataset)
        rebuilt = SplitSpec.from_dict(self.split).make(data)
        if id_digest(rebuilt.train, data.user_ids, data.item_ids) != self.meta.get("train_digest", self.digest):
            raise ValueError(f"the {self.dataset} data here does not rebuild the training ratings this model was "
                             f"trained on (split {self.split}); it may be another version of the data set")
        return evaluate_learner(self.learner, rebuilt, self.scale)


def load(path: str | Path, framework: str | None = None, device: str = "auto") -> TrainedModel:
    """A :class:`TrainedModel` from a checkpoint, in its own framework or ``framework``, on ``device``."""
    meta, arrays = load_checkpoint(path)
    try:
        config = RunConfig.from_dict(meta["config"]).replace(device=device)
        if framework:
            config = config.replace(framework=framework)
        train = pd.DataFrame({"user": arrays["train/user"], "item": arrays["train/item"],
                              "rating": arrays["train/rating"]})
        user_ids, item_ids = arrays["ids/user"], arrays["ids/item"]
        weights = {k[len(WEIGHT):]: v for k, v in arrays.items() if k.startswith(WEIGHT)}
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path} lacks part of a checkpoint or holds a bad configuration ({err!r})") from err
    fw = backends.get(config.framework)
    matrix = RatingMatrix(train, len(user_ids), len(item_ids), config.variant) if config.is_autorec else None
    learner = fw.build_learner(fw.build_model(config.net), matrix, train, config.train, tuple(meta["scale"]))
    try:
        learner.set_weights(weights)
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"{path} does not match its own configuration: {err}") from err
    model = TrainedModel(config, learner, train, user_ids, item_ids, arrays["titles"], tuple(meta["scale"]),
                         meta["dataset"], meta["split"], meta)
    if model.digest != meta["train_digest"]:
        raise CheckpointError(f"{path} is corrupted: its training ratings do not match the digest stored with them")
    return model
