"""Check functions for the exercises of notebook 07 (evaluating recommendations).

Every check recomputes the right answer with :mod:`autorec_lib.metrics` from the learner's own
objects (their trained runs, from which it makes the top-10 lists again as Sec. 7.2 does, and their
functions) and the training and validation ratings; none needs a stored reference and none reads
test ratings. Exercise 1 refuses an ``ndcg_by_hand`` that calls an NDCG already written (the
library's or scikit-learn's), seen by watching the calls while it runs, not by the names in its code. The split handed
in must be the notebook's random split (any seed), rebuilt from its spec (``ch04.notebook_split``), so its
validation part is the validation part.
Exercises 1 and 3 also run the learner's function on cases of the check's own, chosen so that
every plausible slip changes some answer; exercise 2 accepts every valid tie-break of equal scores.
"""
from __future__ import annotations

import math
import os
from collections.abc import Set as AbstractSet

import numpy as np
import pandas as pd

from . import fail, number, passed, watched_call, whole
from . import result as result_of
from . import trained_on as trained_with
from .ch04 import course_run, notebook_split, rounded
from .ch05 import trained_on
from ..metrics import (RELEVANT_FROM, evaluate_ranking, item_popularity, ndcg_at_k, ranking_per_user,
                       rated_mask, relevant_items, score_matrix, top_k)

K = 10
TOL = 1e-6  # the same lists scored again: equal up to rounding, float32 arithmetic included (~1e-7)
BY_K = (1, 5, 10, 20, 50)
BY_K_MODELS = ("I-AutoRec", "most popular")
BY_K_COLUMNS = ("precision", "recall", "ndcg")
MRR_MODELS = ("I-AutoRec", "U-AutoRec", "biased MF", "most popular")
# Exercise 1: NDCGs already written, which ndcg_by_hand must not call: the library's (by their code
# objects, so a learner's own helper of the same name is no call of theirs) and scikit-learn's (by
# name, in scikit-learn's files: it need not be imported before the learner's function runs).
LIBRARY_NDCG = {f.__code__: f"metrics.{f.__name__}" for f in (ndcg_at_k, evaluate_ranking,
                                                                   ranking_per_user)}
SKLEARN_NDCG = ("ndcg_score", "dcg_score")
SAMPLE_USERS = 8  # users on whose lists the learner's function is run, besides the check's own cases
I_AUTOREC_HINT = "pass results['I-AutoRec'] of Sec. 7.2, trained with the course's settings"


# The trained runs of Sec. 7.2 (model type, variant), whose top-10 lists the checks of exercises 1 and 3
# rebuild themselves (as Sec. 7.2 makes valid_lists), so that lists swapped between models are no answer.
RUNS = {"I-AutoRec": ("autorec", "item"), "U-AutoRec": ("autorec", "user"), "biased MF": ("biased-mf", None)}
RESULTS_HINT = "pass `results`, the dict of Sec. 7.2's trained runs"


def _lists(results, name: str, split, data) -> np.ndarray:
    """The top-10 validation lists of model ``name`` as Sec. 7.2 makes them (among the movies each user did
    not rate in training, ties to the lower index), rebuilt from its run in ``results`` (most popular from
    the training ratings). I-AutoRec must be the course's run; the others the right model trained on
    ``split``."""
    seen = rated_mask(split.train, data.n_users, data.n_items)
    if name == "most popular":
        scores = np.tile(item_popularity(split.train, data.n_items).astype(np.float64), (data.n_users, 1))
        return top_k(scores, seen, K)
    if not isinstance(results, dict) or name not in results:
        fail(f"{RESULTS_HINT} (a dict with the keys {list(RUNS)}); it lacks {name!r}")
    run, what = results[name], f"results[{name!r}]"
    if name == "I-AutoRec":
        course_run(run, name, split, data, what, hint=I_AUTOREC_HINT)
    else:
        result_of(run, what)
        model_type, variant = RUNS[name]
        if run.config.model_type != model_type or (variant and run.config.variant != variant):
            fail(f"{what} is a {run.config.model_type} ({run.config.variant}) model, not {name}: are the runs "
                 f"swapped? {RESULTS_HINT}")
        trained_with(run, split, what)
    return top_k(score_matrix(run.learner.predict, data.n_users, data.n_items), seen, K)


