"""Train/validation/test splits. All are seeded and deterministic, and no rating lands in two parts.

A :class:`SplitSpec` describes a split completely (kind, fractions, seed, data set), so that
``spec.make(data)`` rebuilds it exactly; :func:`make_split` returns a :class:`Split` carrying its spec.
The published splits (ML-100K's ``u1``..``u5``, ``ua``, ``ub``) are read from the files the registry
names for the data set.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .datasets import DataError, RatingData, dataset_info, missing_files, parse_ratings, refuse_row
from .registry import canonical_split_names

CANONICAL = canonical_split_names()


@dataclass(frozen=True)
class SplitSpec:
    """Everything :func:`make_split` needs to rebuild a split exactly from the same data.

    ``test_fraction`` is ``None`` for the splits that do not use it (holdout, published ones), and
    ``valid_fraction`` is ``None`` when there is no validation part.
    """

    split: str = "random"
    test_fraction: float | None = 0.1
    valid_fraction: float | None = 0.1
    seed: int = 0
    dataset: str | None = None  # the data set it was made from; make() refuses another

    def make(self, data: RatingData) -> "Split":
        """The split this spec describes, built again from ``data``."""
        if self.dataset is not None and data.name != self.dataset:
            raise DataError(f"this split was made from {self.dataset}, not {data.name}")
        return make_split(data, self.split, self.test_fraction, self.valid_fraction, self.seed)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "SplitSpec":
        return cls(**values)


@dataclass
class Split:
    """The parts of one split; ``valid`` is carved out of the training ratings.

    ``spec`` (set by :func:`make_split`) rebuilds it: ``split.spec.make(data)``.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    valid: pd.DataFrame | None = None
    name: str = ""
    spec: SplitSpec | None = None

    def sizes(self) -> dict[str, int]:
        parts = {"train": self.train, "valid": self.valid, "test": self.test}
        return {k: len(v) for k, v in parts.items() if v is not None}


def _check_fraction(fraction: float, what: str) -> None:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"{what} must lie strictly between 0 and 1, got {fraction!r}")


def random_split(ratings: pd.DataFrame, test_fraction: float = 0.1, seed: int = 0
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out exactly ``round(test_fraction * len(ratings))`` ratings chosen at random."""
    _check_fraction(test_fraction, "test_fraction")
    n_test = int(round(test_fraction * len(ratings)))
    order = np.random.default_rng(seed).permutation(len(ratings))
    test_rows = np.sort(order[:n_test])
    train_rows = np.sort(order[n_test:])
    return (ratings.iloc[train_rows].reset_index(drop=True),
            ratings.iloc[test_rows].reset_index(drop=True))


def per_user_holdout(ratings: pd.DataFrame, n_holdout: int = 1, seed: int = 0
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out ``n_holdout`` random ratings of every user who has more than ``n_holdout``."""
    if n_holdout < 1:
        raise ValueError(f"n_holdout must be at least 1, got {n_holdout!r}")
    rng = np.random.default_rng(seed)
    keys = rng.random(len(ratings))
    frame = pd.DataFrame({"user": ratings["user"].to_numpy(), "key": keys})
    rank = frame.groupby("user")["key"].rank(method="first").to_numpy()
    count = frame.groupby("user")["user"].transform("size").to_numpy()
    test_mask = (rank <= n_holdout) & (count > n_holdout)
    return (ratings[~test_mask].reset_index(drop=True), ratings[test_mask].reset_index(drop=True))


def canonical_split(data: RatingData, name: str = "u1") -> tuple[pd.DataFrame, pd.DataFrame]:
    """A published split (ML-100K's ``u1..u5``, 5-fold, and ``ua``/``ub``, 10 per user), read from the
    files the registry names for ``data``'s data set in ``data.path``.

    A missing file, a rating in both parts, or a rating whose user or movie is not in the data
    set's ratings file is refused, naming the file (and line) and what to do; nothing is downloaded.
    """
    if name not in CANONICAL:
        raise ValueError(f"unknown canonical split {name!r}; choose one of {', '.join(CANONICAL)}")
    info = dataset_info(data.name)
    files = info.split_files(name)
    missing = missing_files(data.path, files)
    if missing:
        raise DataError(f"{data.path} lacks {', '.join(missing)}, the published split {name!r} of "
                        f"{data.name}. Unzip {info.url} again and copy the file there (it holds every "
                        "split), or use make_split(data, 'random')")
    paths = [data.path / f for f in files]
    train, test = (parse_ratings(p, info.ratings) for p in paths)
    both = pd.MultiIndex.from_frame(test[["user_id", "item_id"]]).isin(
        pd.MultiIndex.from_frame(train[["user_id", "item_id"]]))
    refuse_row(paths[1], info.ratings, both, lambda row: (
        f"user {test['user_id'].iloc[row]}'s rating of movie {test['item_id'].iloc[row]} is also in {paths[0]}; "
        f"a rating in both parts would be tested on after training on it. Unzip {info.url} again"))
    for path, part in zip(paths, (train, test)):
        refuse_row(path, info.ratings, data.unknown(part), lambda row: (
            f"user {part['user_id'].iloc[row]} or movie {part['item_id'].iloc[row]} does not occur in "
            f"{data.path / info.ratings_file}; the split and the ratings file do not belong together. "
            f"Unzip {info.url} again"))
    return data.index_ratings(train), data.index_ratings(test)


def make_split(data: RatingData, split: str = "random", test_fraction: float = 0.1,
               valid_fraction: float | None = 0.1, seed: int = 0) -> Split:
    """Build a named split: ``random`` (ratio), ``holdout`` (one per user) or a canonical one (``u1``…).

    A validation part of ``valid_fraction`` of the training ratings is carved out (random, seeded),
    so that hyperparameters and the best epoch are chosen without looking at the test part.
    """
    if split == "random":
        train, test = random_split(data.ratings, test_fraction, seed)
    elif split == "holdout":
        train, test = per_user_holdout(data.ratings, 1, seed)
    elif split in CANONICAL:
        train, test = canonical_split(data, split)
    else:
        raise ValueError(f"unknown split {split!r}; choose random, holdout or one of {', '.join(CANONICAL)}")
    valid = None
    if valid_fraction:
        train, valid = random_split(train, valid_fraction, seed + 1)
    spec = SplitSpec(split, float(test_fraction) if split == "random" else None,
                     float(valid_fraction) if valid_fraction else None, int(seed), data.name)
    return Split(train, test, valid, split, spec)
