"""Downloads: one clear message per failure (every URL tried, what failed at each, the offline fix),
nothing half-written left in the cache, and a later complete download still works. Fake fetchers stand
in for the network here; tests/test_download_tls.py runs the real fetcher against local HTTPS servers."""
import hashlib
import http.client
import io
import socket
import ssl
import urllib.error
import zipfile
from dataclasses import replace
from email.message import Message

import pytest

from autorec_lib import datasets
from autorec_lib.datasets import DataError
from conftest import write_ml100k

URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"


def zip_of(folder, skip: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            if f.name != skip:
                zf.write(f, f"ml-100k/{f.name}")
    return buf.getvalue()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache, no local data root, and the registry's own URL (never contacted: fetchers are fakes)."""
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


MIRROR = datasets.DATASETS["ml-100k"].mirrors[0]


@pytest.fixture
def payload(tmp_path, monkeypatch) -> bytes:
    """A valid ml-100k zip, with the registry's MD5 and SHA-256 set to match it (mirrors as registered)."""
    data = zip_of(write_ml100k(tmp_path / "src" / "ml-100k"))
    pin(monkeypatch, data)
    return data


def pin(monkeypatch, data: bytes, **fields) -> None:
    info = replace(datasets.DATASETS["ml-100k"], md5=hashlib.md5(data).hexdigest(),
                   sha256=hashlib.sha256(data).hexdigest(), **fields)
    monkeypatch.setitem(datasets.DATASETS, "ml-100k", info)


def unpinned(monkeypatch) -> None:
    """ml-100k as if it had no fixed bytes (like ml-latest-small): MD5 from the published file, no mirrors."""
    info = replace(datasets.DATASETS["ml-100k"], md5=None, sha256=None, mirrors=())
    monkeypatch.setitem(datasets.DATASETS, "ml-100k", info)


def serving(data: bytes):
    def fetch(url, dest):
        dest.write_bytes(data)
    return fetch


def raising(err):
    def fetch(url, dest):
        dest.write_bytes(b"PK\x03\x04 partial")  # something half-written before the failure
        raise err
    return fetch


def leftovers(cache):
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def fails(cache, fetcher, *words) -> str:
    with pytest.raises(DataError) as err:
        datasets.load("ml-100k", fetcher=fetcher)
    message = str(err.value)
    for w in (URL, "To work offline", datasets.DATA_ENV, *words):
        assert w in message, message
    assert leftovers(cache) == [], "a failed download left something in the cache"
    return message


# ---------------------------------------------------------------- network failures

def test_dns_failure(cache, payload):
    fails(cache, raising(urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))),
          "could not download", "could not be resolved (DNS failure")


def test_no_network(cache, payload):
    fails(cache, raising(urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))),
          "connection was refused (no network connection")


def test_network_unreachable(cache, payload):
    fails(cache, raising(urllib.error.URLError(OSError(101, "Network is unreachable"))),
          "network is unreachable")


def test_tls_certificate_error(cache, payload):
    """A fetcher of one's own gets no retry without verification: every source fails, each one named."""
    err = ssl.SSLCertVerificationError(1, "certificate verify failed: unable to get local issuer certificate")
    message = fails(cache, raising(urllib.error.URLError(err)), "TLS certificate could not be verified",
                    f"(2) {MIRROR}: the server's TLS")
    assert "\n" not in message


