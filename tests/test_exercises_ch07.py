"""The checks of notebook 07's exercises: the reference solutions pass (on five unseen splits too),
plausible wrong answers fail, every valid tie-break and numeric type passes, and no failure message
gives the expected value away.

Everything trains on small synthetic data in ML-100K's format (60 users, 300 movies), in seconds, on the
notebook's split (a tenth held out for validation; any seed): 300 movies give a user more relevant
validation movies than places, which exercise 1's case needs.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from autorec_lib import datasets, experiment, metrics, splits  # noqa: E402
from autorec_lib.exercises import CheckFailed, ch07  # noqa: E402
from conftest import write_ml100k  # noqa: E402

K = 10


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Synthetic data, a split with many validation ratings per user, I-AutoRec and U-AutoRec, trained
    with the course's settings (as Sec. 7.2 trains them)."""
    folder = write_ml100k(tmp_path_factory.mktemp("ch07") / "ml-100k", n_users=60, n_items=300, density=0.6, seed=2)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    results = {"I-AutoRec": experiment.train(data, split, "autorec", "item", progress=False, eval_test=False),
               "U-AutoRec": experiment.train(data, split, "autorec", "user", progress=False, eval_test=False,
                                             epochs=20),
               "biased MF": experiment.train(data, split, "biased-mf", progress=False, eval_test=False, epochs=20)}
    return data, split, results


@pytest.fixture(scope="module")
def lists(setup):
    """The notebook's `scores` and `valid_lists` (Sec. 7.2), for four recommenders."""
    data, split, results = setup
    popularity = metrics.item_popularity(split.train, data.n_items).astype(float)
    scores = {name: metrics.score_matrix(r.learner.predict, data.n_users, data.n_items) for name, r in results.items()}
    scores["most popular"] = np.tile(popularity, (data.n_users, 1))
    seen = metrics.rated_mask(split.train, data.n_users, data.n_items)
    return scores, {name: metrics.top_k(s, seen, K) for name, s in scores.items()}, seen


# --------------------------------------------------------------------------------------------
# The reference solutions (the notebook's solution cells)
# --------------------------------------------------------------------------------------------

def ndcg_by_hand(listed, held_out) -> float:
    liked = held_out.loc[held_out["rating"] >= 4, "item"].to_numpy()
    rel = np.isin(listed[:K], liked).astype(float)
    discount = 1 / np.log2(np.arange(1, K + 1) + 1)
    return (rel * discount).sum() / discount[:min(K, len(liked))].sum()


def held_out_of(split, user) -> pd.DataFrame:
    return split.valid[split.valid["user"] == user]


def ndcg_solution(user, valid_lists, split, function=ndcg_by_hand) -> float:
    return function(valid_lists["I-AutoRec"][user], held_out_of(split, user))


def check_ndcg(function, user, valid_lists, split, data, results) -> None:
    """The check, given ``function`` and the right NDCG of ``user``'s I-AutoRec list."""
    ch07.check_ndcg_by_hand(function, ndcg_solution(user, valid_lists, split), user, results, split, data)


def by_k_solution(scores, seen, split, exclude=True, lists_of=None) -> dict:
    """``lists_of(name, k)``: another way to make the top-k lists (another tie-break)."""
    out = {}
    for name in ("I-AutoRec", "most popular"):
        rows = {}
        for k in ch07.BY_K:
            lists = (lists_of(name, k) if lists_of else
                     metrics.top_k(scores[name], seen if exclude else np.zeros_like(seen), k))
            ranking = metrics.evaluate_ranking(lists, split.valid, k)
            rows[k] = {"precision": ranking.precision, "recall": ranking.recall, "ndcg": ranking.ndcg}
        out[name] = pd.DataFrame(rows).T.rename_axis("k")
    return out


def reciprocal_rank(recommended, relevant, k=10):
    hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k], list(relevant)))
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


def mrr_solution(valid_lists, split, rr=reciprocal_rank, users=None) -> dict:
    relevant = metrics.relevant_items(split.valid)
    users = list(relevant) if users is None else users
    return {name: float(np.mean([rr(lists[u], relevant.get(u, ()), K) for u in users]))
            for name, lists in valid_lists.items()}


def most_relevant_user(split) -> int:
    return ch07.most_relevant_user(metrics.relevant_items(split.valid))


# --------------------------------------------------------------------------------------------
# Exercise 1: NDCG by hand
# --------------------------------------------------------------------------------------------

def test_ndcg_solution_passes_for_the_user_with_the_most_relevant_movies(setup, lists, capsys):
    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    check_ndcg(ndcg_by_hand, user, valid_lists, split, data, results)
    assert capsys.readouterr().out.startswith("correct:")


def test_ndcg_check_rejects_another_user_even_with_that_users_right_ndcg(setup, lists):
    """A learner who switches to a user with fewer relevant movies than places never meets min(k, |R|)."""
    data, split, results = setup
    _, valid_lists, _ = lists
    relevant = metrics.relevant_items(split.valid)
    chosen = most_relevant_user(split)
    others = [u for u in relevant if u != chosen]
    few = [u for u in others if len(relevant[u]) < K]
    for user in (few or others)[:3] + others[:2]:
        with pytest.raises(CheckFailed, match=f"about user {chosen}"):
            check_ndcg(ndcg_by_hand, user, valid_lists, split, data, results)


