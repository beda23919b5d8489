"""Framework-neutral evaluation: RMSE/MAE over held-out ratings, top-N recommendations, and top-k ranking metrics."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .config import positive_int

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


def scored(predictions: np.ndarray, truth: np.ndarray, n_default: int) -> Evaluation:
    """RMSE and MAE of clipped ``predictions`` against the ``truth`` ratings (``n_default`` of them defaulted)."""
    return Evaluation(rmse(predictions, truth), mae(predictions, truth), len(truth), n_default)


def known_pairs(users: np.ndarray, items: np.ndarray, train: pd.DataFrame) -> np.ndarray:
    """Which (user, item) pairs have both a user and an item with at least one training rating."""
    return np.isin(users, train["user"].unique()) & np.isin(items, train["item"].unique())


def with_default(known_predictions: np.ndarray, known: np.ndarray, scale: tuple[float, float],
                 default: float = DEFAULT_RATING) -> np.ndarray:
    """Predictions for every pair, clipped to ``scale``: ``known_predictions`` where ``known``, else ``default``."""
    out = np.full(len(known), default, dtype=np.float64)
    out[known] = known_predictions
    return np.clip(out, *scale)


def predict_with_default(predict: Predictor, pairs: pd.DataFrame, train: pd.DataFrame,
                         scale: tuple[float, float], default: float = DEFAULT_RATING
                         ) -> tuple[np.ndarray, int]:
    """Clipped predictions for ``pairs``; pairs whose user or item has no training rating get ``default``.

    Returns the predictions and how many got the default.
    """
    users = pairs["user"].to_numpy()
    items = pairs["item"].to_numpy()
    known = known_pairs(users, items, train)
    preds = predict(users[known], items[known]) if known.any() else np.empty(0)
    return with_default(preds, known, scale, default), int((~known).sum())


def evaluate(predict: Predictor, test: pd.DataFrame, train: pd.DataFrame, scale: tuple[float, float],
             default: float = DEFAULT_RATING) -> Evaluation:
    """RMSE and MAE of ``predict`` on the observed ``test`` ratings only."""
    preds, n_default = predict_with_default(predict, test, train, scale, default)
    return scored(preds, test["rating"].to_numpy(), n_default)


def whole_numbers(values, what: str) -> np.ndarray:
    """``values`` (a number or a sequence) as an int64 array, refused unless every one is a whole
    number: an id or index such as ``1.5`` is never rounded to another one."""
    array = np.atleast_1d(np.asarray(values))
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{what} must be whole numbers, got {values!r}")
    if array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(array) & (array == np.round(array)))
        if bad.any():  # the value as Python shows it (1.5), not as NumPy 2's repr does (np.float64(1.5))
            raise ValueError(f"{what} must be whole numbers, got {array[bad][0].item()!r}")
    return array.astype(np.int64)


def top_n(scores: np.ndarray, exclude: np.ndarray, n: int = 10) -> np.ndarray:
    """Indices of the ``n`` highest scores, skipping the indices in ``exclude`` (``n`` a positive integer)."""
    positive_int(n, "n (how many items)")
    scores = np.asarray(scores, np.float64).copy()
    scores[np.asarray(exclude, dtype=np.int64)] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    best = np.argpartition(-scores, n - 1)[:n] if n else np.array([], dtype=np.int64)
    return best[np.argsort(-scores[best], kind="stable")]


def recommend(predict: Predictor, user: int, train: pd.DataFrame, n_items: int,
              titles: np.ndarray | None = None, item_ids: np.ndarray | None = None,
              n: int = 10, scale: tuple[float, float] | None = None) -> pd.DataFrame:
    """Top-``n`` items for ``user`` (an index) that the user has not rated in ``train``.

    Ranked by the raw scores; with ``scale`` the scores shown are clipped to the rating scale.
    """
    items = np.arange(n_items)
    scores = predict(np.full(n_items, user), items)
    rated = train.loc[train["user"] == user, "item"].to_numpy()
    best = top_n(scores, rated, n)
    shown = np.asarray(scores)[best]
    frame = pd.DataFrame({"item": best, "score": shown if scale is None else np.clip(shown, *scale)})
    if item_ids is not None:
        frame.insert(1, "item_id", item_ids[best])
    if titles is not None:
        frame.insert(len(frame.columns) - 1, "title", titles[best])
    return frame


# --------------------------------------------------------------------------------------------
# Top-k ranking: candidates, per-user metrics, and what a whole set of lists covers
# --------------------------------------------------------------------------------------------

RELEVANT_FROM = 4.0  # a held-out rating of 4 or 5 marks a movie the user liked


def score_matrix(predict: Predictor, n_users: int, n_items: int, chunk: int = 128) -> np.ndarray:
    """Raw predictions for every (user, item) pair, shape ``(n_users, n_items)``, ``chunk`` users at a time."""
    out = np.empty((n_users, n_items), dtype=np.float64)
    items = np.arange(n_items)
    for start in range(0, n_users, chunk):
        users = np.arange(start, min(start + chunk, n_users))
        pairs_u, pairs_i = np.repeat(users, n_items), np.tile(items, len(users))
        out[users] = np.asarray(predict(pairs_u, pairs_i), np.float64).reshape(len(users), n_items)
    return out


def rated_mask(ratings: pd.DataFrame | list[pd.DataFrame], n_users: int, n_items: int) -> np.ndarray:
    """Boolean ``(n_users, n_items)``: True where the user rated the item in any of ``ratings``."""
    frames = ratings if isinstance(ratings, (list, tuple)) else [ratings]
    mask = np.zeros((n_users, n_items), dtype=bool)
    for frame in frames:
        mask[frame["user"].to_numpy(), frame["item"].to_numpy()] = True
    return mask


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int = 10) -> np.ndarray:
    """Each user's ``k`` best candidates, best first: shape ``(n_users, k)``.

    ``scores`` is ``(n_users, n_items)``; every item where ``exclude`` is False is a candidate, the
    excluded ones (already rated) never appear. Ties go to the lower item index. A user with fewer
    than ``k`` candidates gets ``-1`` in the empty places.
    """
    scores = np.where(exclude, -np.inf, np.asarray(scores, np.float64))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    ranked = order.astype(np.int64)
    ranked[np.take_along_axis(exclude, order, axis=1)] = -1
    return ranked


def top_k_candidates(predict: Predictor, train: pd.DataFrame, n_users: int, n_items: int, k: int = 10,
                     also_exclude: pd.DataFrame | list[pd.DataFrame] | None = None) -> np.ndarray:
    """Every user's top ``k`` by ``predict``'s raw scores among the items they did not rate in ``train``.

    ``also_exclude``: further rated pairs to leave out (the validation ratings, when scoring test).
    """
    frames = [train] + ([] if also_exclude is None else
                        list(also_exclude) if isinstance(also_exclude, (list, tuple)) else [also_exclude])
    return top_k(score_matrix(predict, n_users, n_items), rated_mask(frames, n_users, n_items), k)


def relevant_items(held_out: pd.DataFrame, threshold: float = RELEVANT_FROM) -> dict[int, np.ndarray]:
    """Each user's held-out items rated at least ``threshold`` (users with none are absent)."""
    liked = held_out[held_out["rating"] >= threshold]
    return {int(u): items.to_numpy() for u, items in liked.groupby("user")["item"]}