def _call(function, args: tuple, call: str):
    """The learner's ``function`` called on copies of ``args`` (it may change what it is given); what it
    raised is reported as a failure naming the ``call``."""
    return watched_call(function, args, call, lambda code: None)[0]


def _library_ndcg(code) -> str | None:
    """The name of the NDCG already written that ``code`` is, or None."""
    if code in LIBRARY_NDCG:
        return LIBRARY_NDCG[code]
    if code.co_name in SKLEARN_NDCG and f"{os.sep}sklearn{os.sep}" in code.co_filename:
        return f"sklearn.metrics.{code.co_name}"
    return None


def _ndcg_call(ndcg_by_hand, args: tuple, call: str):
    """The learner's ``ndcg_by_hand`` on ``args``, refused if it called an NDCG already written."""
    output, library = watched_call(ndcg_by_hand, args, call, _library_ndcg)
    if library:
        fail(f"ndcg_by_hand called {', '.join(sorted(library))}, an NDCG that is already written: the exercise asks "
             "you to compute it yourself from the formulas of Sec. 7.1, with NumPy (your own helpers are welcome)")
    return output


# --------------------------------------------------------------------------------------------
# Exercise 1: NDCG@10 by hand
# --------------------------------------------------------------------------------------------

def _ndcg_variants(listed: np.ndarray, ratings: pd.DataFrame) -> dict[str, float]:
    """What plausible slips give on one list and one user's held-out ``ratings``, each named by the
    hint that corrects it (no hint names a number of the right answer)."""
    liked = ratings.loc[ratings["rating"] >= RELEVANT_FROM, "item"].to_numpy()
    rel = np.isin(listed[:K], liked).astype(float)
    places = np.arange(1, K + 1)
    discount = 1 / np.log2(places + 1)
    dcg = float((rel * discount).sum())
    ideal_all = float((1 / np.log2(np.arange(1, len(liked) + 1) + 1)).sum())
    shifted = 1 / np.log2(places + 2)
    graded = ratings.groupby("item")["rating"].max().reindex(listed[:K]).fillna(0).to_numpy(np.float64)
    graded_ideal = np.sort(ratings["rating"].to_numpy(np.float64))[::-1][:K]
    ideal_graded = lambda gain: float((gain(graded_ideal) * discount[:len(graded_ideal)]).sum())
    return {
        "DCG is divided by the DCG of the ideal list (IDCG): NDCG lies between 0 and 1": dcg,
        f"the ideal list has only {K} places: IDCG sums the discounts of min({K}, |R|) places, not of all "
        "the relevant movies": dcg / ideal_all if ideal_all else math.nan,
        f"IDCG sums the discounts of min({K}, |R|) places: a user with fewer relevant movies than places "
        "has an ideal list with fewer hits": dcg / float(discount.sum()),
        "the discount of place j, counting from 1, is 1 / log2(j + 1): place 1 has discount 1": float(
            (rel * shifted).sum() / shifted[:min(K, len(liked))].sum()) if len(liked) else math.nan,
        "relevance is binary here (1 for a held-out rating of 4 or 5, else 0), not the rating itself": float(
            (graded * discount).sum() / ideal_graded(lambda r: r)) if ideal_graded(lambda r: r) else math.nan,
        "relevance is binary here (1 for a held-out rating of 4 or 5, else 0), not a gain 2^r − 1": float(
            ((2 ** graded - 1) * discount).sum() / ideal_graded(lambda r: 2 ** r - 1))
        if ideal_graded(lambda r: 2 ** r - 1) else math.nan,
        "relevant means a held-out rating of 4 or more, not only 5s": ndcg_at_k(
            listed, ratings.loc[ratings["rating"] >= 5, "item"].to_numpy(), K),
        "relevant means a held-out rating of 4 or more, not 3 or more": ndcg_at_k(
            listed, ratings.loc[ratings["rating"] >= 3, "item"].to_numpy(), K),
        "relevant means a held-out rating of 4 or more, not every held-out rating": ndcg_at_k(
            listed, ratings["item"].to_numpy(), K),
    }