def test_the_test_user_has_more_relevant_movies_than_places_and_some_hits(setup, lists):
    _, split, _ = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    assert len(metrics.relevant_items(split.valid)[user]) > K
    assert 0 < ndcg_solution(user, valid_lists, split) < 1


def slipped(slip: str):
    """``ndcg_by_hand`` as a learner who made ``slip`` would write it (the reviewers' list)."""
    def function(listed, held_out):
        listed = np.asarray(listed)[:K]
        place = np.arange(1, K + 1)
        discount = 1 / np.log2(place + 1)
        threshold = {"only 5s": 5, "strictly above 4": 4.5, "3 or more": 3, "every rating": -np.inf}.get(slip, 4)
        liked = held_out.loc[held_out["rating"] >= threshold, "item"].to_numpy()
        rel = np.isin(listed, liked).astype(float)
        if slip == "dcg":
            return (rel * discount).sum()
        if slip == "ideal over all relevant":
            return (rel * discount).sum() / (1 / np.log2(np.arange(1, len(liked) + 1) + 1)).sum()
        if slip == "ideal over k places":
            return (rel * discount).sum() / discount.sum()
        if slip == "discount from place 2":
            shifted = 1 / np.log2(place + 2)
            return (rel * shifted).sum() / shifted[:min(K, len(liked))].sum()
        if slip in ("graded", "2^r - 1"):
            gain = (lambda r: r) if slip == "graded" else (lambda r: 2 ** r - 1)
            gains = gain(held_out.set_index("item")["rating"].reindex(listed).fillna(0).to_numpy(np.float64))
            ideal = gain(np.sort(held_out["rating"].to_numpy(np.float64))[::-1][:K])
            return (gains * discount).sum() / (ideal * discount[:len(ideal)]).sum()
        return (rel * discount).sum() / discount[:min(K, len(liked))].sum()
    return function


NDCG_SLIPS = [("dcg", "IDCG"), ("ideal over all relevant", "not of all the relevant"),
              ("ideal over k places", "fewer relevant movies than places"),
              ("discount from place 2", "place 1 has discount 1"), ("graded", "not the rating itself"),
              ("2^r - 1", "not a gain 2"), ("only 5s", "not only 5s"), ("strictly above 4", "not only 5s"),
              ("3 or more", "not 3 or more"), ("every rating", "not every held-out rating")]


@pytest.mark.parametrize("slip, message", NDCG_SLIPS)
def test_ndcg_check_names_each_plausible_slip_in_the_function(setup, lists, slip, message):
    """The reviewers' wrong methods, eight of which gave the right value for the notebook's one user."""
    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    with pytest.raises(CheckFailed, match=message):
        ch07.check_ndcg_by_hand(slipped(slip), ndcg_solution(user, valid_lists, split, slipped(slip)), user,
                                results, split, data)


def test_every_ndcg_slip_changes_some_case_of_the_check():
    """The check's own cases tell each slip from NDCG (else a slip could pass the function's check)."""
    for _, listed, held in ch07._ndcg_cases():
        assert list(held.columns) == ["user", "item", "rating", "timestamp"]
    for slip, _ in NDCG_SLIPS:
        assert any(abs(slipped(slip)(listed, held) - ndcg_by_hand(listed, held)) > 1e-3
                   for _, listed, held in ch07._ndcg_cases()), slip
    hints = {hint for _, listed, held in ch07._ndcg_cases() for hint in ch07._ndcg_variants(listed, held)}
    for _, listed, held in ch07._ndcg_cases():
        variants = ch07._ndcg_variants(listed, held)
        assert len(variants) == len(hints)


def test_ndcg_check_rejects_a_function_right_only_on_the_checks_own_cases(setup, lists):
    """A function right for user 0 only (as the check's own cases are labelled) fails on the real users."""
    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)

    def first_user_only(listed, held_out):
        return ndcg_by_hand(listed, held_out) if (held_out["user"] == 0).all() else 0.5

    with pytest.raises(CheckFailed, match="passes the check's cases but not this user's"):
        check_ndcg(first_user_only, user, valid_lists, split, data, results)


def test_ndcg_check_refuses_a_function_that_calls_an_ndcg_already_written(setup, lists):
    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)

    def library(listed, held_out):
        return metrics.ndcg_at_k(listed, held_out.loc[held_out["rating"] >= 4, "item"], K)

    with pytest.raises(CheckFailed, match="called metrics.ndcg_at_k"):
        check_ndcg(library, user, valid_lists, split, data, results)
    with pytest.raises(CheckFailed, match="called metrics.ndcg_at_k"):
        check_ndcg(lambda listed, held_out: library(listed, held_out) if len(listed) else
                   metrics.ndcg_at_k(listed, [], K), user, valid_lists, split, data, results)