def test_every_source_and_its_own_failure_are_named(cache, payload):
    def fetch(url, dest):
        raise (urllib.error.HTTPError(url, 503, "Service Unavailable", Message(), None) if url == URL
               else urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution")))

    fails(cache, fetch, "every source failed", f"(1) {URL}: the server answered HTTP 503",
          f"(2) {MIRROR}: the server's name could not be resolved")


def test_a_mirror_serves_the_pinned_bytes_when_grouplens_fails(cache, payload):
    def fetch(url, dest):
        if url == URL:
            raise urllib.error.HTTPError(url, 503, "Service Unavailable", Message(), None)
        dest.write_bytes(payload)

    assert len(datasets.load("ml-100k", fetcher=fetch).ratings) > 0
    assert leftovers(cache) == ["ml-100k"]


def test_altered_bytes_are_refused_from_every_source(cache, payload):
    altered = zip_of_other_data(payload)
    message = fails(cache, serving(altered), f"(1) {URL}: the downloaded file is truncated, corrupt or altered",
                    f"(2) {MIRROR}: the downloaded file", f"instead of {hashlib.sha256(payload).hexdigest()}")
    assert message.count("and was discarded") == 2


def zip_of_other_data(payload: bytes) -> bytes:
    """A complete, valid zip of the data set whose bytes are not the pinned ones."""
    buf = io.BytesIO(payload)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("ml-100k/extra.txt", "not in the published zip")
    return buf.getvalue()


@pytest.mark.parametrize("code, reason", [(404, "Not Found"), (503, "Service Unavailable")])
def test_http_error_status(cache, payload, code, reason):
    fails(cache, raising(urllib.error.HTTPError(URL, code, reason, Message(), None)),
          f"the server answered HTTP {code} {reason}")


def test_timeout(cache, payload):
    fails(cache, raising(urllib.error.URLError(TimeoutError("timed out"))), "timed out")


def test_connection_lost_halfway(cache, payload):
    def dies_halfway(url, dest):
        dest.write_bytes(payload[:100])
        raise http.client.IncompleteRead(payload[:100], len(payload) - 100)

    fails(cache, dies_halfway, "broke off during the download")
    assert len(datasets.load("ml-100k", fetcher=serving(payload)).ratings) > 0  # a later try works


# ---------------------------------------------------------------- what arrived is wrong

def test_truncated_zip_fails_its_checksums(cache, payload):
    message = fails(cache, serving(payload[: len(payload) // 2]), "truncated, corrupt or altered",
                    f"instead of {hashlib.sha256(payload).hexdigest()}",
                    f"instead of {hashlib.md5(payload).hexdigest()}", "Try the download again")
    assert f"{len(payload) // 2} bytes" in message


def test_zip_with_a_wrong_md5(cache, payload, monkeypatch):
    """The pinned SHA-256 does not excuse an MD5 that differs: both are checked."""
    monkeypatch.setitem(datasets.DATASETS, "ml-100k", replace(datasets.DATASETS["ml-100k"], md5="0" * 32))
    message = fails(cache, serving(payload), "truncated, corrupt or altered", "instead of 00000000")
    assert "SHA-256" not in message


def test_zip_with_a_wrong_sha256(cache, payload, monkeypatch):
    monkeypatch.setitem(datasets.DATASETS, "ml-100k", replace(datasets.DATASETS["ml-100k"], sha256="0" * 64))
    fails(cache, serving(payload), "truncated, corrupt or altered", "SHA-256", "instead of 00000000")


def test_zip_truncated_mid_file_with_a_matching_checksum(cache, payload, monkeypatch):
    """An MD5 taken from a bad copy (e.g. a published .md5 of a broken upload) still cannot pass."""
    cut = payload[: len(payload) - 200]
    pin(monkeypatch, cut)
    fails(cache, serving(cut), "could not unpack", "not a complete zip archive")


def test_zip_with_a_corrupted_member(cache, tmp_path, monkeypatch):
    data = bytearray(zip_of(write_ml100k(tmp_path / "src" / "ml-100k")))
    start = data.index(b"ml-100k/u.data") + len("ml-100k/u.data") + 10
    data[start:start + 20] = bytes(20)  # the compressed bytes of u.data, zeroed
    pin(monkeypatch, bytes(data))
    fails(cache, serving(bytes(data)), "could not unpack", "not a complete zip archive")


def test_not_a_zip_at_all(cache, monkeypatch):
    html = b"<html>captive portal: please log in</html>"
    pin(monkeypatch, html)
    fails(cache, serving(html), "could not unpack", "not a complete zip archive")


def test_zip_lacking_a_needed_file(cache, tmp_path, monkeypatch):
    data = zip_of(write_ml100k(tmp_path / "src" / "ml-100k"), skip="u.item")
    pin(monkeypatch, data)
    fails(cache, serving(data), "lacks ml-100k/u.item")


# ---------------------------------------------------------------- the published .md5 file

def test_checksum_from_the_published_md5_file(cache, payload, monkeypatch):
    unpinned(monkeypatch)
    md5 = hashlib.md5(payload).hexdigest()

    def fetch(url, dest):
        dest.write_bytes(f"MD5 (ml-100k.zip) = {md5}\n".encode() if url.endswith(".md5") else payload)

    assert datasets.load("ml-100k", fetcher=fetch).n_users > 0
    assert leftovers(cache) == ["ml-100k"]


def test_unreadable_md5_file(cache, payload, monkeypatch):
    unpinned(monkeypatch)
    fails(cache, serving(b"<html>not found</html>"), f"could not read a checksum from {URL}.md5")


def test_md5_file_download_failure_names_its_url(cache, payload, monkeypatch):
    unpinned(monkeypatch)
    fails(cache, raising(urllib.error.HTTPError(URL + ".md5", 404, "Not Found", Message(), None)),
          f"could not download {URL}.md5: the server answered HTTP 404")


# ---------------------------------------------------------------- success

def test_download_verifies_unpacks_and_loads_leaving_only_the_folder(cache, payload):
    data = datasets.load("ml-100k", fetcher=serving(payload))
    assert data.path == cache / "ml-100k"
    assert leftovers(cache) == ["ml-100k"]  # no zip or temporary folder left behind
    assert len(data.ratings) > 0


def test_urllib_fetch_reads_a_file_url(tmp_path, payload, cache, monkeypatch):
    """The real fetcher, on a local file URL (no network needed)."""
    served = tmp_path / "server" / "ml-100k.zip"
    served.parent.mkdir()
    served.write_bytes(payload)
    pin(monkeypatch, payload, url=served.as_uri(), mirrors=())
    assert len(datasets.load("ml-100k").ratings) > 0
    assert leftovers(cache) == ["ml-100k"]


# ---------------------------------------------------------------- the registry's pins

def test_fixed_data_sets_pin_a_sha256_and_latest_small_pins_nothing():
    for name in ("ml-100k", "ml-1m"):
        info = datasets.DATASETS[name]
        assert len(info.sha256) == 64 and int(info.sha256, 16) >= 0, name
        assert len(info.md5) == 32 and info.mirrors, name
    latest = datasets.DATASETS["ml-latest-small"]
    assert (latest.md5, latest.sha256, latest.mirrors) == (None, None, ())


def test_a_mirror_without_a_pinned_sha256_is_refused():
    with pytest.raises(ValueError, match="mirrors need a pinned sha256"):
        replace(datasets.DATASETS["ml-100k"], sha256=None)
