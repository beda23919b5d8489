"""Finding and loading data sets: the search order, incomplete folders, the registry, the real files.
Parsers are tested in test_parsing.py, downloads in test_download.py."""
import urllib.error

import numpy as np
import pytest

from autorec_lib import datasets
from autorec_lib.datasets import DataError
from conftest import write_ml100k


# ---------------------------------------------------------------- loading

def test_load_gives_contiguous_indices_id_maps_and_titles(small_ml100k):
    data = datasets.load("ml-100k", small_ml100k)
    r = data.ratings
    assert r["user"].min() == 0 and r["user"].max() == data.n_users - 1
    assert r["item"].min() == 0 and r["item"].max() == data.n_items - 1
    assert set(np.unique(r["user"])) == set(range(data.n_users))
    assert data.user_ids[0] == 10 and np.all(np.diff(data.user_ids) > 0)
    item = int(r["item"].iloc[0])
    assert data.titles[item] == f"Movie {data.item_ids[item] - 100} (1995)"


def test_unknown_dataset_name_lists_the_known_ones():
    with pytest.raises(DataError, match="ml-100k"):
        datasets.load("ml-5k")


# ---------------------------------------------------------------- where data comes from

def test_explicit_path_without_the_files_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="u.data"):
        datasets.locate("ml-100k", tmp_path)


def test_data_root_variable_is_used_before_the_cache(tmp_path, monkeypatch):
    write_ml100k(tmp_path / "root" / "ml-100k")
    write_ml100k(tmp_path / "cache" / "ml-100k")
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path / "root"))
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    assert datasets.locate("ml-100k") == tmp_path / "root" / "ml-100k"
    monkeypatch.delenv(datasets.DATA_ENV)
    assert datasets.locate("ml-100k") == tmp_path / "cache" / "ml-100k"


def test_offline_with_nothing_local_names_the_variable_and_url(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))

    def offline(url, dest):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(DataError) as err:
        datasets.load("ml-100k", fetcher=offline)
    message = str(err.value)
    assert datasets.DATA_ENV in message and "https://files.grouplens.org/datasets/movielens/ml-100k.zip" in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_no_download_flag_gives_the_same_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(DataError, match="AUTOREC_DATA is not set.*To work offline"):
        datasets.locate("ml-100k", download=False)


def test_a_data_root_without_the_data_set_falls_through_to_the_cache(tmp_path, monkeypatch):
    (tmp_path / "root").mkdir()
    write_ml100k(tmp_path / "cache" / "ml-100k")
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path / "root"))
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    assert datasets.locate("ml-100k", download=False) == tmp_path / "cache" / "ml-100k"


# ---------------------------------------------------------------- incomplete folders: reported, never downloaded

def _no_download(url, dest):
    raise AssertionError(f"an incomplete local folder must not trigger a download of {url}")


@pytest.mark.parametrize("missing", ["u.item", "u.data"])
def test_incomplete_local_data_folder_is_reported_not_downloaded(tmp_path, monkeypatch, missing):
    folder = write_ml100k(tmp_path / "root" / "ml-100k")
    (folder / missing).unlink()
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path / "root"))
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(DataError) as err:
        datasets.load("ml-100k", fetcher=_no_download)
    message = str(err.value)
    assert f"{folder} ($AUTOREC_DATA/ml-100k) does not hold ml-100k: it is incomplete, lacking {missing}." in message
    assert "ml-100k.zip" in message and not (tmp_path / "cache").exists()


def test_incomplete_cache_folder_is_reported_not_downloaded_again(tmp_path, monkeypatch):
    folder = write_ml100k(tmp_path / "cache" / "ml-100k")
    (folder / "u.item").unlink()
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(DataError, match=r"\(the cache\) does not hold ml-100k: it is incomplete, lacking "
                                        "u.item.*remove the folder to download it again"):
        datasets.load("ml-100k", fetcher=_no_download)


def test_explicit_path_that_is_not_a_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist; pass the folder that contains u.data, u.item"):
        datasets.locate("ml-100k", tmp_path / "nowhere")
    (tmp_path / "file").write_text("")
    with pytest.raises(DataError, match="is not a folder"):
        datasets.locate("ml-100k", tmp_path / "file")


def test_ratings_for_a_movie_the_movie_file_does_not_list_are_refused(tmp_path):
    folder = write_ml100k(tmp_path / "ml-100k")
    with open(folder / "u.data", "a") as f:
        f.write("10\t999\t3\t1\n")
    n_lines = len((folder / "u.data").read_text().splitlines())
    with pytest.raises(DataError, match=rf"u.data, line {n_lines}: user 10 rates movie 999, which .*u.item "
                                        r"does not list \(1 such ratings\)"):
        datasets.load("ml-100k", folder)


def test_the_data_type_is_built_complete_and_frozen(small_data):
    import dataclasses

    assert len(small_data.ratings) > 0 and len(small_data.titles) == small_data.n_items
    with pytest.raises(dataclasses.FrozenInstanceError):
        small_data.ratings = small_data.ratings.head(0)


# ---------------------------------------------------------------- the registry

def test_registry_has_official_urls_and_pinned_checksums():
    assert datasets.DATASETS["ml-100k"].md5 == "0e33842e24a9c977be4e0107933c0723"
    assert datasets.DATASETS["ml-1m"].md5 == "c4d9eecfca2ab87c1945afe126590906"
    for info in datasets.DATASETS.values():
        assert info.url == f"https://files.grouplens.org/datasets/movielens/{info.name}.zip"


def test_registry_holds_the_format_facts():
    ml100k, latest = datasets.DATASETS["ml-100k"], datasets.DATASETS["ml-latest-small"]
    assert (ml100k.ratings.scale, ml100k.ratings.step) == ((1.0, 5.0), 1.0)
    assert (latest.ratings.scale, latest.ratings.step) == ((0.5, 5.0), 0.5)
    assert ml100k.split_files("ua") == ("ua.base", "ua.test")
    with pytest.raises(DataError, match="ml-latest-small has no published split 'u1' \\(it ships none\\)"):
        latest.split_files("u1")


# ---------------------------------------------------------------- the real data

@pytest.mark.realdata
def test_real_ml100k_has_the_documented_size(ml100k):
    assert (ml100k.n_users, ml100k.n_items, len(ml100k.ratings)) == (943, 1682, 100_000)
    assert datasets.file_md5(ml100k.path / "u.data") == "6e47046882bad158b0efbb84cd5cb987"
    assert ml100k.titles[int(np.searchsorted(ml100k.item_ids, 1))] == "Toy Story (1995)"


@pytest.mark.realdata
def test_real_ml_latest_small_loads(ml100k):
    data = datasets.load("ml-latest-small", ml100k.path.parent / "ml-latest-small")
    assert (data.n_users, len(data.ratings)) == (610, 100_836)
    assert data.ratings["rating"].min() == 0.5


@pytest.mark.realdata
def test_real_data_sets_load_unchanged_by_the_strict_parsers(ml100k):
    """Every rating of both real data sets passes the checks: no duplicate pair, every movie titled."""
    assert ml100k.ratings.duplicated(["user", "item"]).sum() == 0
    assert (ml100k.titles != "").all()
    assert datasets.ratings_digest(ml100k.ratings) == (
        "cae1b978c57ffba24ff21a0c1f0e749ea8cb5ae8bfad8baf0080f77a11ccc44b")