def test_ndcg_check_sees_the_library_called_under_any_name(setup, lists):
    """The reviewer's: the library's NDCG imported under another name, or fetched from the module's
    __dict__, passed a guard that read names. The check now watches calls while the function runs."""
    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    from autorec_lib.metrics import ndcg_at_k as lib

    def aliased(listed, held_out):
        return lib(listed, held_out.loc[held_out.rating >= 4, "item"].to_numpy(), 10)

    def by_dict(listed, held_out):
        return metrics.__dict__["ndcg" + "_at_k"](listed, held_out.loc[held_out.rating >= 4, "item"].to_numpy(), 10)

    def by_ranking(listed, held_out):
        return metrics.evaluate_ranking(np.asarray(listed)[None, :], held_out, K).ndcg

    for function, name in ((aliased, "metrics.ndcg_at_k"), (by_dict, "metrics.ndcg_at_k"),
                           (by_ranking, "metrics.evaluate_ranking")):
        with pytest.raises(CheckFailed, match=f"called .*{name}"):
            check_ndcg(function, user, valid_lists, split, data, results)


def test_ndcg_check_sees_scikit_learns_ndcg():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")

    def by_sklearn(listed, held_out):
        liked = held_out.loc[held_out.rating >= 4, "item"].to_numpy()
        rel = np.isin(np.asarray(listed)[:K], liked).astype(float)
        ideal = np.zeros(K)
        ideal[:min(K, len(liked))] = 1
        return sklearn_metrics.ndcg_score([rel], [np.arange(K, 0, -1)], k=K) if len(liked) else 0.0

    with pytest.raises(CheckFailed, match="called sklearn.metrics.ndcg_score"):
        ch07._check_ndcg_function(by_sklearn)


def test_ndcg_check_accepts_a_hand_written_helper_named_like_the_library(setup, lists, capsys):
    """The reviewer's right answer that the name guard refused: its own global helper called ndcg_at_k."""
    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    namespace = {"np": np, "K": K}
    exec("def ndcg_at_k(rel):\n"
         "    d = 1 / np.log2(np.arange(2, len(rel) + 2))\n"
         "    return float((np.asarray(rel) * d).sum())\n"
         "def ndcg_by_hand(listed, held_out):\n"
         "    liked = held_out.loc[held_out.rating >= 4, 'item'].to_numpy()\n"
         "    rel = np.isin(np.asarray(listed)[:10], liked).astype(float)\n"
         "    ideal = np.zeros(10)\n"
         "    ideal[:min(10, len(liked))] = 1\n"
         "    return ndcg_at_k(rel) / ndcg_at_k(ideal) if len(liked) else 0.0\n", namespace)
    check_ndcg(namespace["ndcg_by_hand"], user, valid_lists, split, data, results)
    assert capsys.readouterr().out.startswith("correct:")


def test_ndcg_check_names_my_ndcg_from_the_test_ratings_and_rounded(setup, lists):
    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    right = ndcg_solution(user, valid_lists, split)
    from_test = ndcg_by_hand(valid_lists["I-AutoRec"][user], split.test[split.test["user"] == user])
    assert abs(from_test - right) > 1e-6
    with pytest.raises(CheckFailed, match="the validation ratings alone"):
        ch07.check_ndcg_by_hand(ndcg_by_hand, from_test, user, results, split, data)
    assert abs(round(right, 4) - right) > 1e-6
    with pytest.raises(CheckFailed, match="looks rounded"):
        ch07.check_ndcg_by_hand(ndcg_by_hand, round(right, 4), user, results, split, data)


def test_ndcg_check_hands_the_function_copies(setup, lists, capsys):
    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    before = [held.copy() for _, _, held in ch07._ndcg_cases()]

    def scribbles(listed, held_out):
        value = ndcg_by_hand(listed, held_out)
        held_out["rating"] = 5.0  # changes what it was given
        listed[:] = -1
        return value

    lists_before = valid_lists["I-AutoRec"].copy()
    ch07.check_ndcg_by_hand(scribbles, ndcg_solution(user, valid_lists, split), user, results, split, data)
    assert capsys.readouterr().out.startswith("correct:")
    assert np.array_equal(valid_lists["I-AutoRec"], lists_before)
    assert all(a.equals(b) for a, (_, _, b) in zip(before, ch07._ndcg_cases()))


def test_ndcg_check_rejects_a_non_number_a_user_without_relevant_movies_and_lists_with_rated_movies(setup, lists):
    data, split, results = setup
    scores, valid_lists, _ = lists
    user = most_relevant_user(split)
    with pytest.raises(CheckFailed, match="number"):
        ch07.check_ndcg_by_hand(ndcg_by_hand, "0.5", user, results, split, data)
    with pytest.raises(CheckFailed, match="should be a function"):
        ch07.check_ndcg_by_hand(0.5, 0.5, user, results, split, data)
    nobody = sorted(set(range(data.n_users)) - set(metrics.relevant_items(split.valid)))
    if nobody:
        with pytest.raises(CheckFailed, match="no validation rating of 4"):
            ch07.check_ndcg_by_hand(ndcg_by_hand, 0.0, nobody[0], results, split, data)
    with pytest.raises(CheckFailed, match="lacks 'I-AutoRec'"):
        ch07.check_ndcg_by_hand(ndcg_by_hand, 0.5, user, {"U-AutoRec": results["U-AutoRec"]}, split, data)


# --------------------------------------------------------------------------------------------
# Exercise 2: metrics at several k
# --------------------------------------------------------------------------------------------

