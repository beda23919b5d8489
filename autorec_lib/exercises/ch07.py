"""Check functions for the exercises of notebook 07 (evaluating recommendations).

Every check recomputes the right answer with :mod:`autorec_lib.metrics` from the learner's own
objects (their top-10 lists, their trained I-AutoRec, their function) and the training and
validation ratings; none needs a stored reference and none reads test ratings.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import fail, number, passed, valid_rmse, whole
from ..metrics import (RELEVANT_FROM, evaluate_ranking, item_popularity, ndcg_at_k, rated_mask, relevant_items,
                       score_matrix, top_k)

K = 10
TOL = 1e-6  # the same lists scored again: equal up to rounding, float32 arithmetic included (~1e-7)
BY_K = (1, 5, 10, 20, 50)
BY_K_MODELS = ("I-AutoRec", "most popular")
BY_K_COLUMNS = ("precision", "recall", "ndcg")
MRR_MODELS = ("I-AutoRec", "U-AutoRec", "biased MF", "most popular")


def _lists(valid_lists, name: str, split) -> np.ndarray:
    """One model's top-10 lists from ``valid_lists``: shape, and no item rated in training."""
    if not isinstance(valid_lists, dict) or name not in valid_lists:
        fail(f"pass valid_lists, the dict of Sec. 7.2 with a top-{K} array per model (it needs {name!r})")
    lists = np.asarray(valid_lists[name])
    if lists.ndim != 2 or lists.shape[1] != K or not np.issubdtype(lists.dtype, np.integer):
        fail(f"valid_lists[{name!r}] should be an integer array of shape (n_users, {K}), got {lists.shape}")
    users = split.train["user"].to_numpy()
    if lists.shape[0] <= users.max():
        fail(f"valid_lists[{name!r}] has {lists.shape[0]} rows, fewer than the users of the split")
    n_items = max(int(lists.max()), int(split.train["item"].max())) + 1
    seen = rated_mask(split.train, lists.shape[0], n_items)
    if np.take_along_axis(seen, np.maximum(lists, 0), 1)[lists >= 0].any():
        fail(f"valid_lists[{name!r}] recommends movies the user rated in training: those are not candidates")
    return lists


# --------------------------------------------------------------------------------------------
# Exercise 1: NDCG@10 by hand for one user
# --------------------------------------------------------------------------------------------

def _ndcg_variants(listed: np.ndarray, ratings: pd.DataFrame) -> dict[str, float]:
    """What plausible slips give, each named by the hint that corrects it."""
    liked = ratings.loc[ratings["rating"] >= RELEVANT_FROM, "item"].to_numpy()
    rel = np.isin(listed[:K], liked).astype(float)
    places = np.arange(1, K + 1)
    discount = 1 / np.log2(places + 1)
    dcg = float((rel * discount).sum())
    ideal_all = float((1 / np.log2(np.arange(1, len(liked) + 1) + 1)).sum())
    shifted = 1 / np.log2(places + 2)
    graded = ratings.set_index("item")["rating"].reindex(listed[:K]).fillna(0).to_numpy()
    graded_ideal = np.sort(ratings["rating"].to_numpy())[::-1][:K]
    return {
        "DCG is divided by the DCG of the ideal list (IDCG): NDCG lies between 0 and 1": dcg,
        f"the ideal list has only {K} places: IDCG sums the discounts of min({K}, |R|) places, not of all "
        "the relevant movies": dcg / ideal_all if ideal_all else math.nan,
        "the discount of place j, counting from 1, is 1 / log2(j + 1): place 1 has discount 1": float(
            (rel * shifted).sum() / shifted[:min(K, len(liked))].sum()) if len(liked) else math.nan,
        "relevance is binary here (1 for a held-out rating of 4 or 5, else 0), not the rating itself": float(
            (graded * discount).sum() / (graded_ideal * discount[:len(graded_ideal)]).sum()),
        "relevant means a validation rating of 4 or more, not only 5s": ndcg_at_k(
            listed, ratings.loc[ratings["rating"] >= 5, "item"].to_numpy(), K),
        "relevant means a validation rating of 4 or more, not 3 or more": ndcg_at_k(
            listed, ratings.loc[ratings["rating"] >= 3, "item"].to_numpy(), K),
    }


def most_relevant_user(relevant: dict) -> int:
    """The user with the most relevant held-out items (ties to the lower index): Exercise 1's user."""
    return max(relevant, key=lambda u: (len(relevant[u]), -u))


