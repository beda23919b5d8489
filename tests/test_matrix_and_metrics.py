import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from autorec_lib import metrics
from autorec_lib.matrix import RatingMatrix, gather_predictions
from conftest import frame


def test_item_rows_for_i_autorec_and_user_rows_for_u_autorec():
    r = frame([(0, 2, 4.0), (1, 0, 3.0), (2, 2, 5.0)])
    item = RatingMatrix(r, n_users=3, n_items=4, variant="item")
    user = RatingMatrix(r, n_users=3, n_items=4, variant="user")
    assert item.shape == (4, 3) and user.shape == (3, 4)
    assert item.csr[2, 0] == 4.0 and user.csr[0, 2] == 4.0


def test_mask_comes_from_stored_entries_not_values():
    r = frame([(0, 0, 0.0), (1, 1, 2.0)])  # an observed rating of value 0 still counts as observed
    values, mask = RatingMatrix(r, 2, 2, "user").dense(np.array([0, 1]))
    assert mask.tolist() == [[1, 0], [0, 1]] and values.dtype == np.float32


def test_batches_cover_every_row_once_and_shuffle_with_a_seed():
    m = RatingMatrix(frame([(u, 0, 1.0) for u in range(10)]), 10, 1, "user")
    rows = np.concatenate(list(m.batches(3, np.random.default_rng(0))))
    assert sorted(rows) == list(range(10))
    first = [b.tolist() for b in m.batches(3, np.random.default_rng(5))]
    assert first == [b.tolist() for b in m.batches(3, np.random.default_rng(5))]


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown variant 'items'"):
        RatingMatrix(frame([(0, 0, 1.0)]), 1, 1, "items")


@pytest.mark.parametrize("variant", ["item", "user"])
def test_gather_predictions_picks_the_right_entry_of_each_reconstructed_row(variant):
    rng = np.random.default_rng(0)
    full = rng.random((5, 7)).astype(np.float32)  # full[user, item]
    m = RatingMatrix(frame([(0, 0, 1.0)]), 5, 7, variant)
    table = full.T if variant == "item" else full
    users, items = rng.integers(0, 5, 40), rng.integers(0, 7, 40)
    got = gather_predictions(lambda rows: table[rows], m, users, items, batch_size=2)
    np.testing.assert_array_equal(got, full[users, items])


def test_movielens_10m_shaped_matrix_stays_sparse_and_batches_densely():
    rng = np.random.default_rng(0)
    n_users, n_items, n = 71_567, 10_681, 1_000_000
    r = pd.DataFrame({"user": rng.integers(0, n_users, n), "item": rng.integers(0, n_items, n),
                      "rating": rng.integers(1, 6, n).astype(np.float32)}).drop_duplicates(["user", "item"])
    m = RatingMatrix(r, n_users, n_items, "item")
    assert sp.issparse(m.csr) and m.shape == (n_items, n_users) and m.nnz == len(r)
    values, mask = m.dense(np.arange(16))
    assert values.shape == (16, n_users) and mask.sum() == m.row_counts()[:16].sum()


def test_rmse_and_mae():
    assert metrics.rmse(np.array([1, 3]), np.array([2, 5])) == pytest.approx(np.sqrt(2.5))
    assert metrics.mae(np.array([1, 3]), np.array([2, 5])) == pytest.approx(1.5)


def test_evaluate_clips_and_gives_unseen_users_and_items_the_default():
    train = frame([(0, 0, 4.0), (1, 1, 2.0)])
    test = frame([(0, 1, 5.0), (2, 0, 3.0), (1, 3, 1.0)])  # user 2 and item 3 never seen in training
    seen = []

    def predict(users, items):
        seen.append((users.tolist(), items.tolist()))
        return np.full(len(users), 9.0)  # far above the scale

    result = metrics.evaluate(predict, test, train, (1.0, 5.0))
    assert seen == [([0], [1])] and result.n_default == 2 and result.n == 3
    # predictions: clip(9)=5 for (0,1); default 3 for the other two
    assert result.rmse == pytest.approx(np.sqrt((0 + 0 + 4) / 3))


def test_top_n_skips_rated_items_and_orders_by_score():
    scores = np.array([0.9, 0.1, 0.8, 0.7, 0.95])
    assert metrics.top_n(scores, exclude=np.array([4]), n=3).tolist() == [0, 2, 3]


def test_recommend_returns_ids_and_titles_of_unrated_items():
    train = frame([(0, 0, 5.0), (0, 1, 4.0)])
    table = metrics.recommend(lambda u, i: i.astype(float), 0, train, n_items=4,
                              titles=np.array(["a", "b", "c", "d"]), item_ids=np.array([10, 11, 12, 13]), n=2)
    assert table["title"].tolist() == ["d", "c"] and table["item_id"].tolist() == [13, 12]


def test_predicting_for_a_user_outside_the_training_matrix_names_the_index():
    matrix = RatingMatrix(frame([(0, 0, 4.0), (1, 2, 3.0)]), n_users=2, n_items=3, variant="item")
    with pytest.raises(IndexError, match="user index 2 is outside the 2 users this model was trained on"):
        gather_predictions(lambda rows: np.zeros((len(rows), 2)), matrix, np.array([0, 2]), np.array([1, 1]))