def _held_out(items, ratings) -> pd.DataFrame:
    """One user's held-out ratings as the exercise hands them over: a frame like ``split.valid``'s rows."""
    return pd.DataFrame({"user": np.zeros(len(items), np.int64), "item": np.asarray(items, np.int64),
                         "rating": np.asarray(ratings, np.float32), "timestamp": np.zeros(len(items), np.int64)})


def _ndcg_cases() -> list[tuple[str, np.ndarray, pd.DataFrame]]:
    """(what it tests, a top-10 list, a user's held-out ratings): every slip of :func:`_ndcg_variants`
    changes the answer of at least one case (a test checks it)."""
    listed = np.array([40, 41, 42, 43, 44, 45, 46, 47, 48, 49])
    many = _held_out([40, 41, 42, 43, 49, *range(60, 71)], [5, 3, 2, 4, 4, *([5] * 5), *([4] * 6)])
    few = _held_out([40, 41, 44, 46, 60, 61], [3, 4, 1, 5, 4, 2])
    none = _held_out([41, 42, 60, 61], [3, 2, 5, 4])
    last = _held_out([49, 45, 60], [4, 2, 1])
    return [("more relevant movies than places", listed, many), ("fewer relevant movies than places", listed, few),
            ("no hit on the list", listed, none), ("one hit, at place 10", listed, last)]


def _case_text(listed, held: pd.DataFrame) -> str:
    pairs = ", ".join(f"{i}: {r:g}" for i, r in zip(held["item"], held["rating"]))
    return f"a list {list(map(int, listed))} and held-out ratings {{{pairs}}} (item: rating)"


def _check_ndcg_function(ndcg_by_hand) -> None:
    """The learner's ``ndcg_by_hand(listed, held_out)`` on the check's own cases, against the library."""
    if not callable(ndcg_by_hand):
        fail(f"ndcg_by_hand should be a function, got {type(ndcg_by_hand).__name__}")
    for case, listed, held in _ndcg_cases():
        want = ndcg_at_k(listed, held.loc[held["rating"] >= RELEVANT_FROM, "item"].to_numpy(), K)
        got = number(_ndcg_call(ndcg_by_hand, (listed, held), f"ndcg_by_hand(listed, held_out) on {case}"),
                     f"ndcg_by_hand on {case}")
        if abs(got - want) <= TOL:
            continue
        where = f"ndcg_by_hand gives {got:.4f} on {case} ({_case_text(listed, held)}), which is not right"
        for hint, wrong in _ndcg_variants(listed, held).items():
            if not math.isnan(wrong) and abs(wrong - want) > TOL and abs(got - wrong) <= TOL:
                fail(f"{where}: {hint}")
        fail(f"{where}. Build the 0/1 vector of hits over the ten places (a hit: a held-out rating of 4 or more), "
             "weight place j by 1 / log2(j + 1), and divide by the DCG of the ideal list.")


def _some_users(relevant: dict, n: int = SAMPLE_USERS) -> list[int]:
    """``n`` users with a relevant held-out movie, spread from the fewest relevant movies to the most (the
    learner's function is run on their lists: a few calls, cheap also where each call crosses to a
    grader's kernel)."""
    ordered = sorted(relevant, key=lambda u: (len(relevant[u]), u))
    return sorted({ordered[int(round(j))] for j in np.linspace(0, len(ordered) - 1, min(n, len(ordered)))})


def most_relevant_user(relevant: dict) -> int:
    """The user with the most relevant held-out items (ties to the lower index): Exercise 1's user."""
    return max(relevant, key=lambda u: (len(relevant[u]), -u))