def test_by_k_solution_passes(setup, lists, capsys):
    data, split, results = setup
    scores, _, seen = lists
    ch07.check_by_k(by_k_solution(scores, seen, split), results["I-AutoRec"], split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_by_k_accepts_every_tie_break_of_equal_scores(setup, lists, capsys):
    """Most popular's equal counts ranked by higher index first, by value_counts() and by a random
    tie-break: each moves some value off the library's (ties to the lower index), each is right."""
    data, split, results = setup
    scores, _, seen = lists
    library = by_k_solution(scores, seen, split)
    vc = split.train["item"].value_counts().index.to_numpy()
    rng = np.random.default_rng(0)

    def higher_index_first(name, k):
        flipped = metrics.top_k(scores[name][:, ::-1], seen[:, ::-1], k)
        return np.where(flipped >= 0, data.n_items - 1 - flipped, -1)

    def by_value_counts(name, k):
        if name != "most popular":
            return metrics.top_k(scores[name], seen, k)
        return np.stack([np.r_[vc[~seen[u, vc]], -np.ones(k, int)][:k] for u in range(data.n_users)])

    def random_ties(name, k):
        noise = rng.permutation(data.n_items)  # a random order among equal scores
        order = np.lexsort((noise[None, :].repeat(data.n_users, 0), -np.where(seen, -np.inf, scores[name])), axis=1)
        ranked = order[:, :k]
        return np.where(np.take_along_axis(seen, ranked, 1), -1, ranked)

    for lists_of in (higher_index_first, by_value_counts, random_ties):
        answer = by_k_solution(scores, seen, split, lists_of=lists_of)
        gap = max(float((answer[n] - library[n]).abs().to_numpy().max()) for n in answer)
        assert gap > ch07.TOL, lists_of.__name__  # a tie-break the library does not make
        ch07.check_by_k(answer, results["I-AutoRec"], split, data)
    assert capsys.readouterr().out.count("correct:") == 3


def test_by_k_bounds_hold_the_library_value_and_are_tight_without_ties(setup, lists):
    data, split, results = setup
    scores, _, seen = lists
    for name in ("I-AutoRec", "most popular"):
        low, high = ch07._bounds_by_k(scores[name], seen, split)
        exact = ch07._expected_by_k(scores[name], seen, split)
        assert ((low - 1e-12 <= exact) & (exact <= high + 1e-12)).all().all()
    distinct = scores["I-AutoRec"] + np.arange(data.n_items) * 1e-9  # no two scores equal
    low, high = ch07._bounds_by_k(distinct, seen, split)
    assert np.allclose(low, high, atol=1e-12, rtol=0)


def test_by_k_check_rejects_swapped_models_and_swapped_columns(setup, lists):
    data, split, results = setup
    scores, _, seen = lists
    answer = by_k_solution(scores, seen, split)
    swapped = {"I-AutoRec": answer["most popular"], "most popular": answer["I-AutoRec"]}
    with pytest.raises(CheckFailed, match="models swapped"):
        ch07.check_by_k(swapped, results["I-AutoRec"], split, data)
    columns = {name: frame.rename(columns={"precision": "recall", "recall": "precision"})
               for name, frame in answer.items()}
    with pytest.raises(CheckFailed, match="columns swapped"):
        ch07.check_by_k(columns, results["I-AutoRec"], split, data)


def test_by_k_check_rejects_lists_that_keep_the_rated_movies(setup, lists):
    data, split, results = setup
    scores, _, seen = lists
    with pytest.raises(CheckFailed, match="rated in training"):
        ch07.check_by_k(by_k_solution(scores, seen, split, exclude=False), results["I-AutoRec"], split, data)


def test_by_k_check_rejects_missing_k_wrong_keys_and_u_autorec(setup, lists):
    data, split, results = setup
    scores, _, seen = lists
    answer = by_k_solution(scores, seen, split)
    with pytest.raises(CheckFailed, match="indexed by the numbers k"):
        ch07.check_by_k({n: f.drop(index=50) for n, f in answer.items()}, results["I-AutoRec"], split, data)
    with pytest.raises(CheckFailed, match="exactly the keys"):
        ch07.check_by_k({"I-AutoRec": answer["I-AutoRec"]}, results["I-AutoRec"], split, data)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch07.check_by_k(answer, results["U-AutoRec"], split, data)
    with pytest.raises(CheckFailed, match="lacks the columns"):
        ch07.check_by_k({n: f.drop(columns="ndcg") for n, f in answer.items()}, results["I-AutoRec"], split, data)


@pytest.mark.parametrize("reshape, message", [
    (lambda f: f.set_axis([str(k) for k in f.index]), "indexed by the numbers k"),
    (lambda f: f.set_axis([f"k={k}" for k in f.index]), "indexed by the numbers k"),
    (lambda f: f.T, "transpose it"),
    (lambda f: f.reset_index(), "make it the index")])
def test_by_k_check_refuses_other_shapes_with_a_message(setup, lists, reshape, message):
    """A string index, a transposed frame or k as a column: a clear refusal, not a KeyError."""
    data, split, results = setup
    scores, _, seen = lists
    answer = {n: reshape(f) for n, f in by_k_solution(scores, seen, split).items()}
    with pytest.raises(CheckFailed, match=message):
        ch07.check_by_k(answer, results["I-AutoRec"], split, data)


def test_by_k_check_names_rounded_values(setup, lists):
    data, split, results = setup
    scores, _, seen = lists
    answer = {n: f.round(4) for n, f in by_k_solution(scores, seen, split).items()}
    with pytest.raises(CheckFailed, match="looks rounded"):
        ch07.check_by_k(answer, results["I-AutoRec"], split, data)


def test_by_k_check_refuses_a_run_other_than_the_courses(setup, lists):
    data, split, results = setup
    scores, _, seen = lists
    answer = by_k_solution(scores, seen, split)
    short = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False, epochs=5)
    with pytest.raises(CheckFailed, match="'epochs': 5"):
        ch07.check_by_k(answer, short, split, data)
    warm = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False,
                            init_weights=results["I-AutoRec"].learner.get_weights())
    with pytest.raises(CheckFailed, match="started from given weights"):
        ch07.check_by_k(answer, warm, split, data)
    swapped = dataclasses.replace(split, valid=split.test, test=split.valid)
    with pytest.raises(CheckFailed, match="valid and test parts are not what splits.make_split makes"):
        ch07.check_by_k(by_k_solution(scores, seen, swapped), results["I-AutoRec"], swapped, data)


