"""The checks of notebook 07's exercises: the reference solutions pass (on five unseen splits too),
plausible wrong answers fail, and no failure message gives the expected value away.

Everything trains on small synthetic data in ML-100K's format (60 users, 80 movies), in seconds.
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
    """Synthetic data, a split with many validation ratings per user, I-AutoRec and U-AutoRec."""
    folder = write_ml100k(tmp_path_factory.mktemp("ch07") / "ml-100k", n_users=60, n_items=80, density=0.6, seed=2)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.4, seed=0)
    results = {"I-AutoRec": experiment.train(data, split, "autorec", "item", progress=False, eval_test=False,
                                             epochs=20),
               "U-AutoRec": experiment.train(data, split, "autorec", "user", progress=False, eval_test=False,
                                             epochs=20)}
    return data, split, results


@pytest.fixture(scope="module")
def lists(setup):
    """The notebook's `scores` and `valid_lists` (Sec. 7.2), for four recommenders."""
    data, split, results = setup
    popularity = metrics.item_popularity(split.train, data.n_items).astype(float)
    scores = {name: metrics.score_matrix(r.learner.predict, data.n_users, data.n_items) for name, r in results.items()}
    scores["biased MF"] = scores["U-AutoRec"][:, ::-1].copy()  # any other scorer will do here
    scores["most popular"] = np.tile(popularity, (data.n_users, 1))
    seen = metrics.rated_mask(split.train, data.n_users, data.n_items)
    return scores, {name: metrics.top_k(s, seen, K) for name, s in scores.items()}, seen


# --------------------------------------------------------------------------------------------
# The reference solutions (the notebook's solution cells)
# --------------------------------------------------------------------------------------------

def ndcg_solution(user, valid_lists, split) -> float:
    listed = valid_lists["I-AutoRec"][user]
    liked = split.valid[(split.valid["user"] == user) & (split.valid["rating"] >= 4)]["item"].to_numpy()
    rel = np.isin(listed, liked).astype(float)
    discount = 1 / np.log2(np.arange(1, K + 1) + 1)
    return (rel * discount).sum() / discount[:min(K, len(liked))].sum()


def by_k_solution(scores, seen, split, exclude=True) -> dict:
    out = {}
    for name in ("I-AutoRec", "most popular"):
        rows = {}
        for k in ch07.BY_K:
            lists = metrics.top_k(scores[name], seen if exclude else np.zeros_like(seen), k)
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
    _, split, _ = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    ch07.check_ndcg_by_hand(ndcg_solution(user, valid_lists, split), user, valid_lists, split)
    assert capsys.readouterr().out.startswith("correct:")


def test_ndcg_check_rejects_another_user_even_with_that_users_right_ndcg(setup, lists):
    """A learner who switches to a user with fewer relevant movies than places never meets min(k, |R|)."""
    _, split, _ = setup
    _, valid_lists, _ = lists
    relevant = metrics.relevant_items(split.valid)
    chosen = most_relevant_user(split)
    others = [u for u in relevant if u != chosen]
    few = [u for u in others if len(relevant[u]) < K]
    for user in (few or others)[:3] + others[:2]:
        with pytest.raises(CheckFailed, match=f"about user {chosen}"):
            ch07.check_ndcg_by_hand(ndcg_solution(user, valid_lists, split), user, valid_lists, split)


def test_the_test_user_has_more_relevant_movies_than_places_and_some_hits(setup, lists):
    _, split, _ = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    assert len(metrics.relevant_items(split.valid)[user]) > K
    assert 0 < ndcg_solution(user, valid_lists, split) < 1


def with_mixed_list(valid_lists, split, user: int) -> dict:
    """``valid_lists`` with ``user``'s I-AutoRec list rebuilt from their validation movies, one rated 3
    first, then 5s and 4s, so that every slip changes its NDCG (a list of candidates all the same)."""
    mine = split.valid[split.valid["user"] == user]
    liked = mine[mine["rating"] >= 4].sort_values("rating", ascending=False)
    order = pd.concat([mine[mine["rating"] == 3].head(1), liked, mine[mine["rating"] < 3]])["item"].to_numpy()[:K]
    assert len(order) == K and (mine["rating"] == 3).any()
    lists = valid_lists["I-AutoRec"].copy()
    lists[user] = order
    return {"I-AutoRec": lists}