def check_ndcg_by_hand(ndcg_by_hand, my_ndcg, ndcg_user, results, split, data) -> None:
    """Exercise 1: ``ndcg_by_hand(listed, held_out)``, NDCG@10 of a top-10 list for a user whose held-out
    ratings are the frame ``held_out`` (rows of ``split.valid``), and ``my_ndcg``, its value for
    I-AutoRec's list of ``ndcg_user`` (the user with the most relevant validation movies) on the
    validation split; ``results``, Sec. 7.2's trained runs, from which the check makes I-AutoRec's lists
    again. The function is also run on cases of the check's own and on some users' lists."""
    notebook_split(split, data)
    _check_ndcg_function(ndcg_by_hand)
    user = whole(ndcg_user, "ndcg_user (a user index)")
    lists = _lists(results, "I-AutoRec", split, data)
    relevant = relevant_items(split.valid)
    if user not in relevant:
        fail(f"user {user} has no validation rating of 4 or more: NDCG is undefined for them")
    expected_user = most_relevant_user(relevant)
    if user != expected_user:
        fail(f"ndcg_user is {user}, but the exercise is about user {expected_user}, the user with the most "
             "relevant validation movies: keep ndcg_user as the notebook defines it")
    by_user = dict(tuple(split.valid.groupby("user")))
    for u in sorted({*_some_users(relevant), user}):  # the learner's function on real lists, against the library
        call = f"ndcg_by_hand(valid_lists['I-AutoRec'][{u}], split.valid[split.valid['user'] == {u}])"
        got = number(_ndcg_call(ndcg_by_hand, (lists[u], by_user[u]), call), call)
        if abs(got - ndcg_at_k(lists[u], relevant[u], K)) > TOL:
            fail(f"{call} gives {got:.4f}, which is not NDCG@{K} of that list: your function passes the check's cases but not "
                 "this user's; look at what it assumes about the held-out frame (its rows, index and columns)")
    value = number(my_ndcg, "my_ndcg")
    listed = lists[user]
    expected = ndcg_at_k(listed, relevant[user], K)
    if abs(value - expected) <= TOL:
        passed(f"ndcg_by_hand agrees with the library on the check's {len(_ndcg_cases())} cases and on "
               f"{len({*_some_users(relevant), user})} users' lists; NDCG@{K} of I-AutoRec's list for user {user} "
               f"is {expected:.4f}")
        return
    if rounded(value):
        fail(f"my_ndcg is {value:g}, which looks rounded: give the value unrounded (round only what you print)")
    mine = split.valid[split.valid["user"] == user]
    for hint, wrong in _ndcg_variants(listed, mine).items():
        if not math.isnan(wrong) and abs(wrong - expected) > TOL and abs(value - wrong) <= TOL:
            fail(f"my_ndcg is {value:.4f}, which is not right yet: {hint}")
    fail(f"my_ndcg is {value:.4f}, which is not ndcg_by_hand(valid_lists['I-AutoRec'][ndcg_user], held_out) with "
         "held_out the user's rows of split.valid (the validation ratings alone, not training or test ones)")


# --------------------------------------------------------------------------------------------
# Exercise 2: precision, recall and NDCG at several k
# --------------------------------------------------------------------------------------------

def _expected_by_k(scores: np.ndarray, seen: np.ndarray, split) -> pd.DataFrame:
    """The library's values (ties to the lower item index)."""
    lists = top_k(scores, seen, max(BY_K))  # a stable sort: the first k of the top 50 are the top k
    rows = {}
    for k in BY_K:
        ranking = evaluate_ranking(lists[:, :k], split.valid, k)
        rows[k] = {"precision": ranking.precision, "recall": ranking.recall, "ndcg": ranking.ndcg}
    return pd.DataFrame(rows).T


