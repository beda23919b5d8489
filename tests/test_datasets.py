import hashlib
import io
import urllib.error
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from autorec_lib import datasets
from autorec_lib.datasets import DataError, parse_ratings
from conftest import write_ml100k


# ---------------------------------------------------------------- parsing the three formats

def test_parses_tab_separated_u_data(tmp_path):
    path = tmp_path / "u.data"
    path.write_text("1\t10\t3\t100\n2\t10\t5\t101\n")
    frame = parse_ratings(path, "\t")
    assert frame["rating"].tolist() == [3.0, 5.0]
    assert frame["user_id"].tolist() == [1, 2]


def test_parses_ratings_csv_with_header_and_half_stars(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,1,4.5,964982703\n1,3,0.5,964981247\n")
    frame = parse_ratings(path, ",", header=True, scale=(0.5, 5.0))
    assert frame["rating"].tolist() == [4.5, 0.5]


def test_parses_double_colon_ratings_dat(tmp_path):
    path = tmp_path / "ratings.dat"
    path.write_text("1::1193::5::978300760\n1::661::3::978302109\n")
    frame = parse_ratings(path, "::")
    assert frame["item_id"].tolist() == [1193, 661]


@pytest.mark.parametrize("content, line, words", [
    ("1\t2\t3\t4\n1\t2\t3\n", 2, "expected 4 fields"),
    ("1\t2\t3\t4\n1\t2\t3\t4\t5\n", 2, "expected 4 fields"),
    ("1\t2\t3\t4\n1\tx\t3\t4\n", 2, "item_id 'x' is not a number"),
    ("1\t2\t3\t4\n1\t2\tfive\t4\n", 2, "rating 'five' is not a number"),
    ("1\t2\t3\t4\n1\t2\t3\t4\n1\t2\t7\t4\n", 3, "rating 7 is outside the scale 1..5"),
])
def test_malformed_ratings_name_file_and_line(tmp_path, content, line, words):
    path = tmp_path / "u.data"
    path.write_text(content)
    with pytest.raises(DataError) as err:
        parse_ratings(path, "\t")
    assert f"{path}, line {line}" in str(err.value)
    assert words in str(err.value)


def test_malformed_csv_counts_the_header_line(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,1,4.5,9\n1,1,9.5,9\n")
    with pytest.raises(DataError, match=r"line 3: rating 9.5 is outside"):
        parse_ratings(path, ",", header=True, scale=(0.5, 5.0))


def test_empty_ratings_file_is_refused(tmp_path):
    path = tmp_path / "u.data"
    path.write_text("")
    with pytest.raises(DataError, match="no ratings"):
        parse_ratings(path, "\t")


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


def _offline(url, dest):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_offline_with_nothing_local_names_the_variable_and_url(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(DataError) as err:
        datasets.load("ml-100k", fetcher=_offline)
    message = str(err.value)
    assert datasets.DATA_ENV in message and "https://files.grouplens.org/datasets/movielens/ml-100k.zip" in message
    assert list((tmp_path / "cache").iterdir()) == []


def test_no_download_flag_gives_the_same_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(DataError, match="AUTOREC_DATA is not set"):
        datasets.locate("ml-100k", download=False)


# ---------------------------------------------------------------- downloading

def _zip_of(folder) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"ml-100k/{f.name}")
    return buf.getvalue()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A fake GroupLens: ml-100k.zip as a local file URL, the registry pointed at it."""
    payload = _zip_of(write_ml100k(tmp_path / "src" / "ml-100k"))
    archive = tmp_path / "server" / "ml-100k.zip"
    archive.parent.mkdir()
    archive.write_bytes(payload)
    info = replace(datasets.DATASETS["ml-100k"], url=archive.as_uri(), md5=hashlib.md5(payload).hexdigest())
    monkeypatch.setitem(datasets.DATASETS, "ml-100k", info)
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    return archive


def _cache_entries(tmp_path):
    return sorted(p.name for p in (tmp_path / "cache").iterdir())


def test_download_from_a_url_verifies_unpacks_and_loads(served, tmp_path):
    data = datasets.load("ml-100k")
    assert data.path == tmp_path / "cache" / "ml-100k"
    assert _cache_entries(tmp_path) == ["ml-100k"]  # no zip or temporary folder left behind
    assert len(data.ratings) > 0


def test_checksum_mismatch_removes_everything_and_says_what_to_do(served, tmp_path, monkeypatch):
    bad = replace(datasets.DATASETS["ml-100k"], md5="0" * 32)
    monkeypatch.setitem(datasets.DATASETS, "ml-100k", bad)
    with pytest.raises(DataError, match="checksum mismatch.*try again"):
        datasets.load("ml-100k")
    assert _cache_entries(tmp_path) == []


def test_broken_zip_is_removed_and_reported(served, tmp_path, monkeypatch):
    served.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    fixed = replace(datasets.DATASETS["ml-100k"], md5=hashlib.md5(served.read_bytes()).hexdigest())
    monkeypatch.setitem(datasets.DATASETS, "ml-100k", fixed)
    with pytest.raises(DataError, match="not a valid zip"):
        datasets.load("ml-100k")
    assert _cache_entries(tmp_path) == []


def test_interrupted_download_leaves_nothing_that_later_loads(served, tmp_path):
    def dies_halfway(url, dest):
        dest.write_bytes(served.read_bytes()[:100])
        raise ConnectionResetError("connection reset by peer")

    with pytest.raises(DataError, match="could not download"):
        datasets.load("ml-100k", fetcher=dies_halfway)
    assert _cache_entries(tmp_path) == []
    with pytest.raises(DataError):
        datasets.locate("ml-100k", download=False)
    assert len(datasets.load("ml-100k").ratings) > 0  # a later, complete download works


def test_checksum_can_come_from_the_published_md5_file(served, tmp_path, monkeypatch):
    md5 = hashlib.md5(served.read_bytes()).hexdigest()
    (tmp_path / "server" / "ml-100k.zip.md5").write_text(f"MD5 (ml-100k.zip) = {md5}\n")
    monkeypatch.setitem(datasets.DATASETS, "ml-100k", replace(datasets.DATASETS["ml-100k"], md5=None))
    assert datasets.load("ml-100k").n_users > 0


def test_registry_has_official_urls_and_pinned_checksums():
    assert datasets.DATASETS["ml-100k"].md5 == "0e33842e24a9c977be4e0107933c0723"
    assert datasets.DATASETS["ml-1m"].md5 == "c4d9eecfca2ab87c1945afe126590906"
    for info in datasets.DATASETS.values():
        assert info.url == f"https://files.grouplens.org/datasets/movielens/{info.name}.zip"


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
