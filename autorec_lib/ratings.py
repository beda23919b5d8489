"""The data type every model trains on: ratings with contiguous 0-based indices, and a digest of them."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .registry import DataError


@dataclass(frozen=True, eq=False)
class RatingData:
    """Ratings with contiguous 0-based ``user``/``item`` indices and the maps back to MovieLens ids.

    Built complete in one go (usually by :meth:`from_raw`); its fields cannot be reassigned.
    Index ``k`` of ``user_ids`` / ``item_ids`` / ``titles`` describes user / movie index ``k``; the
    ids are sorted, so the same files always give the same indices.
    """

    name: str
    ratings: pd.DataFrame  # columns: user, item, rating, timestamp
    user_ids: np.ndarray  # user index -> original id
    item_ids: np.ndarray  # item index -> original id
    titles: np.ndarray  # item index -> title
    scale: tuple[float, float]
    path: Path

    @classmethod
    def from_raw(cls, name: str, raw: pd.DataFrame, titles: pd.Series, scale: tuple[float, float],
                 path: Path) -> "RatingData":
        """Index raw ``user_id, item_id, rating, timestamp`` rows; ``titles`` maps every rated movie id
        to its title (a rated movie without one is refused: it would get an invented title)."""
        user_ids = np.unique(raw["user_id"].to_numpy(np.int64))
        item_ids = np.unique(raw["item_id"].to_numpy(np.int64))
        untitled = ~np.isin(item_ids, titles.index.to_numpy())
        if untitled.any():
            raise DataError(f"{name}: movie {item_ids[untitled][0]} is rated but has no title "
                            f"({int(untitled.sum())} such movies)")
        title_array = titles.loc[item_ids].astype(str).to_numpy()
        return cls(name, _indexed(raw, user_ids, item_ids), user_ids, item_ids, title_array, tuple(scale),
                   Path(path))

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def unknown(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of a frame with original ``user_id``/``item_id`` columns name an id this data lacks."""
        users, items = frame["user_id"].to_numpy(), frame["item_id"].to_numpy()
        return ~(np.isin(users, self.user_ids) & np.isin(items, self.item_ids))

    def index_ratings(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Map a frame with original ``user_id``/``item_id`` columns onto this data's indices."""
        unknown = self.unknown(frame)
        if unknown.any():
            row = int(np.argmax(unknown))
            raise DataError(f"rating of user {frame['user_id'].iloc[row]} for item {frame['item_id'].iloc[row]} "
                            f"refers to an id that {self.name} does not contain")
        return _indexed(frame, self.user_ids, self.item_ids)


def _indexed(raw: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray) -> pd.DataFrame:
    """Raw rows with their ids replaced by positions in the sorted id arrays (every id present)."""
    return pd.DataFrame({"user": np.searchsorted(user_ids, raw["user_id"].to_numpy()).astype(np.int64),
                         "item": np.searchsorted(item_ids, raw["item_id"].to_numpy()).astype(np.int64),
                         "rating": raw["rating"].to_numpy(np.float32),
                         "timestamp": raw["timestamp"].to_numpy(np.int64)})


def ratings_digest(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) of a ratings frame's ``(user, item, rating)`` triples, in sorted order.

    Row order, the index, the timestamp and the integer/float widths do not change it; any added,
    removed or changed rating does. Each triple is hashed as little-endian int64, int64, float64.
    """
    users = frame["user"].to_numpy(np.int64)
    items = frame["item"].to_numpy(np.int64)
    ratings = frame["rating"].to_numpy(np.float64)
    order = np.lexsort((ratings, items, users))
    table = np.empty(len(frame), dtype=[("user", "<i8"), ("item", "<i8"), ("rating", "<f8")])
    table["user"], table["item"], table["rating"] = users[order], items[order], ratings[order]
    return hashlib.sha256(table.tobytes()).hexdigest()