def _items(relevant) -> np.ndarray:
    """The distinct relevant items, from a set, list or array."""
    return np.unique(np.asarray(list(relevant), dtype=np.int64))


def _hits(recommended, relevant, k: int) -> np.ndarray:
    """1.0 where the i-th of the first ``k`` recommendations is relevant, else 0.0."""
    return np.isin(np.asarray(recommended)[:k], _items(relevant)).astype(np.float64)


def precision_at_k(recommended, relevant, k: int = 10) -> float:
    """Share of the first ``k`` recommendations that are relevant (out of ``k``)."""
    return float(_hits(recommended, relevant, k).sum() / k)


def recall_at_k(recommended, relevant, k: int = 10) -> float:
    """Share of the relevant items found among the first ``k`` recommendations."""
    n_relevant = len(_items(relevant))
    return float(_hits(recommended, relevant, k).sum() / n_relevant) if n_relevant else 0.0


def hit_at_k(recommended, relevant, k: int = 10) -> float:
    """1.0 if any of the first ``k`` recommendations is relevant, else 0.0."""
    return float(_hits(recommended, relevant, k).any())


def ndcg_at_k(recommended, relevant, k: int = 10) -> float:
    """Binary-relevance NDCG: ``DCG = sum_i rel_i / log2(i + 1)`` over ranks ``i = 1..k``, divided by
    the DCG of an ideal list (all relevant items first: ``min(k, |relevant|)`` of them)."""
    hits = _hits(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = discounts[:min(k, len(_items(relevant)))].sum()
    return float((hits * discounts[:len(hits)]).sum() / ideal) if ideal else 0.0


@dataclass
class RankingEvaluation:
    """Mean per-user top-k metrics over the ``n_users`` users with a relevant held-out item;
    ``n_skipped`` held-out users had none and are left out."""

    k: int
    precision: float
    recall: float
    hit_rate: float
    ndcg: float
    n_users: int
    n_skipped: int

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate_ranking(ranked: np.ndarray, held_out: pd.DataFrame, k: int = 10,
                     threshold: float = RELEVANT_FROM) -> RankingEvaluation:
    """Precision, recall, hit rate and NDCG at ``k`` of the lists ``ranked`` (row ``u``: user ``u``'s
    recommendations, best first), averaged over the users with a held-out rating >= ``threshold``."""
    per_user = ranking_per_user(ranked, held_out, k, threshold)
    means = per_user.mean(axis=0).to_numpy() if len(per_user) else np.full(4, np.nan)
    n_skipped = int(held_out["user"].nunique()) - len(per_user)
    return RankingEvaluation(k, *map(float, means), len(per_user), n_skipped)


def catalogue_coverage(ranked: np.ndarray, n_items: int) -> float:
    """Share of the catalogue's ``n_items`` that appear in at least one user's list."""
    shown = np.unique(ranked[ranked >= 0])
    return float(len(shown) / n_items)


def item_popularity(train: pd.DataFrame, n_items: int) -> np.ndarray:
    """Training ratings per item (0 for an item with none)."""
    return np.bincount(train["item"].to_numpy(), minlength=n_items)


def popularity_percentile(ranked: np.ndarray, train: pd.DataFrame, n_items: int) -> float:
    """Mean popularity percentile (0-100) of the recommended items: for each, the share of the
    catalogue with fewer training ratings than it has."""
    counts = item_popularity(train, n_items)
    percentile = 100.0 * np.searchsorted(np.sort(counts), counts, side="left") / n_items
    return float(percentile[ranked[ranked >= 0]].mean())


def most_rated(train: pd.DataFrame, n_items: int, n_top: int = 100) -> np.ndarray:
    """The ``n_top`` items with the most training ratings (ties to the lower index)."""
    counts = item_popularity(train, n_items)
    return np.argsort(-counts, kind="stable")[:n_top]


def top_popular_share(ranked: np.ndarray, train: pd.DataFrame, n_items: int, n_top: int = 100) -> float:
    """Share of all recommendation slots filled by one of the ``n_top`` most-rated items."""
    shown = ranked[ranked >= 0]
    return float(np.isin(shown, most_rated(train, n_items, n_top)).mean())


# --------------------------------------------------------------------------------------------
# Paired comparisons: is a difference between two models larger than its noise?
# --------------------------------------------------------------------------------------------

def ranking_per_user(ranked: np.ndarray, held_out: pd.DataFrame, k: int = 10,
                     threshold: float = RELEVANT_FROM) -> pd.DataFrame:
    """Precision, recall, hit and NDCG at ``k`` of each user with a held-out rating >= ``threshold``
    (one row per user, indexed by user): the values :func:`evaluate_ranking` averages. Two models'
    frames on the same held-out part have the same rows, so they can be compared user by user."""
    relevant = relevant_items(held_out, threshold)
    users = sorted(relevant)
    metrics = (precision_at_k, recall_at_k, hit_at_k, ndcg_at_k)
    values = np.array([[f(ranked[u], relevant[u], k) for f in metrics] for u in users]).reshape(-1, len(metrics))
    return pd.DataFrame(values, index=pd.Index(users, name="user"), columns=["precision", "recall", "hit", "ndcg"])


@dataclass(frozen=True)
class PairedDifference:
    """The mean of paired differences ``a − b`` (per user, seed or fold), its standard error and a
    95 % interval; ``clear`` when the interval leaves out 0, i.e. the sign is more than noise."""

    mean: float
    se: float
    n: int
    low: float
    high: float

    @property
    def clear(self) -> bool:
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.mean:+.4f} ± {self.se:.4f} (SE, n = {self.n})"


