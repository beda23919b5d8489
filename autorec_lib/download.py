"""Fetching a data set's zip from GroupLens into the cache: verified, and atomic.

Everything happens in a temporary folder inside the cache; the unpacked folder is renamed into
place only once the zip's MD5 matched, it unpacked without error and it held every file the data
set needs. Any failure removes the temporary folder, so nothing half-written stays in the cache,
and raises one :class:`DataError` that names the URL, what failed, and how to work offline.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import socket
import ssl
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
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


def urllib_fetch(url: str, dest: Path) -> None:
    """Stream ``url`` into ``dest`` with a progress bar."""
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {Path(url).name}") as bar:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                bar.update(len(chunk))


def file_md5(path: Path) -> str:
    """MD5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_failure(err: BaseException) -> str:
    """What went wrong with a download, in words (DNS, no network, TLS, HTTP status, ...)."""
    if isinstance(err, urllib.error.HTTPError):
        return f"the server answered HTTP {err.code} {err.reason}"
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, socket.gaierror):
        return f"the server's name could not be resolved (DNS failure: {reason})"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (f"the server's TLS certificate could not be verified ({reason}); a proxy that "
                "intercepts HTTPS, or missing CA certificates, does this")
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
    try:
        fetch(url, dest)
    except NETWORK_ERRORS as err:
        raise DataError(f"could not download {url}: {describe_failure(err)}. {offline_fix(info)}") from err


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


def _unpack(archive: Path, dest: Path, info: DatasetInfo) -> Path:
    """Extract the zip and return the data set's folder in it, refusing a damaged or incomplete zip."""
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    except (zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise DataError(f"could not unpack {info.url}: the downloaded file is not a complete zip archive "
                        f"({err}). Try the download again. {offline_fix(info)}") from err
    folder = dest / info.name
    missing = [f for f in info.required_files if not (folder / f).is_file()]
    if missing:
        raise DataError(f"the archive from {info.url} lacks {', '.join(f'{info.name}/{f}' for f in missing)}. "
                        f"{offline_fix(info)}")
    return folder


def download_dataset(name: str = "ml-100k", *, fetcher: Fetcher | None = None,
                     cache: Path | None = None) -> Path:
    """Download, verify and unpack a data set into the cache; return its folder.

    An interrupted, truncated, corrupt or incomplete download leaves nothing in the cache.
    """
    info = dataset_info(name)
    fetch = fetcher or urllib_fetch
    cache = Path(cache) if cache is not None else cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / name
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        archive = work / f"{name}.zip"
        expected = _expected_md5(info, fetch, work)
        _fetch(fetch, info.url, archive, info)
        actual = file_md5(archive)
        if actual != expected:
            raise DataError(f"could not use {info.url}: the downloaded file is truncated or corrupt "
                            f"({archive.stat().st_size} bytes, MD5 {actual}, expected {expected}); it was "
                            f"removed. Try the download again. {offline_fix(info)}")
        unpacked = _unpack(archive, work / "unpacked", info)
        try:
            os.replace(unpacked, target)
        except OSError:
            if not target.is_dir():
                raise
            # another process renamed its own complete copy into place first
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)