def slip_value(slip: str, user: int, valid_lists, split) -> float:
    """NDCG@10 as a learner who made ``slip`` would compute it."""
    listed = valid_lists["I-AutoRec"][user]
    mine = split.valid[split.valid["user"] == user]
    liked = mine.loc[mine["rating"] >= 4, "item"].to_numpy()
    rel = np.isin(listed, liked).astype(float)
    place = np.arange(1, K + 1)
    discount = 1 / np.log2(place + 1)
    if slip == "dcg":
        return (rel * discount).sum()
    if slip == "ideal over all relevant":
        return (rel * discount).sum() / (1 / np.log2(np.arange(1, len(liked) + 1) + 1)).sum()
    if slip == "discount from place 2":
        shifted = 1 / np.log2(place + 2)
        return (rel * shifted).sum() / shifted[:min(K, len(liked))].sum()
    if slip == "graded":
        gains = mine.set_index("item")["rating"].reindex(listed).fillna(0).to_numpy()
        ideal = np.sort(mine["rating"].to_numpy())[::-1][:K]
        return (gains * discount).sum() / (ideal * discount[:len(ideal)]).sum()
    threshold = 5 if slip == "only 5s" else 3
    return metrics.ndcg_at_k(listed, mine.loc[mine["rating"] >= threshold, "item"], K)


@pytest.mark.parametrize("slip, message", [
    ("dcg", "IDCG"), ("ideal over all relevant", "min"), ("discount from place 2", "place 1 has discount 1"),
    ("graded", "binary"), ("only 5s", "not only 5s"), ("3 or more", "not 3 or more")])
def test_ndcg_check_names_each_plausible_slip(setup, lists, slip, message):
    _, split, _ = setup
    _, valid_lists, _ = lists
    user = most_relevant_user(split)
    if abs(slip_value(slip, user, valid_lists, split) - ndcg_solution(user, valid_lists, split)) <= 1e-6:
        valid_lists = with_mixed_list(valid_lists, split, user)  # the slip does not show on this list
    assert abs(slip_value(slip, user, valid_lists, split) - ndcg_solution(user, valid_lists, split)) > 1e-6
    with pytest.raises(CheckFailed, match=message):
        ch07.check_ndcg_by_hand(slip_value(slip, user, valid_lists, split), user, valid_lists, split)


def test_ndcg_check_rejects_a_non_number_a_user_without_relevant_movies_and_lists_with_rated_movies(setup, lists):
    data, split, _ = setup
    scores, valid_lists, _ = lists
    user = most_relevant_user(split)
    with pytest.raises(CheckFailed, match="number"):
        ch07.check_ndcg_by_hand("0.5", user, valid_lists, split)
    nobody = sorted(set(range(data.n_users)) - set(metrics.relevant_items(split.valid)))
    if nobody:
        with pytest.raises(CheckFailed, match="no validation rating of 4"):
            ch07.check_ndcg_by_hand(0.0, nobody[0], valid_lists, split)
    unfiltered = {"I-AutoRec": metrics.top_k(scores["I-AutoRec"], np.zeros_like(lists[2]), K)}
    with pytest.raises(CheckFailed, match="rated in training"):
        ch07.check_ndcg_by_hand(0.5, user, unfiltered, split)


# --------------------------------------------------------------------------------------------
# Exercise 2: metrics at several k
# --------------------------------------------------------------------------------------------

def test_by_k_solution_passes(setup, lists, capsys):
    data, split, results = setup
    scores, _, seen = lists
    ch07.check_by_k(by_k_solution(scores, seen, split), results["I-AutoRec"], split, data)
    assert capsys.readouterr().out.startswith("correct:")


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
    with pytest.raises(CheckFailed, match="indexed by k"):
        ch07.check_by_k({n: f.drop(index=50) for n, f in answer.items()}, results["I-AutoRec"], split, data)
    with pytest.raises(CheckFailed, match="exactly the keys"):
        ch07.check_by_k({"I-AutoRec": answer["I-AutoRec"]}, results["I-AutoRec"], split, data)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch07.check_by_k(answer, results["U-AutoRec"], split, data)
    with pytest.raises(CheckFailed, match="lacks the columns"):
        ch07.check_by_k({n: f.drop(columns="ndcg") for n, f in answer.items()}, results["I-AutoRec"], split, data)


# --------------------------------------------------------------------------------------------
# Exercise 3: MRR
# --------------------------------------------------------------------------------------------

def test_mrr_solution_passes(setup, lists, capsys):
    _, split, _ = setup
    _, valid_lists, _ = lists
    ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, split), valid_lists, split)
    assert capsys.readouterr().out.startswith("correct:")