def paired_difference(a, b) -> PairedDifference:
    """``a − b`` paired unit by unit (two models' per-user metrics, or per-seed RMSEs): the mean,
    its standard error ``sd / √n`` (sample sd) and a 95 % Student-t interval (``n − 1`` degrees of
    freedom, so that five seeds get the wider interval they call for)."""
    from scipy import stats

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"paired_difference needs two 1-D sequences of the same length >= 2 (one value per "
                         f"user, seed or fold, in the same order), got shapes {a.shape} and {b.shape}")
    diffs = a - b
    n = len(diffs)
    mean, se = float(diffs.mean()), float(diffs.std(ddof=1) / np.sqrt(n))
    half = float(stats.t.ppf(0.975, n - 1)) * se
    return PairedDifference(mean, se, n, mean - half, mean + half)


def rmse_difference(pred_a: np.ndarray, pred_b: np.ndarray, truth: np.ndarray, users: np.ndarray,
                    n_resamples: int = 2000, seed: int = 0) -> PairedDifference:
    """RMSE of ``pred_a`` minus RMSE of ``pred_b`` on the same ratings (``truth``, by ``users``), with
    a paired bootstrap over users: users are drawn with replacement, each bringing all of their
    ratings, and both RMSEs are recomputed on every draw. ``se`` is the sd of the resampled
    differences; the interval holds their middle 95 %. (RMSE is not a mean over users, hence the
    bootstrap rather than :func:`paired_difference`.)"""
    positive_int(n_resamples, "n_resamples")
    truth = np.asarray(truth, np.float64)
    _, group = np.unique(np.asarray(users), return_inverse=True)
    n_groups = int(group.max()) + 1
    squared = [np.bincount(group, (np.asarray(p, np.float64) - truth) ** 2, n_groups) for p in (pred_a, pred_b)]
    counts = np.bincount(group, minlength=n_groups).astype(np.float64)
    draws = np.random.default_rng(seed).multinomial(n_groups, np.full(n_groups, 1 / n_groups), size=n_resamples)
    total = draws @ counts
    resampled = np.sqrt(draws @ squared[0] / total) - np.sqrt(draws @ squared[1] / total)
    observed = float(np.sqrt(squared[0].sum() / counts.sum()) - np.sqrt(squared[1].sum() / counts.sum()))
    low, high = np.quantile(resampled, [0.025, 0.975])
    return PairedDifference(observed, float(resampled.std(ddof=1)), n_groups, float(low), float(high))