# --------------------------------------------------------------------------------------------
# Exercise 3: MRR
# --------------------------------------------------------------------------------------------

def test_mrr_solution_passes(setup, lists, capsys):
    data, split, results = setup
    _, valid_lists, _ = lists
    ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, split), results, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_mrr_is_between_a_tenth_of_the_hit_rate_and_the_hit_rate(setup, lists):
    _, split, _ = setup
    _, valid_lists, _ = lists
    for name, value in mrr_solution(valid_lists, split).items():
        hit = metrics.evaluate_ranking(valid_lists[name], split.valid, K).hit_rate
        assert hit / K - 1e-12 <= value <= hit + 1e-12


def test_mrr_check_rejects_places_counted_from_zero_the_last_hit_ignoring_k_and_stopping_before_k(setup, lists):
    data, split, results = setup
    _, valid_lists, _ = lists

    def from_zero(recommended, relevant, k=10):
        hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k], list(relevant)))
        return 1.0 / hits[0] if len(hits) and hits[0] else (1.0 if len(hits) else 0.0)

    def last_hit(recommended, relevant, k=10):
        hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k], list(relevant)))
        return 1.0 / (hits[-1] + 1) if len(hits) else 0.0

    def whole_list(recommended, relevant, k=10):
        hits = np.flatnonzero(np.isin(np.asarray(recommended), list(relevant)))
        return 1.0 / (hits[0] + 1) if len(hits) else 0.0

    def before_k(recommended, relevant, k=10):  # the reviewer's: place k itself left out
        hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k - 1], list(relevant)))
        return 1 / (hits[0] + 1) if len(hits) else 0.0

    for wrong, message in ((from_zero, "count the places from 1"), (last_hit, "FIRST"),
                           (whole_list, "only the first"), (before_k, "place 3 included")):
        # the mrr each wrong function gives: the function itself is named, not how it was applied
        with pytest.raises(CheckFailed, match=message):
            ch07.check_mrr(wrong, mrr_solution(valid_lists, split, wrong), results, split, data)


def test_mrr_check_accepts_a_float32_reciprocal_rank_a_series_and_numpy_numbers(setup, lists, capsys):
    data, split, results = setup
    _, valid_lists, _ = lists

    def in_torch(recommended, relevant, k=10):
        hits = torch.isin(torch.as_tensor(np.asarray(recommended)[:k]), torch.as_tensor(np.asarray(list(relevant))))
        places = torch.nonzero(hits).flatten()
        return 1 / (places[0].float() + 1) if len(places) else torch.tensor(0.0)

    mrr = mrr_solution(valid_lists, split)
    ch07.check_mrr(in_torch, mrr, results, split, data)
    ch07.check_mrr(reciprocal_rank, pd.Series(mrr), results, split, data)
    ch07.check_mrr(reciprocal_rank, {k: np.float32(v) for k, v in mrr.items()}, results, split, data)
    assert capsys.readouterr().out.count("correct:") == 3


def test_lists_swapped_between_models_are_refused(setup, lists):
    """The reviewer's: valid_lists with I-AutoRec's lists under "U-AutoRec" (or most popular's under
    "I-AutoRec"), and the MRR or NDCG computed from them. The checks make each model's lists again from
    its run, so those numbers are wrong; runs swapped between the names are refused by model type."""
    data, split, results = setup
    _, valid_lists, _ = lists
    fake = {**valid_lists, "U-AutoRec": valid_lists["I-AutoRec"]}
    with pytest.raises(CheckFailed, match=r"mrr\['U-AutoRec'\]"):
        ch07.check_mrr(reciprocal_rank, mrr_solution(fake, split), results, split, data)
    popular = {**valid_lists, "I-AutoRec": valid_lists["most popular"]}
    user = most_relevant_user(split)
    assert abs(ndcg_solution(user, popular, split) - ndcg_solution(user, valid_lists, split)) > 1e-6
    with pytest.raises(CheckFailed, match="my_ndcg"):
        ch07.check_ndcg_by_hand(ndcg_by_hand, ndcg_solution(user, popular, split), user, results, split, data)
    swapped = {**results, "U-AutoRec": results["biased MF"], "biased MF": results["U-AutoRec"]}
    with pytest.raises(CheckFailed, match="are the runs swapped"):
        ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, split), swapped, split, data)
    with pytest.raises(CheckFailed, match="results\\['I-AutoRec'\\]"):
        ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, split), {**results, "I-AutoRec": results["U-AutoRec"]},
                       split, data)