def _bounds_by_k(scores: np.ndarray, seen: np.ndarray, split) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The lowest and the highest mean precision, recall and NDCG at each k over every valid tie-break:
    movies with equal scores may come in any order, and where such a group straddles place k, any of
    them may take the last places. Per user, the most (fewest) relevant movies of each group take its
    first (last) places; the users' bounds are averaged, as their values are."""
    relevant = relevant_items(split.valid)
    users = sorted(relevant)
    low, high = np.zeros((len(BY_K), 3)), np.zeros((len(BY_K), 3))
    discount = np.r_[0.0, np.cumsum(1 / np.log2(np.arange(2, scores.shape[1] + 2)))]  # sums of discounts
    for u in users:
        candidates = np.flatnonzero(~seen[u])
        s = scores[u, candidates]
        order = np.argsort(-s, kind="stable")
        s, hit = s[order], np.isin(candidates[order], relevant[u])
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(s) else np.zeros(0, np.int64)
        sizes = np.diff(np.r_[starts, len(s)])
        hits = np.add.reduceat(hit.astype(np.int64), starts) if len(s) else np.zeros(0, np.int64)
        n_rel = len(np.unique(relevant[u]))
        for row, k in enumerate(BY_K):
            n = min(k, len(s))
            groups = starts < n  # the groups that reach into the first k places
            st, size, r = starts[groups], sizes[groups], hits[groups]
            slots = np.minimum(st + size, n) - st
            most, fewest = np.minimum(slots, r), np.maximum(0, slots - (size - r))
            ideal = discount[min(k, n_rel)]
            for bound, x, dcg in ((high, most, (discount[st + most] - discount[st]).sum()),
                                  (low, fewest, (discount[st + slots] - discount[st + slots - fewest]).sum())):
                bound[row] += (x.sum() / k, x.sum() / n_rel, dcg / ideal)
    frame = lambda values: pd.DataFrame(values / len(users), index=list(BY_K), columns=list(BY_K_COLUMNS))
    return frame(low), frame(high)


def _by_k_frame(frame, name: str) -> pd.DataFrame:
    """``frame`` indexed by the ints k, refused with a message that says how when it is not."""
    what = f"by_k[{name!r}]"
    if not isinstance(frame, pd.DataFrame):
        fail(f"{what} should be a pandas DataFrame, got {type(frame).__name__}")

    def ks(labels) -> list[int] | None:
        out = []
        for label in labels:
            if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, float, np.integer, np.floating)):
                return None
            if not float(label).is_integer():
                return None
            out.append(int(label))
        return out if sorted(out) == list(BY_K) else None

    index = ks(frame.index)
    if index is None:
        if ks(frame.columns) is not None:
            fail(f"{what} has k in its columns and the metrics in its rows: transpose it (.T), so that it is "
                 "indexed by k")
        if "k" in frame.columns:
            fail(f"{what} has k as a column: make it the index (frame.set_index('k'))")
        fail(f"{what} should be indexed by the numbers k = {list(BY_K)} (ints), got {list(frame.index)}")
    missing = [c for c in BY_K_COLUMNS if c not in frame.columns]
    if missing:
        fail(f"{what} lacks the columns {missing}")
    return frame.set_axis(index, axis=0)


def check_by_k(by_k, result, split, data) -> None:
    """Exercise 2: ``by_k[name]``, for I-AutoRec and most popular, a DataFrame indexed by k (1, 5, 10,
    20, 50) with the validation precision, recall and NDCG at that k. Movies with equal scores (most
    popular's equal counts) may be ranked in any order: every tie-break is accepted."""
    if not isinstance(by_k, dict) or set(by_k) != set(BY_K_MODELS):
        fail(f"by_k should be a dict with exactly the keys {list(BY_K_MODELS)}, got "
             f"{sorted(by_k) if isinstance(by_k, dict) else type(by_k).__name__}")
    course_run(result, "I-AutoRec", split, data, "results['I-AutoRec']", hint=I_AUTOREC_HINT)
    trained_on(result.learner, split, data, "item", "results['I-AutoRec']")
    frames = {name: _by_k_frame(frame, name) for name, frame in by_k.items()}
    seen = rated_mask(split.train, data.n_users, data.n_items)
    popularity = item_popularity(split.train, data.n_items).astype(np.float64)
    scores = {"I-AutoRec": score_matrix(result.learner.predict, data.n_users, data.n_items),
              "most popular": np.tile(popularity, (data.n_users, 1))}
    bounds = {name: _bounds_by_k(s, seen, split) for name, s in scores.items()}
    values = {name: pd.DataFrame({c: {k: number(frames[name].loc[k, c], f"by_k[{name!r}].loc[{k}, {c!r}]", 0.0, 1.0)
                                      for k in BY_K} for c in BY_K_COLUMNS}) for name in BY_K_MODELS}

    def inside(frame: pd.DataFrame, limits, columns=BY_K_COLUMNS) -> pd.DataFrame:
        """Where ``frame`` (columns renamed to ``columns``) lies within the bounds ``limits``."""
        low, high = (b[list(columns)].set_axis(list(BY_K_COLUMNS), axis=1) for b in limits)
        return (frame >= low - TOL) & (frame <= high + TOL)

    for name in BY_K_MODELS:
        other = BY_K_MODELS[1 - BY_K_MODELS.index(name)]
        right = inside(values[name], bounds[name])
        if right.all().all():
            continue
        wrong = [(k, c) for k in BY_K for c in BY_K_COLUMNS if not right.loc[k, c]]
        if all(rounded(values[name].loc[k, c]) for k, c in wrong):  # the values alone, not the bounds: no oracle
            k, c = wrong[0]
            fail(f"by_k[{name!r}].loc[{k}, {c!r}] is {values[name].loc[k, c]:g}, which looks rounded: give the "
                 "values unrounded (round only what you print)")
        if inside(values[name], bounds[other]).all().all():
            fail(f"by_k[{name!r}] holds {other}'s values: are the models swapped?")
        for column in BY_K_COLUMNS:
            for swapped in BY_K_COLUMNS:
                if (swapped != column and not right[column].all() and inside(
                        values[name], bounds[name], [swapped if c == column else c for c in BY_K_COLUMNS])[column].all()):
                    fail(f"by_k[{name!r}][{column!r}] holds the {swapped}: are the columns swapped?")
        if inside(values[name], _bounds_by_k(scores[name], np.zeros_like(seen), split)).all().all():
            fail(f"by_k[{name!r}] ranks movies the users rated in training: leave them out "
                 "(metrics.top_k with the mask of training ratings)")
        k, column = wrong[0]
        value = values[name].loc[k, column]
        fail(f"by_k[{name!r}].loc[{k}, {column!r}] is {value:.4f}, which is not right yet: make the top-{k} "
             "lists among the movies not rated in training and score them on split.valid at that k")
    i_at, p_at = (_expected_by_k(scores[name], seen, split) for name in BY_K_MODELS)
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


