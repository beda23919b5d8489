import pandas as pd
import pytest

from autorec_lib import splits


def _keys(frame):
    return set(zip(frame["user"], frame["item"]))


def test_random_split_holds_out_exactly_the_fraction_and_partitions(small_data):
    r = small_data.ratings
    train, test = splits.random_split(r, 0.2, seed=3)
    assert len(test) == round(0.2 * len(r)) and len(train) + len(test) == len(r)
    assert not _keys(train) & _keys(test)
    assert _keys(train) | _keys(test) == _keys(r)


def test_random_split_is_deterministic_per_seed(small_data):
    a = splits.random_split(small_data.ratings, 0.1, seed=1)[1]
    b = splits.random_split(small_data.ratings, 0.1, seed=1)[1]
    c = splits.random_split(small_data.ratings, 0.1, seed=2)[1]
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_bad_fraction_is_refused_with_its_value(small_data, fraction):
    with pytest.raises(ValueError, match=f"test_fraction must lie strictly between 0 and 1, got {fraction}"):
        splits.random_split(small_data.ratings, fraction)


def test_validation_is_carved_out_of_training(small_data):
    s = splits.make_split(small_data, "random", 0.1, 0.1, seed=0)
    parts = [_keys(s.train), _keys(s.valid), _keys(s.test)]
    assert sum(map(len, parts)) == len(small_data.ratings)
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert len(s.valid) == round(0.1 * (len(s.train) + len(s.valid)))


def test_per_user_holdout_takes_one_rating_of_each_user(small_data):
    train, test = splits.per_user_holdout(small_data.ratings, 1, seed=0)
    counts = small_data.ratings.groupby("user").size()
    assert test.groupby("user").size().eq(1).all()
    assert set(test["user"]) == set(counts[counts > 1].index)
    assert not _keys(train) & _keys(test)


def test_unknown_split_name_is_refused(small_data):
    with pytest.raises(ValueError, match="unknown split 'u9'"):
        splits.make_split(small_data, "u9")


@pytest.mark.realdata
@pytest.mark.parametrize("name, n_train, n_test", [(f"u{k}", 80_000, 20_000) for k in range(1, 6)]
                         + [("ua", 90_570, 9_430), ("ub", 90_570, 9_430)])
def test_canonical_ml100k_splits_have_their_published_sizes(ml100k, name, n_train, n_test):
    train, test = splits.canonical_split(ml100k, name)
    assert (len(train), len(test)) == (n_train, n_test)
    assert not _keys(train) & _keys(test)


@pytest.mark.realdata
def test_canonical_test_folds_partition_all_ratings(ml100k):
    folds = [_keys(splits.canonical_split(ml100k, f"u{k}")[1]) for k in range(1, 6)]
    assert set().union(*folds) == _keys(ml100k.ratings) and sum(map(len, folds)) == 100_000