def test_rounded_hints_say_nothing_about_the_expected_value(setup, lists):
    """The reviewer's oracle: 3-decimal guesses, refined digit by digit wherever the message said "looks
    rounded", recovered my_ndcg and the MRRs. The hint now reads the learner's value alone: every value
    with 3 to 6 decimals gets it, whatever the answer, and no other value does."""
    data, split, results = setup
    scores, valid_lists, seen = lists
    user = most_relevant_user(split)
    right = ndcg_solution(user, valid_lists, split)
    mrr = mrr_solution(valid_lists, split)
    for guess in (0.123, 0.5678, 0.98765, 0.111111, round(right, 3) + 0.1):
        with pytest.raises(CheckFailed, match="looks rounded"):
            ch07.check_ndcg_by_hand(ndcg_by_hand, guess, user, results, split, data)
        with pytest.raises(CheckFailed, match="looks rounded"):
            ch07.check_mrr(reciprocal_rank, {**mrr, "I-AutoRec": guess}, results, split, data)
    answer = by_k_solution(scores, seen, split)
    wrong = answer["I-AutoRec"].copy()
    wrong.loc[5, "recall"] = 0.123
    with pytest.raises(CheckFailed, match="looks rounded"):
        ch07.check_by_k({**answer, "I-AutoRec": wrong}, results["I-AutoRec"], split, data)
    for guess in (0.5, right + 0.01234567891):  # a guess of few decimals, and a wrong unrounded value
        with pytest.raises(CheckFailed) as err:
            ch07.check_ndcg_by_hand(ndcg_by_hand, guess, user, results, split, data)
        assert "rounded" not in str(err.value)
    check_ndcg(ndcg_by_hand, user, valid_lists, split, data, results)  # right and unrounded: passes
    ch07.check_ndcg_by_hand(ndcg_by_hand, np.float32(right), user, results, split, data)


def test_mrr_check_names_rounded_values(setup, lists):
    data, split, results = setup
    _, valid_lists, _ = lists
    mrr = mrr_solution(valid_lists, split)
    assert any(abs(round(v, 4) - v) > 1e-6 for v in mrr.values())
    with pytest.raises(CheckFailed, match="looks rounded"):
        ch07.check_mrr(reciprocal_rank, {k: round(v, 4) for k, v in mrr.items()}, results, split, data)


def test_mrr_check_hands_the_function_copies_of_its_cases(setup, lists):
    data, split, results = setup
    _, valid_lists, _ = lists
    cases = [(list(r), set(rel) if isinstance(rel, set) else list(rel), k) for r, rel, k in ch07.RR_CASES]

    def scribbles(recommended, relevant, k=10):
        value = reciprocal_rank(recommended, relevant, k)
        if isinstance(relevant, set):
            relevant.clear()
        if isinstance(recommended, list):
            recommended.reverse()
        return value

    ch07.check_mrr(scribbles, mrr_solution(valid_lists, split), results, split, data)
    assert cases == [(list(r), set(rel) if isinstance(rel, set) else list(rel), k) for r, rel, k in ch07.RR_CASES]


def test_mrr_check_rejects_a_function_that_raises(setup, lists):
    data, split, results = setup
    _, valid_lists, _ = lists

    def set_only(recommended, relevant, k=10):  # works for a set of relevant items, not for a list or an array
        found = relevant & set(recommended[:k])
        return 1.0 / (1 + min(list(recommended).index(i) for i in found)) if found else 0.0

    with pytest.raises(CheckFailed, match="raised"):
        ch07.check_mrr(set_only, mrr_solution(valid_lists, split), results, split, data)


def test_mrr_check_says_a_set_must_become_a_list_for_np_isin(setup, lists):
    """The reviewer's: np.isin(recommended, relevant) is right on the notebook's arrays, but treats a Python
    set (which the exercise allows: "a collection") as one object. The hint named the place count; it
    now says what to do with the set."""
    data, split, results = setup
    _, valid_lists, _ = lists

    def rr(recommended, relevant, k=10):
        hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k], relevant))
        return 1.0 / (hits[0] + 1) if len(hits) else 0.0

    with pytest.raises(CheckFailed, match=r"a Python set .*np.isin.*list\(relevant\)") as err:
        ch07.check_mrr(rr, mrr_solution(valid_lists, split, rr), results, split, data)
    assert "place 3 included" not in str(err.value)


def test_mrr_check_rejects_averaging_over_every_user_and_a_missing_model(setup, lists):
    data, split, results = setup
    _, valid_lists, _ = lists
    everyone = mrr_solution(valid_lists, split, users=list(split.valid["user"].unique()))
    relevant = metrics.relevant_items(split.valid)
    assert len(relevant) < split.valid["user"].nunique() or pytest.skip("every validation user has a relevant movie")
    with pytest.raises(CheckFailed, match="average only over"):
        ch07.check_mrr(reciprocal_rank, everyone, results, split, data)
    answer = mrr_solution(valid_lists, split)
    answer.pop("biased MF")
    with pytest.raises(CheckFailed, match="exactly the keys"):
        ch07.check_mrr(reciprocal_rank, answer, results, split, data)


