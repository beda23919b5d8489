"""Framework-neutral evaluation: RMSE/MAE over held-out ratings, and top-N recommendations."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import pandas as pd

DEFAULT_RATING = 3.0  # the paper's rating for users or items with no training ratings

Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def rmse(predictions: np.ndarray, truth: np.ndarray) -> float:
    """Root mean squared error."""
    diff = np.asarray(predictions, np.float64) - np.asarray(truth, np.float64)
    return float(np.sqrt(np.mean(diff ** 2)))


def mae(predictions: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error."""
    diff = np.asarray(predictions, np.float64) - np.asarray(truth, np.float64)
    return float(np.mean(np.abs(diff)))


@dataclass
class Evaluation:
    """Scores over held-out ratings; ``n_default`` of the ``n`` got the default rating."""

    rmse: float
    mae: float
    n: int
    n_default: int

    def as_dict(self) -> dict:
        return asdict(self)


def predict_with_default(predict: Predictor, pairs: pd.DataFrame, train: pd.DataFrame,
                         scale: tuple[float, float], default: float = DEFAULT_RATING
                         ) -> tuple[np.ndarray, int]:
    """Clipped predictions for ``pairs``; pairs whose user or item has no training rating get ``default``.

    Returns the predictions and how many got the default.
    """
    users = pairs["user"].to_numpy()
    items = pairs["item"].to_numpy()
    known = np.isin(users, train["user"].unique()) & np.isin(items, train["item"].unique())
    out = np.full(len(pairs), default, dtype=np.float64)
    if known.any():
        out[known] = predict(users[known], items[known])
    return np.clip(out, *scale), int((~known).sum())


def evaluate(predict: Predictor, test: pd.DataFrame, train: pd.DataFrame, scale: tuple[float, float],
             default: float = DEFAULT_RATING) -> Evaluation:
    """RMSE and MAE of ``predict`` on the observed ``test`` ratings only."""
    preds, n_default = predict_with_default(predict, test, train, scale, default)
    truth = test["rating"].to_numpy()
    return Evaluation(rmse(preds, truth), mae(preds, truth), len(test), n_default)


def top_n(scores: np.ndarray, exclude: np.ndarray, n: int = 10) -> np.ndarray:
    """Indices of the ``n`` highest scores, skipping the indices in ``exclude``."""
    scores = np.asarray(scores, np.float64).copy()
    scores[np.asarray(exclude, dtype=np.int64)] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    best = np.argpartition(-scores, n - 1)[:n] if n else np.array([], dtype=np.int64)
    return best[np.argsort(-scores[best], kind="stable")]


def recommend(predict: Predictor, user: int, train: pd.DataFrame, n_items: int,
              titles: np.ndarray | None = None, item_ids: np.ndarray | None = None,
              n: int = 10, scale: tuple[float, float] | None = None) -> pd.DataFrame:
    """Top-``n`` items for ``user`` (an index) that the user has not rated in ``train``.

    Items are ranked by the model's raw scores; the scores shown are clipped to ``scale`` when
    given, since a person reads them as ratings.
    """
    items = np.arange(n_items)
    scores = predict(np.full(n_items, user), items)
    rated = train.loc[train["user"] == user, "item"].to_numpy()
    best = top_n(scores, rated, n)
    shown = np.asarray(scores)[best]
    frame = pd.DataFrame({"item": best, "score": np.clip(shown, *scale) if scale else shown})
    if item_ids is not None:
        frame.insert(1, "item_id", item_ids[best])
    if titles is not None:
        frame.insert(len(frame.columns) - 1, "title", titles[best])
    return frame