def check_ndcg_by_hand(my_ndcg, ndcg_user, valid_lists, split) -> None:
    """Exercise 1: ``my_ndcg``, NDCG@10 of I-AutoRec's list for ``ndcg_user``, the user with the most
    relevant validation movies, on the validation split."""
    user = whole(ndcg_user, "ndcg_user (a user index)")
    lists = _lists(valid_lists, "I-AutoRec", split)
    relevant = relevant_items(split.valid)
    if user not in relevant:
        fail(f"user {user} has no validation rating of 4 or more: NDCG is undefined for them")
    expected_user = most_relevant_user(relevant)
    if user != expected_user:
        fail(f"ndcg_user is {user}, but the exercise is about user {expected_user}, the user with the most "
             "relevant validation movies: keep ndcg_user as the notebook defines it")
    value = number(my_ndcg, "my_ndcg")
    listed = lists[user]
    expected = ndcg_at_k(listed, relevant[user], K)
    if abs(value - expected) <= TOL:
        passed(f"NDCG@{K} of I-AutoRec's list for user {user} is {expected:.4f}, as the library computes it")
        return
    mine = split.valid[split.valid["user"] == user]
    for hint, wrong in _ndcg_variants(listed, mine).items():
        if not math.isnan(wrong) and abs(wrong - expected) > TOL and abs(value - wrong) <= TOL:
            fail(f"my_ndcg is {value:.4f}, which is not right yet: {hint}")
    fail(f"my_ndcg is {value:.4f}, which is not NDCG@{K} of valid_lists['I-AutoRec'][{user}] on the validation "
         "split. Build the 0/1 vector of hits over the ten places, weight place j by 1 / log2(j + 1), and divide "
         "by the ideal list's DCG.")


# --------------------------------------------------------------------------------------------
# Exercise 2: precision, recall and NDCG at several k
# --------------------------------------------------------------------------------------------

def _expected_by_k(scores: np.ndarray, seen: np.ndarray, split) -> pd.DataFrame:
    lists = top_k(scores, seen, max(BY_K))  # a stable sort: the first k of the top 50 are the top k
    rows = {}
    for k in BY_K:
        ranking = evaluate_ranking(lists[:, :k], split.valid, k)
        rows[k] = {"precision": ranking.precision, "recall": ranking.recall, "ndcg": ranking.ndcg}
    return pd.DataFrame(rows).T


def check_by_k(by_k, result, split, data) -> None:
    """Exercise 2: ``by_k[name]``, for I-AutoRec and most popular, a DataFrame indexed by k (1, 5, 10,
    20, 50) with the validation precision, recall and NDCG at that k."""
    if not isinstance(by_k, dict) or set(by_k) != set(BY_K_MODELS):
        fail(f"by_k should be a dict with exactly the keys {list(BY_K_MODELS)}, got "
             f"{sorted(by_k) if isinstance(by_k, dict) else type(by_k).__name__}")
    if getattr(getattr(result, "config", None), "model_type", None) != "autorec" or result.config.variant != "item":
        fail("pass results['I-AutoRec'], the trained I-AutoRec of Sec. 7.2")
    valid_rmse(result, split, data.scale, "results['I-AutoRec']")
    for name, frame in by_k.items():
        if not isinstance(frame, pd.DataFrame):
            fail(f"by_k[{name!r}] should be a pandas DataFrame, got {type(frame).__name__}")
        if sorted(int(k) for k in frame.index) != list(BY_K):
            fail(f"by_k[{name!r}] should be indexed by k = {list(BY_K)}, got {list(frame.index)}")
        missing = [c for c in BY_K_COLUMNS if c not in frame.columns]
        if missing:
            fail(f"by_k[{name!r}] lacks the columns {missing}")
    seen = rated_mask(split.train, data.n_users, data.n_items)
    popularity = item_popularity(split.train, data.n_items).astype(np.float64)
    scores = {"I-AutoRec": score_matrix(result.learner.predict, data.n_users, data.n_items),
              "most popular": np.tile(popularity, (data.n_users, 1))}
    expected = {name: _expected_by_k(s, seen, split) for name, s in scores.items()}
    for name in BY_K_MODELS:
        other = BY_K_MODELS[1 - BY_K_MODELS.index(name)]
        for k in BY_K:
            for column in BY_K_COLUMNS:
                value = number(by_k[name].loc[k, column], f"by_k[{name!r}].loc[{k}, {column!r}]", 0.0, 1.0)
                want = expected[name].loc[k, column]
                if abs(value - want) <= TOL:
                    continue
                if abs(value - expected[other].loc[k, column]) <= TOL:
                    fail(f"by_k[{name!r}].loc[{k}, {column!r}] is {other}'s value: are the models swapped?")
                for swapped in BY_K_COLUMNS:
                    if swapped != column and abs(value - expected[name].loc[k, swapped]) <= TOL:
                        fail(f"by_k[{name!r}].loc[{k}, {column!r}] is the {swapped}: are the columns swapped?")
                unfiltered = _expected_by_k(scores[name], np.zeros_like(seen), split)
                if abs(value - unfiltered.loc[k, column]) <= TOL:
                    fail(f"by_k[{name!r}] ranks movies the users rated in training: leave them out "
                         "(metrics.top_k with the mask of training ratings)")
                fail(f"by_k[{name!r}].loc[{k}, {column!r}] is {value:.4f}, which is not right yet: make the top-{k} "
                     "lists among the movies not rated in training and score them on split.valid at that k")
    i_at, p_at = expected["I-AutoRec"], expected["most popular"]
    passed(f"at k = 1 … 50 I-AutoRec's precision goes {i_at['precision'].iloc[0]:.3f} → "
           f"{i_at['precision'].iloc[-1]:.3f}, recall {i_at['recall'].iloc[0]:.3f} → {i_at['recall'].iloc[-1]:.3f}; "
           f"most popular's precision {p_at['precision'].iloc[0]:.3f} → {p_at['precision'].iloc[-1]:.3f}")