# (recommended, relevant, k): first hit at place 1, 3, none, one past k, exactly at k (twice),
# duplicates, an array of relevant items, a list shorter than k
RR_CASES = (([4, 2, 7], {4}, 3), ([4, 2, 7, 1], {7, 1}, 4), ([4, 2, 7], {9}, 3), ([4, 2, 7, 1], {1}, 3),
            ([4, 2, 7], {7}, 3), ([5, 6, 8, 9, 3, 1], {3, 1}, 5), ([5, 6, 8, 9, 3], [3, 3, 9], 5),
            (np.array([1, 2, 3]), np.array([2]), 3), ([1, 2, 3], {3, 2}, 10))
RR_RTOL = 1e-6  # a reciprocal rank computed in float32 (a tensor) is right to about 6e-8


def _rr_hint(got: float, recommended, relevant, k: int) -> str:
    """What a wrong reciprocal rank most likely did, named by the rule (never by the right value)."""
    places = [j + 1 for j, item in enumerate(np.asarray(recommended)) if item in set(np.asarray(list(relevant)).tolist())]
    within = [j for j in places if j <= k]
    if not within:
        return f"only the first {k} places count, and a list without a hit among them gives 0"
    first = within[0]
    if got == 0:
        return f"a hit at any of the first {k} places counts, place {k} included"
    if first > 1 and math.isclose(got, 1 / (first - 1), rel_tol=RR_RTOL):
        return "count the places from 1: the first place gives 1"
    if any(math.isclose(got, 1 / j, rel_tol=RR_RTOL) for j in places if j != first):
        return "take the place of the FIRST relevant item among the first k, counting from 1"
    return "it is 1 / (the place of the first relevant item among the first k, counting from 1), or 0 without one"


