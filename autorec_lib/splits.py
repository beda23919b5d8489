"""Train/validation/test splits. All are seeded and deterministic, and no rating lands in two parts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .datasets import DataError, RatingData, parse_ratings

CANONICAL = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


@dataclass
class Split:
    """The parts of one split; ``valid`` is carved out of the training ratings."""

    train: pd.DataFrame
    test: pd.DataFrame
    valid: pd.DataFrame | None = None
    name: str = ""
    spec: dict | None = None  # make_split's arguments, to rebuild it exactly; None when built by hand

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
    """ML-100K's published splits ``u1..u5`` (5-fold) and ``ua``/``ub`` (10 per user), from their files."""
    if name not in CANONICAL:
        raise ValueError(f"unknown canonical split {name!r}; choose one of {', '.join(CANONICAL)}")
    if data.name != "ml-100k":
        raise DataError(f"canonical split {name!r} exists only for ml-100k, not {data.name}")
    parts = [data.index_ratings(parse_ratings(data.path / f"{name}.{part}", "\t", False, data.scale))
             for part in ("base", "test")]
    return parts[0], parts[1]


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
    spec = {"split": split, "test_fraction": test_fraction, "valid_fraction": valid_fraction, "seed": seed}
    return Split(train, test, valid, split, spec)