def test_mrr_is_between_a_tenth_of_the_hit_rate_and_the_hit_rate(setup, lists):
    _, split, _ = setup
    _, valid_lists, _ = lists
    for name, value in mrr_solution(valid_lists, split).items():
        hit = metrics.evaluate_ranking(valid_lists[name], split.valid, K).hit_rate
        assert hit / K - 1e-12 <= value <= hit + 1e-12


def test_mrr_check_rejects_places_counted_from_zero_the_last_hit_and_ignoring_k(setup, lists):
    _, split, _ = setup
    _, valid_lists, _ = lists
    answer = mrr_solution(valid_lists, split)

    def from_zero(recommended, relevant, k=10):
        hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k], list(relevant)))
        return 1.0 / hits[0] if len(hits) and hits[0] else (1.0 if len(hits) else 0.0)

    def last_hit(recommended, relevant, k=10):
        hits = np.flatnonzero(np.isin(np.asarray(recommended)[:k], list(relevant)))
        return 1.0 / (hits[-1] + 1) if len(hits) else 0.0

    def whole_list(recommended, relevant, k=10):
        hits = np.flatnonzero(np.isin(np.asarray(recommended), list(relevant)))
        return 1.0 / (hits[0] + 1) if len(hits) else 0.0

    for wrong, message in ((from_zero, "count the places from 1"), (last_hit, "FIRST"),
                           (whole_list, "only the first")):
        with pytest.raises(CheckFailed, match=message):
            ch07.check_mrr(wrong, answer, valid_lists, split)


def test_mrr_check_rejects_a_function_that_raises(setup, lists):
    _, split, _ = setup
    _, valid_lists, _ = lists

    def set_only(recommended, relevant, k=10):  # works for a set of relevant items, not for a list or an array
        found = relevant & set(recommended[:k])
        return 1.0 / (1 + min(list(recommended).index(i) for i in found)) if found else 0.0

    with pytest.raises(CheckFailed, match="raised"):
        ch07.check_mrr(set_only, mrr_solution(valid_lists, split), valid_lists, split)


def test_mrr_check_rejects_averaging_over_every_user_and_a_missing_model(setup, lists):
    data, split, _ = setup
    _, valid_lists, _ = lists
    everyone = mrr_solution(valid_lists, split, users=list(split.valid["user"].unique()))
    relevant = metrics.relevant_items(split.valid)
    assert len(relevant) < split.valid["user"].nunique() or pytest.skip("every validation user has a relevant movie")
    with pytest.raises(CheckFailed, match="average only over"):
        ch07.check_mrr(reciprocal_rank, everyone, valid_lists, split)
    answer = mrr_solution(valid_lists, split)
    answer.pop("biased MF")
    with pytest.raises(CheckFailed, match="exactly the keys"):
        ch07.check_mrr(reciprocal_rank, answer, valid_lists, split)


def test_mrr_check_rejects_another_models_numbers(setup, lists):
    _, split, _ = setup
    _, valid_lists, _ = lists
    answer = mrr_solution(valid_lists, split)
    answer["I-AutoRec"], answer["most popular"] = answer["most popular"], answer["I-AutoRec"]
    assert abs(answer["I-AutoRec"] - answer["most popular"]) > 1e-9
    with pytest.raises(CheckFailed, match="mrr\\["):
        ch07.check_mrr(reciprocal_rank, answer, valid_lists, split)


# --------------------------------------------------------------------------------------------
# Every check: the solutions pass on five splits the notebook never used; other right
# formulations pass; answers from the test part, another split or off by one fail, and no failure
# message shows the value the check expected
# --------------------------------------------------------------------------------------------

UNSEEN_SEEDS = (11, 12, 13, 14, 15)  # the notebook uses split seed 0


@pytest.mark.parametrize("seed", UNSEEN_SEEDS)
def test_every_solution_passes_on_a_split_the_notebook_never_used(tmp_path, seed, capsys):
    folder = write_ml100k(tmp_path / "ml-100k", n_users=60, n_items=80, density=0.6, seed=seed)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.4, seed=seed)
    result = experiment.train(data, split, "autorec", "item", progress=False, eval_test=False, epochs=5, seed=seed)
    popularity = metrics.item_popularity(split.train, data.n_items).astype(float)
    scores = {"I-AutoRec": metrics.score_matrix(result.learner.predict, data.n_users, data.n_items),
              "most popular": np.tile(popularity, (data.n_users, 1))}
    scores["U-AutoRec"], scores["biased MF"] = scores["I-AutoRec"][:, ::-1].copy(), -scores["I-AutoRec"]
    seen = metrics.rated_mask(split.train, data.n_users, data.n_items)
    valid_lists = {name: metrics.top_k(s, seen, K) for name, s in scores.items()}
    user = most_relevant_user(split)
    ch07.check_ndcg_by_hand(ndcg_solution(user, valid_lists, split), user, valid_lists, split)
    ch07.check_by_k(by_k_solution(scores, seen, split), result, split, data)
    ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, split), valid_lists, split)
    assert capsys.readouterr().out.count("correct:") == 3


