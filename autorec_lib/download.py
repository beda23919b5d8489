"""Fetching a data set's zip into the cache: authenticated, and atomic.

A data set with fixed published bytes (ML-100K, ML-1M) has its zip's SHA-256 pinned in the
registry, and that digest, not a server's TLS certificate, authenticates the download: the zip is
tried from GroupLens, then from each byte-identical mirror, and where a certificate is invalid
(expired, self-signed, another host's) the library says so in one line and fetches the bytes without
certificate verification. Bytes whose digest differs are never used, from any source. A data set
without fixed bytes (``ml-latest-small``: GroupLens regenerates it) is checked against the MD5 that
GroupLens publishes beside it, and, nothing pinning its bytes, comes only over verified TLS.

Everything happens in a temporary folder inside the cache; the unpacked folder is renamed into
place only once the zip's digests matched, it unpacked without error and it held every file the data
set needs. Any failure removes the temporary folder, so nothing half-written stays in the cache,
and raises one :class:`DataError` that names every URL tried, what failed at each, and how to work
offline.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import socket
import ssl
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from functools import partial
from pathlib import Path
from typing import Callable

from .registry import DataError, DatasetInfo, dataset_info

DATA_ENV = "AUTOREC_DATA"
CACHE_ENV = "AUTOREC_CACHE"

Fetcher = Callable[[str, Path], None]
NETWORK_ERRORS = (urllib.error.URLError, OSError, http.client.HTTPException)


def cache_dir() -> Path:
    """The download cache: ``$AUTOREC_CACHE`` or ``~/.cache/autorec``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "autorec")


def offline_fix(info: DatasetInfo) -> str:
    """What to do without a working download: the same sentence in every message."""
    return (f"To work offline, download {info.url} on a machine that can, unzip it, and set {DATA_ENV} "
            f"to the folder that contains {info.name}/ (or pass path=...).")


def urllib_fetch(url: str, dest: Path, context: ssl.SSLContext | None = None) -> None:
    """Stream ``url`` into ``dest`` with a progress bar, refusing a body shorter than announced;
    ``context`` checks the server's TLS certificate (None: against the system's CA certificates)."""
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=60, context=context) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {Path(url).name}") as bar:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))
    if total is not None and bar.n != total:  # http.client ends a short body quietly
        raise ConnectionAbortedError(f"{bar.n} of {total} bytes arrived")


def unverified_context() -> ssl.SSLContext:
    """A TLS context that accepts any certificate: only for bytes that a pinned SHA-256 authenticates."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """A file's digest (any :mod:`hashlib` algorithm), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    """MD5 of a file, read in chunks."""
    return file_digest(path, "md5")


def certificate_problem(err: BaseException) -> str | None:
    """What is wrong with the server's TLS certificate (e.g. "certificate has expired"), if that is why
    a download failed; None if it failed for another reason."""
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, ssl.SSLCertVerificationError):
        return getattr(reason, "verify_message", None) or str(reason)
    return None


def describe_failure(err: BaseException) -> str:
    """What went wrong with a download, in words (DNS, no network, TLS, HTTP status, ...)."""
    if isinstance(err, urllib.error.HTTPError):
        return f"the server answered HTTP {err.code} {err.reason}"
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, socket.gaierror):
        return f"the server's name could not be resolved (DNS failure: {reason})"
    if problem := certificate_problem(err):
        return (f"the server's TLS certificate could not be verified ({problem}): it is expired, "
                "self-signed or another host's, or a proxy intercepts HTTPS, or CA certificates are missing")
    if isinstance(reason, ssl.SSLError):
        return f"the TLS connection failed ({reason})"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "the connection timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused (no network connection, or a firewall in the way)"
    if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, http.client.IncompleteRead)):
        return f"the connection broke off during the download ({reason})"
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"the network is unreachable: no network connection ({reason})"
    return f"{type(reason).__name__}: {reason}"


def _fetch(fetch: Fetcher, url: str, dest: Path, info: DatasetInfo) -> None:
    """Fetch a file of a data set without pinned bytes: a certificate that fails is final."""
    try:
        fetch(url, dest)
    except NETWORK_ERRORS as err:
        unpinned = (f"; nothing pins the bytes of {info.name} (GroupLens regenerates it), so they come "
                    "only over verified TLS" if certificate_problem(err) else "")
        raise DataError(f"could not download {url}: {describe_failure(err)}{unpinned}. "
                        f"{offline_fix(info)}") from err


