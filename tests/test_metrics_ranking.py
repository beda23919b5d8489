"""Top-k ranking metrics: hand-computed examples, and NDCG against scikit-learn's ``ndcg_score``."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from autorec_lib import metrics

LOG3, LOG6 = math.log2(3), math.log2(6)


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


# --------------------------------------------------------------------------------------------
# Per-user metrics, computed by hand
# --------------------------------------------------------------------------------------------

# recommended best first; items 1 and 2 are relevant (ranks 2 and 5), item 7 is relevant but not shown
RECOMMENDED, RELEVANT = [3, 1, 4, 0, 2], {1, 2, 7}


def test_precision_recall_hit_at_5_by_hand():
    assert metrics.precision_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx(2 / 5)
    assert metrics.recall_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert metrics.hit_at_k(RECOMMENDED, RELEVANT, 5) == 1.0


def test_ndcg_at_5_by_hand():
    dcg = 1 / LOG3 + 1 / LOG6               # hits at ranks 2 and 5: 1 / log2(rank + 1)
    ideal = 1 + 1 / LOG3 + 1 / math.log2(4)  # three relevant items at ranks 1, 2, 3
    assert metrics.ndcg_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx(dcg / ideal)
    assert dcg / ideal == pytest.approx(0.47762, abs=1e-5)


def test_metrics_at_2_look_only_at_the_first_two():
    assert metrics.precision_at_k(RECOMMENDED, RELEVANT, 2) == pytest.approx(1 / 2)
    assert metrics.recall_at_k(RECOMMENDED, RELEVANT, 2) == pytest.approx(1 / 3)
    # the ideal list of length 2 holds two relevant items
    assert metrics.ndcg_at_k(RECOMMENDED, RELEVANT, 2) == pytest.approx((1 / LOG3) / (1 + 1 / LOG3))


def test_ideal_dcg_counts_at_most_k_relevant_items():
    # ten relevant items, k = 3, all three shown are relevant: a perfect list scores 1
    assert metrics.ndcg_at_k([0, 1, 2], range(10), 3) == pytest.approx(1.0)
    assert metrics.recall_at_k([0, 1, 2], range(10), 3) == pytest.approx(0.3)


def test_a_list_without_hits_scores_zero_and_relevance_accepts_lists_and_arrays():
    for relevant in ({8, 9}, [8, 9], np.array([9, 8, 8])):
        assert metrics.precision_at_k([0, 1, 2], relevant, 3) == 0.0
        assert metrics.hit_at_k([0, 1, 2], relevant, 3) == 0.0
        assert metrics.ndcg_at_k([0, 1, 2], relevant, 3) == 0.0
    assert metrics.recall_at_k([0, 8], np.array([9, 8, 8]), 2) == pytest.approx(1 / 2)  # 2 distinct relevant


def test_precision_divides_by_k_even_when_the_list_is_shorter():
    assert metrics.precision_at_k([5], {5}, 10) == pytest.approx(0.1)


# --------------------------------------------------------------------------------------------
# NDCG against scikit-learn on the same inputs
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", (1, 3, 10))
def test_ndcg_matches_scikit_learn(seed, k):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    n_items = 40
    scores = rng.permutation(n_items).astype(float)  # distinct scores: no ties to break
    relevant = rng.choice(n_items, size=rng.integers(1, 15), replace=False)
    ranked = metrics.top_k(scores[None, :], np.zeros((1, n_items), bool), k)[0]
    y_true = np.isin(np.arange(n_items), relevant).astype(float)
    expected = sklearn_metrics.ndcg_score(y_true[None, :], scores[None, :], k=k)
    assert metrics.ndcg_at_k(ranked, relevant, k) == pytest.approx(expected, abs=1e-12)


def test_ndcg_matches_scikit_learn_over_the_candidates_only():
    """Excluded (already rated) items leave the candidate set: sklearn sees only the candidates."""
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    n_items = 30
    scores = rng.normal(size=n_items)
    rated = np.zeros(n_items, bool)
    rated[rng.choice(n_items, 8, replace=False)] = True
    candidates = np.flatnonzero(~rated)
    relevant = rng.choice(candidates, 5, replace=False)
    ranked = metrics.top_k(scores[None, :], rated[None, :], 10)[0]
    y_true = np.isin(candidates, relevant).astype(float)
    expected = sklearn_metrics.ndcg_score(y_true[None, :], scores[candidates][None, :], k=10)
    assert metrics.ndcg_at_k(ranked, relevant, 10) == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------------------------
# Candidates and top-k lists
# --------------------------------------------------------------------------------------------

def test_top_k_leaves_out_rated_items_breaks_ties_by_index_and_pads_short_lists():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.2],
                       [1.0, 2.0, 3.0, 4.0, 5.0]])
    exclude = np.array([[False, True, False, False, False],
                        [True, True, True, False, True]])
    ranked = metrics.top_k(scores, exclude, 3)
    assert ranked.tolist() == [[3, 2, 4], [3, -1, -1]]


def test_top_k_candidates_excludes_training_and_the_extra_ratings():
    train = frame([(0, 0, 5), (0, 1, 4), (1, 2, 3)])
    valid = frame([(0, 3, 5)])
    predict = lambda users, items: items.astype(float)  # higher index, higher score
    ranked = metrics.top_k_candidates(predict, train, n_users=2, n_items=5, k=3)
    assert ranked.tolist() == [[4, 3, 2], [4, 3, 1]]
    ranked = metrics.top_k_candidates(predict, train, n_users=2, n_items=5, k=3, also_exclude=valid)
    assert ranked.tolist() == [[4, 2, -1], [4, 3, 1]]


def test_score_matrix_predicts_every_pair_in_chunks():
    predict = lambda users, items: 10.0 * users + items
    scores = metrics.score_matrix(predict, n_users=5, n_items=3, chunk=2)
    assert scores.shape == (5, 3) and scores[4, 2] == 42.0 and scores[1, 0] == 10.0


def test_evaluate_ranking_averages_over_users_with_a_relevant_item_and_counts_the_others():
    held_out = frame([(0, 1, 5), (0, 4, 2), (1, 2, 4), (1, 3, 5), (2, 0, 3)])  # user 2: nothing >= 4
    ranked = np.array([[1, 0], [0, 3], [0, 1]])
    result = metrics.evaluate_ranking(ranked, held_out, k=2)
    assert (result.n_users, result.n_skipped, result.k) == (2, 1, 2)
    assert result.precision == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert result.recall == pytest.approx((1 + 1 / 2) / 2)
    assert result.hit_rate == 1.0
    user1 = (1 / LOG3) / (1 + 1 / LOG3)
    assert result.ndcg == pytest.approx((1.0 + user1) / 2)
    strict = metrics.evaluate_ranking(ranked, held_out, k=2, threshold=5)
    assert (strict.n_users, strict.n_skipped) == (2, 1) and strict.recall == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------
# Coverage and popularity
# --------------------------------------------------------------------------------------------

def test_catalogue_coverage_counts_distinct_items_shown():
    ranked = np.array([[0, 1], [1, 2], [2, -1]])
    assert metrics.catalogue_coverage(ranked, n_items=6) == pytest.approx(3 / 6)


def test_popularity_measures_by_hand():
    # training counts per item: 0 -> 3, 1 -> 2, 2 -> 1, 3 -> 0
    train = frame([(0, 0, 5), (1, 0, 4), (2, 0, 3), (0, 1, 4), (1, 1, 2), (0, 2, 5)])
    assert metrics.item_popularity(train, 4).tolist() == [3, 2, 1, 0]
    assert metrics.most_rated(train, 4, n_top=2).tolist() == [0, 1]
    ranked = np.array([[0, 3], [1, 2]])
    # percentiles: share of the 4 items with fewer ratings: item 0 75, item 1 50, item 2 25, item 3 0
    assert metrics.popularity_percentile(ranked, train, 4) == pytest.approx((75 + 0 + 50 + 25) / 4)
    assert metrics.top_popular_share(ranked, train, 4, n_top=2) == pytest.approx(2 / 4)
    assert metrics.top_popular_share(np.array([[0, -1]]), train, 4, n_top=1) == 1.0  # padding is no slot


# --------------------------------------------------------------------------------------------
# Scores shown to a person stay on the rating scale
# --------------------------------------------------------------------------------------------

def test_recommend_ranks_by_raw_scores_and_clips_the_shown_ones_to_the_scale():
    train = frame([(0, 0, 5)])
    predict = lambda users, items: np.array([9.0, 5.6, 0.2, 5.2, 3.0])[items]
    raw = metrics.recommend(predict, 0, train, n_items=5, n=3)
    shown = metrics.recommend(predict, 0, train, n_items=5, n=3, scale=(1.0, 5.0))
    assert raw["item"].tolist() == shown["item"].tolist() == [1, 3, 4]
    assert raw["score"].tolist() == pytest.approx([5.6, 5.2, 3.0])
    assert shown["score"].tolist() == pytest.approx([5.0, 5.0, 3.0])


# --------------------------------------------------------------------------------------------
# Paired comparisons (notebooks 07 to 09)
# --------------------------------------------------------------------------------------------

def test_ranking_per_user_holds_the_values_evaluate_ranking_averages():
    held_out = frame([(0, 1, 5), (0, 2, 4), (1, 3, 5), (2, 0, 2)])  # user 2 has nothing relevant
    ranked = np.array([[1, 0], [0, 3], [0, 1]])
    per_user = metrics.ranking_per_user(ranked, held_out, k=2)
    assert per_user.index.tolist() == [0, 1]
    assert per_user.loc[1].tolist() == pytest.approx([0.5, 1.0, 1.0, 1 / math.log2(3)])
    summary = metrics.evaluate_ranking(ranked, held_out, k=2)
    assert [summary.precision, summary.recall, summary.hit_rate, summary.ndcg] == pytest.approx(
        per_user.mean().tolist())


def test_paired_difference_gives_the_mean_its_standard_error_and_a_t_interval():
    from scipy import stats

    a, b = np.array([0.90, 0.88, 0.91, 0.89, 0.87]), np.array([0.91, 0.90, 0.91, 0.92, 0.88])
    d = metrics.paired_difference(a, b)
    diffs = a - b
    assert d.mean == pytest.approx(diffs.mean()) and d.n == 5
    assert d.se == pytest.approx(diffs.std(ddof=1) / math.sqrt(5))
    assert d.high - d.mean == pytest.approx(stats.t.ppf(0.975, 4) * d.se)
    assert d.clear == (stats.ttest_rel(a, b).pvalue < 0.05)  # the interval leaves out 0 exactly when t does
    noise = metrics.paired_difference([0.90, 0.88, 0.91], [0.89, 0.89, 0.90])
    assert not noise.clear and noise.low < 0 < noise.high
    with pytest.raises(ValueError, match="same length"):
        metrics.paired_difference([0.9, 0.8], [0.9])


def test_rmse_difference_is_the_observed_difference_with_a_bootstrap_over_users():
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(200), 5)
    truth = rng.integers(1, 6, len(users)).astype(float)
    good = truth + rng.normal(0, 0.5, len(truth))
    bad = truth + rng.normal(0, 1.0, len(truth))
    d = metrics.rmse_difference(good, bad, truth, users)
    assert d.mean == pytest.approx(metrics.rmse(good, truth) - metrics.rmse(bad, truth)) and d.n == 200
    assert d.clear and d.high < 0 and 0 < d.se < 0.1
    assert metrics.rmse_difference(good, bad, truth, users) == d  # a fixed seed: the same answer again
    same = metrics.rmse_difference(good, good, truth, users)
    assert same.mean == 0 and same.se == 0 and not same.clear
    alone = metrics.rmse_difference(good, truth, truth, users)  # minus a perfect predictor: the RMSE itself
    assert alone.mean == pytest.approx(metrics.rmse(good, truth)) and alone.se > 0
