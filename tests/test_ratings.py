"""The data type: built from raw rows in one go, and the digest that identifies a set of ratings."""
import numpy as np
import pandas as pd
import pytest

from autorec_lib.datasets import DataError, RatingData, ratings_digest
from conftest import frame


def raw(rows):
    users, items, ratings = zip(*rows)
    return pd.DataFrame({"user_id": users, "item_id": items, "rating": ratings, "timestamp": 0})


def test_from_raw_indexes_sorted_ids_and_titles():
    titles = pd.Series({7: "Seven", 3: "Three", 9: "unrated"})
    data = RatingData.from_raw("toy", raw([(20, 7, 4.0), (10, 3, 2.0), (20, 3, 5.0)]), titles, (1.0, 5.0), "/x")
    assert data.user_ids.tolist() == [10, 20] and data.item_ids.tolist() == [3, 7]
    assert data.titles.tolist() == ["Three", "Seven"]
    assert data.ratings[["user", "item"]].values.tolist() == [[1, 1], [0, 0], [1, 0]]
    assert data.ratings["rating"].dtype == np.float32


def test_from_raw_refuses_a_rated_movie_without_a_title():
    with pytest.raises(DataError, match="movie 7 is rated but has no title"):
        RatingData.from_raw("toy", raw([(1, 7, 4.0)]), pd.Series({3: "Three"}), (1.0, 5.0), "/x")


def test_index_ratings_refuses_an_unknown_id(small_data):
    unknown = pd.DataFrame({"user_id": [small_data.user_ids[0]], "item_id": [99_999], "rating": [3.0],
                            "timestamp": [0]})
    with pytest.raises(DataError, match="item 99999 refers to an id that ml-100k does not contain"):
        small_data.index_ratings(unknown)


ROWS = [(0, 1, 4.0), (2, 0, 3.0), (1, 1, 5.0)]


def test_digest_ignores_row_order_index_timestamps_and_widths():
    a = frame(ROWS)
    b = frame(ROWS[::-1]).set_index(pd.Index([7, 8, 9]))
    b["timestamp"] = 123
    c = a.astype({"user": np.int32, "item": np.int32, "rating": np.float64})
    assert ratings_digest(a) == ratings_digest(b) == ratings_digest(c)
    assert len(ratings_digest(a)) == 64


@pytest.mark.parametrize("change", [
    lambda f: f.assign(rating=f["rating"].where(f.index != 0, 3.5)),  # one rating changed
    lambda f: f.iloc[1:],  # one rating removed
    lambda f: pd.concat([f, f.iloc[:1].assign(item=5)]),  # one rating added
    lambda f: f.assign(user=f["item"], item=f["user"]),  # users and items swapped
])
def test_digest_changes_with_any_rating(change):
    assert ratings_digest(change(frame(ROWS))) != ratings_digest(frame(ROWS))


def test_digest_is_sha256_of_sorted_int64_int64_float64_triples():
    import hashlib

    table = np.array(sorted(ROWS), dtype=[("u", "<i8"), ("i", "<i8"), ("r", "<f8")])
    assert ratings_digest(frame(ROWS)) == hashlib.sha256(table.tobytes()).hexdigest()