def test_right_answers_in_other_numeric_types_pass(setup, lists, capsys):
    data, split, results = setup
    scores, valid_lists, seen = lists
    user = most_relevant_user(split)
    value = ndcg_solution(user, valid_lists, split)
    for my_ndcg, who in ((np.float32(value), float(user)), (torch.tensor(value, dtype=torch.float32), np.int64(user)),
                         (np.array(value), torch.tensor(user))):
        ch07.check_ndcg_by_hand(my_ndcg, who, valid_lists, split)
    answer = {name: frame.astype(np.float32).set_axis(frame.index.astype(float)) for name, frame in
              by_k_solution(scores, seen, split).items()}
    ch07.check_by_k(answer, results["I-AutoRec"], split, data)
    ch07.check_mrr(reciprocal_rank, {k: np.float32(v) for k, v in mrr_solution(valid_lists, split).items()},
                   valid_lists, split)
    assert capsys.readouterr().out.count("correct:") == 5


def test_answers_computed_on_the_test_part_are_rejected(setup, lists):
    data, split, results = setup
    scores, valid_lists, seen = lists
    on_test = splits.Split(split.train, split.test, split.test, split.name)  # what a learner using split.test computes
    user = most_relevant_user(split)
    if user in metrics.relevant_items(split.test):
        with pytest.raises(CheckFailed):
            ch07.check_ndcg_by_hand(metrics.ndcg_at_k(valid_lists["I-AutoRec"][user],
                                                      metrics.relevant_items(split.test)[user], K),
                                    user, valid_lists, split)
    with pytest.raises(CheckFailed):
        ch07.check_by_k(by_k_solution(scores, seen, on_test), results["I-AutoRec"], split, data)
    with pytest.raises(CheckFailed):
        ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, on_test), valid_lists, split)


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
    other = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.4, seed=7)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch07.check_by_k(by_k_solution(scores, seen, split), results["I-AutoRec"], other, data)


def test_no_failure_message_shows_the_expected_value(setup, lists):
    data, split, results = setup
    scores, valid_lists, seen = lists
    user = most_relevant_user(split)
    right = ndcg_solution(user, valid_lists, split)
    messages = []
    for wrong in (right + 0.01, slip_value("dcg", user, valid_lists, split), slip_value("only 5s", user, valid_lists, split)):
        with pytest.raises(CheckFailed) as err:
            ch07.check_ndcg_by_hand(wrong, user, valid_lists, split)
        messages.append((str(err.value), [right]))
    answer = by_k_solution(scores, seen, split)
    bad = {name: frame + 0.01 for name, frame in answer.items()}
    with pytest.raises(CheckFailed) as err:
        ch07.check_by_k(bad, results["I-AutoRec"], split, data)
    messages.append((str(err.value), answer["I-AutoRec"].to_numpy().ravel()))
    mrr = mrr_solution(valid_lists, split)
    with pytest.raises(CheckFailed) as err:
        ch07.check_mrr(reciprocal_rank, {k: v + 0.01 for k, v in mrr.items()}, valid_lists, split)
    messages.append((str(err.value), list(mrr.values())))

    def off_by_one(recommended, relevant, k=10):
        return reciprocal_rank(recommended, relevant, k + 1)

    with pytest.raises(CheckFailed) as err:
        ch07.check_mrr(off_by_one, mrr, valid_lists, split)
    messages.append((str(err.value), [0.0]))  # the first case it fails: no relevant item among the first k
    for message, expected in messages:
        for value in expected:
            assert f"{value:.4f}" not in message, (message, value)


def test_no_check_reads_the_test_part(setup, lists, capsys):
    data, split, results = setup
    scores, valid_lists, seen = lists
    blind = dataclasses.replace(split, test=None)  # any use of the test part would fail
    user = most_relevant_user(split)
    ch07.check_ndcg_by_hand(ndcg_solution(user, valid_lists, split), user, valid_lists, blind)
    ch07.check_by_k(by_k_solution(scores, seen, split), results["I-AutoRec"], blind, data)
    ch07.check_mrr(reciprocal_rank, mrr_solution(valid_lists, split), valid_lists, blind)
    assert capsys.readouterr().out.count("correct:") == 3
