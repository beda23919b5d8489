"""Downloads against real local HTTPS servers: the built-in fetcher, certificates made here by a test CA.

A pinned SHA-256 authenticates ML-100K's bytes, so an invalid certificate (expired, another host's) is
named in one line and the bytes are fetched anyway; a mirror serves them when GroupLens fails; bytes
that differ are refused from every source; a failure leaves nothing in the cache; and ml-latest-small,
whose bytes nothing pins, refuses an invalid certificate. The certificates come from the ``openssl``
command (the ``cryptography`` package is on neither stack); the client trusts the test CA, so the
failure really is the one named ("certificate has expired"), not an unknown issuer.
"""
from __future__ import annotations

import hashlib
import http.server
import io
import os
import shutil
import ssl
import subprocess
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from autorec_lib import datasets
from autorec_lib.datasets import DataError
from conftest import write_ml100k
from test_download import leftovers, zip_of, zip_of_other_data

CA_CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = .
serial = serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any_name
unique_subject = no
[ any_name ]
commonName = supplied
[ localhost ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
[ elsewhere ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:elsewhere.invalid
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
"""

# certificate name: (extensions section, start, end) in openssl's YYYYMMDDHHMMSSZ
CERTIFICATES = {"valid": ("localhost", "20200101000000Z", "20991231000000Z"),
                "expired": ("localhost", "20200101000000Z", "20200102000000Z"),
                "elsewhere": ("elsewhere", "20200101000000Z", "20991231000000Z")}


def openssl(folder, *args):
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA and server certificates it signed (see CERTIFICATES); returns their folder."""
    if shutil.which("openssl") is None:
        message = "the openssl command is needed to make the test certificates"
        if os.environ.get("CI") == "true":  # CI must run these, not skip them
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("pki")
    (folder / "ca.cnf").write_text(CA_CONFIG)
    (folder / "index.txt").write_text("")
    (folder / "serial").write_text("01\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(folder, "req", "-config", "ca.cnf", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "30", "-subj", "/CN=AutoRec test CA", "-extensions", "v3_ca")
    for name, (section, start, end) in CERTIFICATES.items():
        openssl(folder, "req", "-config", "ca.cnf", "-new", *ec, "-keyout", f"{name}.key",
                "-out", f"{name}.csr", "-subj", f"/CN={name}")
        openssl(folder, "ca", "-config", "ca.cnf", "-batch", "-notext", "-extensions", section,
                "-startdate", start, "-enddate", end, "-in", f"{name}.csr", "-out", f"{name}.pem")
    return folder


class Server(http.server.ThreadingHTTPServer):
    """An HTTPS server on localhost serving ``files`` (path -> bytes, or an HTTP status to answer)."""

    def __init__(self, certificate, key):
        super().__init__(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.files: dict[str, bytes | int] = {}
        self.requests: list[str] = []
        self.cut = False  # send half of each file, then hang up
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"https://localhost:{self.server_address[1]}{path}"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path, 404)
        if isinstance(body, int):
            self.send_error(body)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if self.server.cut else body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def servers(pki):
    """One running server per certificate, by the certificate's name."""
    running = {name: Server(pki / f"{name}.pem", pki / f"{name}.key") for name in CERTIFICATES}
    yield running
    for server in running.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(servers):
    """The servers, emptied for this test."""
    for server in servers.values():
        server.files.clear()
        server.requests.clear()
        server.cut = False
    return servers


@pytest.fixture
def trusting(pki) -> ssl.SSLContext:
    """A client context that verifies certificates and trusts the test CA (and nothing else)."""
    return ssl.create_default_context(cafile=str(pki / "ca.pem"))


@pytest.fixture
def payload(tmp_path) -> bytes:
    return zip_of(write_ml100k(tmp_path / "src" / "ml-100k"))


def register(monkeypatch, name: str, **fields) -> None:
    monkeypatch.setitem(datasets.DATASETS, name, replace(datasets.DATASETS[name], **fields))


def pinned_to(monkeypatch, payload: bytes, url: str, *mirrors: str) -> None:
    register(monkeypatch, "ml-100k", url=url, mirrors=mirrors, md5=hashlib.md5(payload).hexdigest(),
             sha256=hashlib.sha256(payload).hexdigest())


def tls_notices(capsys) -> list[str]:
    """The library's lines about invalid certificates (tqdm's progress bars also write to stderr)."""
    return [line for line in capsys.readouterr().err.splitlines() if "TLS certificate is invalid" in line]


def download(name: str, cache: Path, context: ssl.SSLContext) -> Path:
    return datasets.download_dataset(name, cache=cache, context=context)


# ---------------------------------------------------------------- pinned bytes: authenticated by their digest

@pytest.mark.parametrize("certificate, problem", [("expired", "certificate has expired"),
                                                  ("elsewhere", "Hostname mismatch")])
def test_an_invalid_certificate_is_named_in_one_line_and_the_pinned_bytes_come_anyway(
        served, trusting, payload, tmp_path, monkeypatch, capsys, certificate, problem):
    server = served[certificate]
    server.files["/ml-100k.zip"] = payload
    pinned_to(monkeypatch, payload, server.url("/ml-100k.zip"))
    folder = download("ml-100k", tmp_path / "cache", trusting)
    assert len(datasets.load("ml-100k", folder).ratings) > 0
    notices = tls_notices(capsys)
    assert len(notices) == 1 and problem in notices[0] and server.url("/ml-100k.zip") in notices[0], notices
    assert "pinned SHA-256 of ml-100k authenticates the bytes" in notices[0]
    assert leftovers(tmp_path / "cache") == ["ml-100k"]


def test_a_mirror_serves_the_zip_after_grouplens_fails(served, trusting, payload, tmp_path, monkeypatch, capsys):
    server = served["valid"]
    server.files.update({"/grouplens/ml-100k.zip": 503, "/mirror/ml-100k.zip": payload})
    pinned_to(monkeypatch, payload, server.url("/grouplens/ml-100k.zip"), server.url("/mirror/ml-100k.zip"))
    download("ml-100k", tmp_path / "cache", trusting)
    assert server.requests == ["/grouplens/ml-100k.zip", "/mirror/ml-100k.zip"]
    assert leftovers(tmp_path / "cache") == ["ml-100k"] and tls_notices(capsys) == []


def test_altered_bytes_are_refused_from_grouplens_without_verification_and_from_a_mirror(
        served, trusting, payload, tmp_path, monkeypatch, capsys):
    altered = zip_of_other_data(payload)
    grouplens, mirror = served["expired"].url("/ml-100k.zip"), served["valid"].url("/ml-100k.zip")
    served["expired"].files["/ml-100k.zip"] = served["valid"].files["/ml-100k.zip"] = altered
    pinned_to(monkeypatch, payload, grouplens, mirror)
    with pytest.raises(DataError) as err:
        download("ml-100k", tmp_path / "cache", trusting)
    message = str(err.value)
    for words in (f"(1) {grouplens}: the downloaded file is truncated, corrupt or altered",
                  f"(2) {mirror}: the downloaded file is truncated, corrupt or altered",
                  f"instead of {hashlib.sha256(payload).hexdigest()}", "To work offline"):
        assert words in message, message
    assert "\n" not in message
    assert len(tls_notices(capsys)) == 1  # GroupLens's bytes were fetched, then refused
    assert leftovers(tmp_path / "cache") == []


def test_a_connection_cut_midway_everywhere_leaves_nothing_in_the_cache(
        served, trusting, payload, tmp_path, monkeypatch):
    server = served["valid"]
    server.files.update({"/grouplens/ml-100k.zip": payload, "/mirror/ml-100k.zip": payload})
    server.cut = True
    pinned_to(monkeypatch, payload, server.url("/grouplens/ml-100k.zip"), server.url("/mirror/ml-100k.zip"))
    with pytest.raises(DataError, match="every source failed: .*broke off during the download"):
        download("ml-100k", tmp_path / "cache", trusting)
    assert len(server.requests) == 2 and leftovers(tmp_path / "cache") == []
    server.cut = False  # and a later complete download works
    assert download("ml-100k", tmp_path / "cache", trusting) == tmp_path / "cache" / "ml-100k"


# ---------------------------------------------------------------- ml-latest-small: nothing pins its bytes

def latest_small_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ml-latest-small/ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
        zf.writestr("ml-latest-small/movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n")
    return buf.getvalue()


def serve_latest_small(server, monkeypatch) -> str:
    data = latest_small_zip()
    server.files.update({"/ml-latest-small.zip": data,
                         "/ml-latest-small.zip.md5": f"{hashlib.md5(data).hexdigest()}  ml-latest-small.zip\n"
                                                     .encode()})
    register(monkeypatch, "ml-latest-small", url=server.url("/ml-latest-small.zip"))
    return server.url("/ml-latest-small.zip")


def test_latest_small_comes_over_verified_tls_checked_by_its_published_md5(served, trusting, tmp_path, monkeypatch):
    serve_latest_small(served["valid"], monkeypatch)
    assert download("ml-latest-small", tmp_path / "cache", trusting) == tmp_path / "cache" / "ml-latest-small"
    assert served["valid"].requests == ["/ml-latest-small.zip.md5", "/ml-latest-small.zip"]


def test_latest_small_refuses_an_expired_certificate(served, trusting, tmp_path, monkeypatch, capsys):
    url = serve_latest_small(served["expired"], monkeypatch)
    with pytest.raises(DataError) as err:
        download("ml-latest-small", tmp_path / "cache", trusting)
    message = str(err.value)
    for words in (f"could not download {url}.md5", "certificate has expired",
                  "nothing pins the bytes of ml-latest-small", "only over verified TLS", "To work offline"):
        assert words in message, message
    assert "\n" not in message
    assert served["expired"].requests == []  # no request was sent over the unverified connection
    assert tls_notices(capsys) == [] and leftovers(tmp_path / "cache") == []