def test_mrr_check_rejects_another_models_numbers(setup, lists):
    data, split, results = setup
    _, valid_lists, _ = lists
    answer = mrr_solution(valid_lists, split)
    answer["I-AutoRec"], answer["most popular"] = answer["most popular"], answer["I-AutoRec"]
    assert abs(answer["I-AutoRec"] - answer["most popular"]) > 1e-9
    with pytest.raises(CheckFailed, match="mrr\\["):
        ch07.check_mrr(reciprocal_rank, answer, results, split, data)


# --------------------------------------------------------------------------------------------
# Every check: the solutions pass on five splits the notebook never used; other right
# formulations pass; answers from the test part, another split or off by one fail, and no failure
# message shows the value the check expected
# --------------------------------------------------------------------------------------------

UNSEEN_SEEDS = (11, 12, 13, 14, 15)  # the notebook uses split seed 0


@pytest.mark.parametrize("seed", UNSEEN_SEEDS)
def test_every_solution_passes_on_a_split_the_notebook_never_used(tmp_path, seed, capsys):
    folder = write_ml100k(tmp_path / "ml-100k", n_users=60, n_items=300, density=0.6, seed=seed)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=seed)
    results = {"I-AutoRec": experiment.train(data, split, "autorec", "item", progress=False, eval_test=False, seed=seed),
               "U-AutoRec": experiment.train(data, split, "autorec", "user", progress=False, eval_test=False,
                                             seed=seed, epochs=20),
               "biased MF": experiment.train(data, split, "biased-mf", progress=False, eval_test=False, seed=seed,
                                             epochs=20)}
    result = results["I-AutoRec"]
    popularity = metrics.item_popularity(split.train, data.n_items).astype(float)
    scores = {name: metrics.score_matrix(r.learner.predict, data.n_users, data.n_items) for name, r in results.items()}
    scores["most popular"] = np.tile(popularity, (data.n_users, 1))
    seen = metrics.rated_mask(split.train, data.n_users, data.n_items)
    valid_lists = {name: metrics.top_k(s, seen, K) for name, s in scores.items()}
    user = most_relevant_user(split)
    ch07.check_ndcg_by_hand(ndcg_by_hand, ndcg_solution(user, valid_lists, split), user, results, split, data)
    ch07.check_by_k(by_k_solution(scores, seen, split), result, split, data)
    ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, split), results, split, data)
    assert capsys.readouterr().out.count("correct:") == 3


def test_right_answers_in_other_numeric_types_pass(setup, lists, capsys):
    data, split, results = setup
    scores, valid_lists, seen = lists
    user = most_relevant_user(split)
    value = ndcg_solution(user, valid_lists, split)
    in_float32 = lambda listed, held: np.float32(ndcg_by_hand(listed, held))
    for my_ndcg, who in ((np.float32(value), float(user)), (torch.tensor(value, dtype=torch.float32), np.int64(user)),
                         (np.array(value), torch.tensor(user))):
        ch07.check_ndcg_by_hand(in_float32, my_ndcg, who, results, split, data)
    answer = {name: frame.astype(np.float32).set_axis(frame.index.astype(float)) for name, frame in
              by_k_solution(scores, seen, split).items()}
    ch07.check_by_k(answer, results["I-AutoRec"], split, data)
    ch07.check_mrr(reciprocal_rank, {k: np.float32(v) for k, v in mrr_solution(valid_lists, split).items()},
                   results, split, data)
    assert capsys.readouterr().out.count("correct:") == 5


def test_answers_computed_on_the_test_part_are_rejected(setup, lists):
    data, split, results = setup
    scores, valid_lists, seen = lists
    on_test = splits.Split(split.train, split.test, split.test, split.name)  # what a learner using split.test computes
    user = most_relevant_user(split)
    if user in metrics.relevant_items(split.test):
        with pytest.raises(CheckFailed):
            ch07.check_ndcg_by_hand(ndcg_by_hand, metrics.ndcg_at_k(valid_lists["I-AutoRec"][user],
                                                                    metrics.relevant_items(split.test)[user], K),
                                    user, results, split, data)
    with pytest.raises(CheckFailed):
        ch07.check_by_k(by_k_solution(scores, seen, on_test), results["I-AutoRec"], split, data)
    with pytest.raises(CheckFailed):
        ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, on_test), results, split, data)


def test_a_split_whose_validation_part_is_the_test_part_is_refused_everywhere(setup, lists):
    """The reviewer's crafted split (valid := test): each check would otherwise score test ratings."""
    data, split, results = setup
    scores, valid_lists, seen = lists
    swapped = dataclasses.replace(split, valid=split.test, test=split.valid)
    user = most_relevant_user(swapped)
    with pytest.raises(CheckFailed, match="valid and test parts are not what splits.make_split makes"):
        ch07.check_ndcg_by_hand(ndcg_by_hand, ndcg_solution(user, valid_lists, swapped), user, results, swapped,
                                data)
    with pytest.raises(CheckFailed, match="valid and test parts are not what splits.make_split makes"):
        ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, swapped), results, swapped, data)