# --------------------------------------------------------------------------------------------
# Exercise 3: mean reciprocal rank
# --------------------------------------------------------------------------------------------

def _reciprocal_rank(recommended, relevant, k: int = K) -> float:
    """1 / (place of the first relevant item among the first ``k``, counting from 1), 0 without one."""
    hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k], np.asarray(list(relevant))))
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


# (recommended, relevant, k): first hit at place 1, 3, none, one past k, duplicates, an array of relevant items
RR_CASES = (([4, 2, 7], {4}, 3), ([4, 2, 7, 1], {7, 1}, 4), ([4, 2, 7], {9}, 3), ([4, 2, 7, 1], {1}, 3),
            ([5, 6, 8, 9, 3], [3, 3, 9], 5), (np.array([1, 2, 3]), np.array([2]), 3), ([1, 2, 3], {3, 2}, 10))


def _check_function(reciprocal_rank) -> None:
    if not callable(reciprocal_rank):
        fail(f"reciprocal_rank should be a function, got {type(reciprocal_rank).__name__}")
    for recommended, relevant, k in RR_CASES:
        want = _reciprocal_rank(recommended, relevant, k)
        try:
            got = reciprocal_rank(recommended, relevant, k)
        except Exception as err:  # the learner's own code: report what it raised
            fail(f"reciprocal_rank({list(recommended)}, {relevant}, {k}) raised {type(err).__name__}: {err}")
        got = number(got, f"reciprocal_rank({list(recommended)}, {relevant}, {k})")
        if abs(got - want) > 1e-12:
            place = round(1 / want) if want else 0
            hint = ("count the places from 1: the first place gives 1" if place > 1 and math.isclose(got, 1 / (place - 1))
                    else f"only the first {k} places count, and a list without a hit gives 0" if not want
                    else "take the place of the FIRST relevant item, counting from 1")
            fail(f"reciprocal_rank({list(recommended)}, {relevant}, {k}) is {got:.4f}, which is not right: {hint}")


def check_mrr(reciprocal_rank, mrr, valid_lists, split) -> None:
    """Exercise 3: the learner's ``reciprocal_rank`` and ``mrr``, each model's MRR@10 on the validation
    split over the users with a relevant validation movie."""
    _check_function(reciprocal_rank)
    if not isinstance(mrr, dict) or set(mrr) != set(MRR_MODELS):
        fail(f"mrr should be a dict with exactly the keys {list(MRR_MODELS)}, got "
             f"{sorted(mrr) if isinstance(mrr, dict) else type(mrr).__name__}")
    relevant = relevant_items(split.valid)
    valid_users = split.valid["user"].unique()
    for name in MRR_MODELS:
        lists = _lists(valid_lists, name, split)
        per_user = {u: _reciprocal_rank(lists[u], relevant.get(u, ()), K) for u in valid_users}
        want = float(np.mean([per_user[u] for u in relevant]))
        value = number(mrr[name], f"mrr[{name!r}]", 0.0, 1.0)
        if abs(value - want) <= TOL:
            continue
        if abs(value - float(np.mean(list(per_user.values())))) <= TOL:
            fail(f"mrr[{name!r}] averages over every validation user; average only over the "
                 f"{len(relevant)} with a relevant movie (the others are skipped, as for the other metrics)")
        if abs(value - float(np.mean([per_user.get(u, 0.0) for u in range(lists.shape[0])]))) <= TOL:
            fail(f"mrr[{name!r}] averages over every user; average only over the {len(relevant)} with a relevant "
                 "validation movie")
        fail(f"mrr[{name!r}] is {value:.4f}, which is not right yet: apply your reciprocal_rank to "
             "valid_lists[name][u] for each user u in metrics.relevant_items(split.valid), then average")
    passed("reciprocal_rank is right, and MRR@10 on validation is " +
           ", ".join(f"{name} {mrr[name]:.4f}" for name in MRR_MODELS))
