import numpy as np
import pandas as pd
import pytest

from autorec_lib import datasets, splits
from autorec_lib.datasets import DataError
from conftest import write_ml100k


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


# ---------------------------------------------------------------- a split described so it can be rebuilt

@pytest.mark.parametrize("kind, test_fraction, valid_fraction, seed", [
    ("random", 0.2, 0.1, 3), ("random", 0.1, None, 0), ("holdout", 0.1, 0.1, 5), ("u1", 0.1, 0.2, 1)])
def test_a_split_rebuilt_from_its_spec_is_identical(canonical_data, kind, test_fraction, valid_fraction, seed):
    s = splits.make_split(canonical_data, kind, test_fraction, valid_fraction, seed)
    again = splits.SplitSpec.from_dict(s.spec.to_dict()).make(canonical_data)
    for part in ("train", "valid", "test"):
        if getattr(s, part) is None:
            assert getattr(again, part) is None
        else:
            pd.testing.assert_frame_equal(getattr(again, part), getattr(s, part))
    assert again.spec == s.spec and again.name == kind


def test_the_spec_records_only_what_the_split_used(canonical_data):
    assert splits.make_split(canonical_data, "u1", 0.3, 0.0, seed=2).spec.to_dict() == {
        "split": "u1", "test_fraction": None, "valid_fraction": None, "seed": 2, "dataset": "ml-100k"}
    assert splits.make_split(canonical_data, "random", np.float64(0.2), 0.1, np.int64(4)).spec.to_dict() == {
        "split": "random", "test_fraction": 0.2, "valid_fraction": 0.1, "seed": 4, "dataset": "ml-100k"}


def test_a_spec_refuses_another_data_set(small_data):
    spec = splits.SplitSpec("random", 0.1, 0.1, 0, dataset="ml-latest-small")
    with pytest.raises(DataError, match="made from ml-latest-small, not ml-100k"):
        spec.make(small_data)


def test_a_hand_built_split_still_works_without_a_spec(small_data):
    s = splits.Split(small_data.ratings, small_data.ratings.head(3), None, "mine")
    assert s.spec is None and s.sizes() == {"train": len(small_data.ratings), "test": 3}


# ---------------------------------------------------------------- published splits, read through the registry

@pytest.fixture
def canonical_data(tmp_path):
    """Synthetic ML-100K with a u1 split written the way GroupLens's files are: a partition of u.data."""
    folder = write_ml100k(tmp_path / "ml-100k")
    lines = (folder / "u.data").read_text().splitlines()
    cut = len(lines) // 5
    (folder / "u1.test").write_text("".join(line + "\n" for line in lines[:cut]))
    (folder / "u1.base").write_text("".join(line + "\n" for line in lines[cut:]))
    return datasets.load("ml-100k", folder)


def test_canonical_split_reads_the_files_the_registry_names(canonical_data):
    train, test = splits.canonical_split(canonical_data, "u1")
    assert len(train) + len(test) == len(canonical_data.ratings) and not _keys(train) & _keys(test)


def test_a_missing_split_file_is_reported_not_downloaded(canonical_data):
    (canonical_data.path / "u1.base").unlink()
    with pytest.raises(DataError, match=rf"{canonical_data.path} lacks u1.base, the published split 'u1' of "
                                        "ml-100k. Unzip .*ml-100k.zip again"):
        splits.make_split(canonical_data, "u1")


def test_a_rating_in_both_parts_is_refused(canonical_data):
    first = (canonical_data.path / "u1.base").read_text().splitlines()[0]
    with open(canonical_data.path / "u1.test", "a") as f:
        f.write(first + "\n")
    n = len((canonical_data.path / "u1.test").read_text().splitlines())
    with pytest.raises(DataError, match=rf"u1.test, line {n}: .* is also in .*u1.base"):
        splits.canonical_split(canonical_data, "u1")


def test_a_split_rating_for_an_unknown_movie_is_refused(canonical_data):
    with open(canonical_data.path / "u1.test", "a") as f:
        f.write("10\t999\t3\t0\n")
    with pytest.raises(DataError, match=r"u1.test, line \d+: user 10 or movie 999 does not occur in .*u.data"):
        splits.canonical_split(canonical_data, "u1")


def test_a_duplicate_in_a_split_file_is_refused(canonical_data):
    path = canonical_data.path / "u1.base"
    path.write_text(path.read_text() + path.read_text().splitlines()[0] + "\n")
    with pytest.raises(DataError, match=r"u1.base, lines 1 and \d+: user \d+ rates movie \d+ twice"):
        splits.canonical_split(canonical_data, "u1")


def test_a_data_set_without_published_splits_says_so(tmp_path):
    from test_exercises_ch01 import write_latest_small

    small = datasets.load("ml-latest-small", write_latest_small(tmp_path / "ml-latest-small"))
    with pytest.raises(DataError, match="ml-latest-small has no published split 'u1'"):
        splits.make_split(small, "u1")


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