def _right_on_a_list(reciprocal_rank, recommended, relevant, k: int) -> bool:
    """Whether the learner's function gives the right answer when the set ``relevant`` comes as a list."""
    shown = f"{list(recommended)}, {sorted(relevant)}, {k}"
    got = _call(reciprocal_rank, (recommended, sorted(relevant), k), f"reciprocal_rank({shown})")
    try:
        return math.isclose(float(got), _reciprocal_rank(recommended, relevant, k), rel_tol=RR_RTOL, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def _check_function(reciprocal_rank) -> None:
    if not callable(reciprocal_rank):
        fail(f"reciprocal_rank should be a function, got {type(reciprocal_rank).__name__}")
    for recommended, relevant, k in RR_CASES:
        shown = f"{list(recommended)}, {relevant}, {k}"
        got = number(_call(reciprocal_rank, (recommended, relevant, k), f"reciprocal_rank({shown})"),
                     f"reciprocal_rank({shown})")
        want = _reciprocal_rank(recommended, relevant, k)
        if not math.isclose(got, want, rel_tol=RR_RTOL, abs_tol=1e-12):
            if isinstance(relevant, AbstractSet) and _right_on_a_list(reciprocal_rank, recommended, relevant, k):
                fail(f"reciprocal_rank({shown}) is {got:.4f}, which is not right, although it is right when the same "
                     "relevant items come as a list: relevant may be any collection, a Python set included, and "
                     "np.isin (like other NumPy functions) treats a set as one object, not as its items. Turn it "
                     "into a list or an array first (list(relevant))")
            fail(f"reciprocal_rank({shown}) is {got:.4f}, which is not right: "
                 + _rr_hint(got, recommended, relevant, k))


def _mrr_answer(mrr) -> dict:
    if isinstance(mrr, pd.Series):  # one value per model, indexed by its name
        mrr = mrr.to_dict()
    if not isinstance(mrr, dict) or set(mrr) != set(MRR_MODELS):
        fail(f"mrr should be a dict with exactly the keys {list(MRR_MODELS)}, got "
             f"{sorted(mrr) if isinstance(mrr, dict) else type(mrr).__name__}")
    return mrr


def check_mrr(reciprocal_rank, mrr, results, split, data) -> None:
    """Exercise 3: the learner's ``reciprocal_rank`` (run on the check's cases, and on some users' lists
    of every model) and ``mrr``, each model's MRR@10 on the validation split over the users with a
    relevant validation movie; ``results``, Sec. 7.2's trained runs, from which the check makes each
    model's lists again (most popular's from the training ratings)."""
    notebook_split(split, data)
    _check_function(reciprocal_rank)
    mrr = _mrr_answer(mrr)
    relevant = relevant_items(split.valid)
    valid_users = split.valid["user"].unique()
    for name in MRR_MODELS:
        lists = _lists(results, name, split, data)
        per_user = {u: _reciprocal_rank(lists[u], relevant.get(u, ()), K) for u in valid_users}
        for u in _some_users(relevant):
            call = f"reciprocal_rank(valid_lists[{name!r}][{u}], relevant[{u}], {K})"
            got = number(_call(reciprocal_rank, (lists[u], relevant[u], K), call), call)
            if not math.isclose(got, per_user[u], rel_tol=RR_RTOL, abs_tol=1e-12):
                fail(f"your {call} is {got:.4f}, which is not right (relevant = metrics.relevant_items(split.valid)): "
                     + _rr_hint(got, lists[u], relevant[u], K))
        want = float(np.mean([per_user[u] for u in relevant]))
        value = number(mrr[name], f"mrr[{name!r}]", 0.0, 1.0)
        if abs(value - want) <= TOL:
            continue
        if rounded(value):
            fail(f"mrr[{name!r}] is {value:g}, which looks rounded: give the values unrounded (round only what "
                 "you print)")
        if abs(value - float(np.mean(list(per_user.values())))) <= TOL:
            fail(f"mrr[{name!r}] averages over every validation user; average only over the "
                 f"{len(relevant)} with a relevant movie (the others are skipped, as for the other metrics)")
        if abs(value - float(np.mean([per_user.get(u, 0.0) for u in range(lists.shape[0])]))) <= TOL:
            fail(f"mrr[{name!r}] averages over every user; average only over the {len(relevant)} with a relevant "
                 "validation movie")
        fail(f"mrr[{name!r}] is {value:.4f}, which is not right yet: apply your reciprocal_rank to "
             "valid_lists[name][u] for each user u in metrics.relevant_items(split.valid), then average")
    passed("reciprocal_rank is right, and MRR@10 on validation is " +
           ", ".join(f"{name} {float(mrr[name]):.4f}" for name in MRR_MODELS))