def _digest_mismatch(archive: Path, info: DatasetInfo, md5: str | None) -> str | None:
    """None if the file has the pinned SHA-256 and the expected MD5, else what differs (and it is removed)."""
    wrong = [f"{label} {actual} instead of {expected}"
             for label, algorithm, expected in (("SHA-256", "sha256", info.sha256), ("MD5", "md5", md5))
             if expected and (actual := file_digest(archive, algorithm)) != expected]
    if not wrong:
        return None
    size = archive.stat().st_size
    archive.unlink()
    return (f"the downloaded file is truncated, corrupt or altered ({size} bytes, {', '.join(wrong)}) "
            "and was discarded")


def _try_source(url: str, archive: Path, info: DatasetInfo, fetch: Fetcher,
                unverified: Fetcher | None) -> str | None:
    """Fetch ``url`` into ``archive``: None if its bytes are the pinned ones, else what went wrong."""
    try:
        fetch(url, archive)
    except NETWORK_ERRORS as err:
        problem = certificate_problem(err)
        if not (problem and unverified):
            return describe_failure(err)
        print(f"{url}: the TLS certificate is invalid ({problem}); fetching it without certificate "
              f"verification, since the pinned SHA-256 of {info.name} authenticates the bytes",
              file=sys.stderr)
        try:
            unverified(url, archive)
        except NETWORK_ERRORS as again:
            return f"the TLS certificate is invalid ({problem}), and then {describe_failure(again)}"
    return _digest_mismatch(archive, info, info.md5)


def _fetch_pinned(info: DatasetInfo, archive: Path, fetch: Fetcher, unverified: Fetcher | None) -> str:
    """Fetch the zip from GroupLens or a mirror, whichever first gives the pinned bytes; return its URL."""
    failures = []
    for n, url in enumerate((info.url, *info.mirrors), 1):
        failure = _try_source(url, archive, info, fetch, unverified)
        if failure is None:
            return url
        failures.append(f"({n}) {url}: {failure}")
    raise DataError(f"could not download {info.name}; every source failed: {'; '.join(failures)}. "
                    f"Try the download again. {offline_fix(info)}")


def _fetch_unpinned(info: DatasetInfo, archive: Path, fetch: Fetcher, workdir: Path) -> str:
    """Fetch the zip from GroupLens over verified TLS, checked against its published MD5; return its URL."""
    expected = _expected_md5(info, fetch, workdir)
    _fetch(fetch, info.url, archive, info)
    mismatch = _digest_mismatch(archive, info, expected)
    if mismatch:
        raise DataError(f"could not use {info.url}: {mismatch}. Try the download again. {offline_fix(info)}")
    return info.url


def _expected_md5(info: DatasetInfo, fetch: Fetcher, workdir: Path) -> str:
    if info.md5:
        return info.md5
    md5_file = workdir / "checksum.md5"
    _fetch(fetch, info.md5_url, md5_file, info)
    text = md5_file.read_text(errors="replace").strip()  # "MD5 (x.zip) = <hex>" or "<hex>  x.zip"
    words = [w for w in text.replace("=", " ").split() if len(w) == 32]
    if not words:
        raise DataError(f"could not read a checksum from {info.md5_url}: {text[:80]!r}. {offline_fix(info)}")
    return words[0].lower()


def _unpack(archive: Path, dest: Path, info: DatasetInfo, source: str) -> Path:
    """Extract the zip and return the data set's folder in it, refusing a damaged or incomplete zip."""
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    except (zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise DataError(f"could not unpack {source}: the downloaded file is not a complete zip archive "
                        f"({err}). Try the download again. {offline_fix(info)}") from err
    folder = dest / info.name
    missing = [f for f in info.required_files if not (folder / f).is_file()]
    if missing:
        raise DataError(f"the archive from {source} lacks {', '.join(f'{info.name}/{f}' for f in missing)}. "
                        f"{offline_fix(info)}")
    return folder


def download_dataset(name: str = "ml-100k", *, fetcher: Fetcher | None = None,
                     cache: Path | None = None, context: ssl.SSLContext | None = None) -> Path:
    """Download, authenticate and unpack a data set into the cache; return its folder.

    ``context`` checks servers' certificates for the built-in fetcher (None: the system's CA
    certificates); a ``fetcher`` of one's own (``fetcher(url, dest)``) is used as it is, with no
    retry without verification. An interrupted, truncated, corrupt, altered or incomplete download
    leaves nothing in the cache.
    """
    info = dataset_info(name)
    fetch = fetcher or partial(urllib_fetch, context=context)
    unverified = None if fetcher else partial(urllib_fetch, context=unverified_context())
    cache = Path(cache) if cache is not None else cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / name
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        archive = work / f"{name}.zip"
        source = (_fetch_pinned(info, archive, fetch, unverified) if info.sha256
                  else _fetch_unpinned(info, archive, fetch, work))
        unpacked = _unpack(archive, work / "unpacked", info, source)
        try:
            os.replace(unpacked, target)
        except OSError:
            if not target.is_dir():
                raise
            # another process renamed its own complete copy into place first
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)