def test_by_k_rejects_lists_one_place_too_long_and_a_run_on_another_split(setup, lists):
    data, split, results = setup
    scores, _, seen = lists
    off_by_one = {}
    for name in ("I-AutoRec", "most popular"):
        rows = {}
        for k in ch07.BY_K:
            ranking = metrics.evaluate_ranking(metrics.top_k(scores[name], seen, k + 1), split.valid, k + 1)
            rows[k] = {"precision": ranking.precision, "recall": ranking.recall, "ndcg": ranking.ndcg}
        off_by_one[name] = pd.DataFrame(rows).T
    with pytest.raises(CheckFailed, match="not right yet"):
        ch07.check_by_k(off_by_one, results["I-AutoRec"], split, data)
    other = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=7)
    with pytest.raises(CheckFailed, match="was not trained on the 'random' split you passed"):
        ch07.check_by_k(by_k_solution(scores, seen, split), results["I-AutoRec"], other, data)


def test_by_k_check_passes_what_crosses_to_the_grader(setup, lists, tmp_path, capsys):
    """The grader rebuilds the run from its checkpoint, the split and the frames from plain data."""
    from test_grading_units import carry

    data, split, results = setup
    scores, _, seen = lists
    values = {"by_k": by_k_solution(scores, seen, split), "result": results["I-AutoRec"], "split": split, "data": data}
    got, problems = carry(tmp_path, values, load_data=lambda name: data)
    assert problems == {}
    ch07.check_by_k(got["by_k"], got["result"], got["split"], got["data"])
    assert capsys.readouterr().out.startswith("correct:")


def test_mrr_and_ndcg_checks_pass_what_crosses_to_the_grader(setup, lists, tmp_path, capsys):
    """The three runs of `results` (biased MF's included) cross as checkpoints, and the checks make each
    model's lists again from them. (The learner's functions cross as handles called in the kernel, where
    the NDCG guard cannot watch calls; here they stay plain functions.)"""
    from test_grading_units import carry

    data, split, results = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    values = {"mrr": mrr_solution(valid_lists, split), "my_ndcg": ndcg_solution(user, valid_lists, split),
              "results": results, "split": split, "data": data}
    got, problems = carry(tmp_path, values, load_data=lambda name: data)
    assert problems == {}
    ch07.check_mrr(reciprocal_rank, got["mrr"], got["results"], got["split"], got["data"])
    ch07.check_ndcg_by_hand(ndcg_by_hand, got["my_ndcg"], user, got["results"], got["split"], got["data"])
    assert capsys.readouterr().out.count("correct:") == 2


def test_no_failure_message_shows_the_expected_value(setup, lists):
    data, split, results = setup
    scores, valid_lists, seen = lists
    user = most_relevant_user(split)
    right = ndcg_solution(user, valid_lists, split)
    case_values = [ndcg_by_hand(listed, held) for _, listed, held in ch07._ndcg_cases()]
    messages = []
    for wrong in (right + 0.01, ndcg_solution(user, valid_lists, split, slipped("dcg")),
                  ndcg_solution(user, valid_lists, split, slipped("only 5s"))):
        with pytest.raises(CheckFailed) as err:
            ch07.check_ndcg_by_hand(ndcg_by_hand, wrong, user, results, split, data)
        messages.append((str(err.value), [right]))
    for slip, _ in NDCG_SLIPS:
        with pytest.raises(CheckFailed) as err:
            ch07.check_ndcg_by_hand(slipped(slip), right, user, results, split, data)
        messages.append((str(err.value), case_values + [right]))
    answer = by_k_solution(scores, seen, split)
    bad = {name: frame + 0.01 for name, frame in answer.items()}
    with pytest.raises(CheckFailed) as err:
        ch07.check_by_k(bad, results["I-AutoRec"], split, data)
    messages.append((str(err.value), answer["I-AutoRec"].to_numpy().ravel()))
    mrr = mrr_solution(valid_lists, split)
    with pytest.raises(CheckFailed) as err:
        ch07.check_mrr(reciprocal_rank, {k: v + 0.01 for k, v in mrr.items()}, results, split, data)
    messages.append((str(err.value), list(mrr.values())))

    def off_by_one(recommended, relevant, k=10):
        return reciprocal_rank(recommended, relevant, k + 1)

    with pytest.raises(CheckFailed) as err:
        ch07.check_mrr(off_by_one, mrr, results, split, data)
    messages.append((str(err.value), [0.0]))  # the first case it fails: no relevant item among the first k
    for message, expected in messages:
        for value in expected:
            if value != 0:
                assert f"{value:.4f}" not in message, (message, value)


def test_no_check_reads_the_test_part(setup, lists, capsys):
    data, split, results = setup
    scores, valid_lists, seen = lists
    blind = dataclasses.replace(split, test=split.test.assign(rating=np.nan))  # any use of a test rating would fail
    user = most_relevant_user(split)
    ch07.check_ndcg_by_hand(ndcg_by_hand, ndcg_solution(user, valid_lists, split), user, results, blind, data)
    ch07.check_by_k(by_k_solution(scores, seen, split), results["I-AutoRec"], blind, data)
    ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, split), results, blind, data)
    assert capsys.readouterr().out.count("correct:") == 3
