"""MovieLens data sets: where they live, how they are fetched, and how they are parsed.

A data set is found, in this order: an explicit ``path`` argument, the local data root named by
the environment variable ``AUTOREC_DATA`` (a folder holding ``ml-100k/`` and friends), the
download cache (``AUTOREC_CACHE``, default ``~/.cache/autorec``), and finally a download from
GroupLens that is checksum-verified and renamed into the cache only once it is complete.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

DATA_ENV = "AUTOREC_DATA"
CACHE_ENV = "AUTOREC_CACHE"
GROUPLENS = "https://files.grouplens.org/datasets/movielens"


class DataError(Exception):
    """A data set is missing, could not be fetched, or is malformed."""


@dataclass(frozen=True)
class DatasetInfo:
    """Where a MovieLens data set comes from and how its files are laid out."""

    name: str
    url: str
    md5: str | None  # MD5 of the zip as GroupLens publishes it; None: read it from md5_url
    ratings_file: str
    items_file: str
    sep: str
    header: bool
    scale: tuple[float, float]
    encoding: str = "latin-1"

    @property
    def md5_url(self) -> str:
        return self.url + ".md5"


DATASETS: dict[str, DatasetInfo] = {
    "ml-100k": DatasetInfo("ml-100k", f"{GROUPLENS}/ml-100k.zip", "0e33842e24a9c977be4e0107933c0723",
                           "u.data", "u.item", "\t", False, (1.0, 5.0)),
    "ml-1m": DatasetInfo("ml-1m", f"{GROUPLENS}/ml-1m.zip", "c4d9eecfca2ab87c1945afe126590906",
                         "ratings.dat", "movies.dat", "::", False, (1.0, 5.0)),
    # GroupLens regenerates "latest" snapshots, so its checksum is read from the published .md5 file.
    "ml-latest-small": DatasetInfo("ml-latest-small", f"{GROUPLENS}/ml-latest-small.zip", None,
                                   "ratings.csv", "movies.csv", ",", True, (0.5, 5.0), "utf-8"),
}


def dataset_info(name: str) -> DatasetInfo:
    """Look up a data set by name, with an error listing the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}") from None


# --------------------------------------------------------------------------------------------
# Locating and downloading
# --------------------------------------------------------------------------------------------

Fetcher = Callable[[str, Path], None]


def cache_dir() -> Path:
    """The download cache: ``$AUTOREC_CACHE`` or ``~/.cache/autorec``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "autorec")


def _complete(folder: Path, info: DatasetInfo) -> bool:
    return (folder / info.ratings_file).is_file() and (folder / info.items_file).is_file()


def locate(name: str = "ml-100k", path: str | os.PathLike | None = None, *, download: bool = True,
           fetcher: Fetcher | None = None) -> Path:
    """Return the folder holding data set ``name``, downloading it into the cache if needed."""
    info = dataset_info(name)
    if path is not None:
        folder = Path(path)
        if not _complete(folder, info):
            raise DataError(f"{folder} does not hold {name}: expected {info.ratings_file} and "
                            f"{info.items_file} there. Pass the folder that contains them.")
        return folder
    root = os.environ.get(DATA_ENV)
    if root and _complete(Path(root) / name, info):
        return Path(root) / name
    cached = cache_dir() / name
    if _complete(cached, info):
        return cached
    if not download:
        raise DataError(_missing_message(info, root))
    return download_dataset(name, fetcher=fetcher)


def _missing_message(info: DatasetInfo, root: str | None) -> str:
    where = f"{DATA_ENV}={root} has no {info.name}/ folder" if root else f"{DATA_ENV} is not set"
    return (f"{info.name} is not available locally ({where}, and {cache_dir() / info.name} is empty). "
            f"Download {info.url}, unzip it, and set {DATA_ENV} to the folder that contains "
            f"{info.name}/ (or pass path=...).")


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


def _expected_md5(info: DatasetInfo, fetch: Fetcher, workdir: Path) -> str:
    if info.md5:
        return info.md5
    md5_file = workdir / "checksum.md5"
    fetch(info.md5_url, md5_file)
    text = md5_file.read_text().strip()  # "MD5 (ml-latest-small.zip) = <hex>" or "<hex>  name"
    words = [w for w in text.replace("=", " ").split() if len(w) == 32]
    if not words:
        raise DataError(f"could not read a checksum from {info.md5_url}: {text[:80]!r}")
    return words[0].lower()


def download_dataset(name: str = "ml-100k", *, fetcher: Fetcher | None = None,
                     cache: Path | None = None) -> Path:
    """Download, verify and unpack a data set into the cache; return its folder.

    Everything happens in a temporary folder inside the cache, and the unpacked folder is renamed
    into place only when complete, so an interrupted or corrupt download never leaves a folder that
    a later call would load.
    """
    info = dataset_info(name)
    fetch = fetcher or urllib_fetch
    cache = Path(cache) if cache is not None else cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / name
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        archive = work / f"{name}.zip"
        try:
            expected = _expected_md5(info, fetch, work)
            fetch(info.url, archive)
        except (urllib.error.URLError, OSError) as err:
            raise DataError(f"could not download {info.url} ({err}). If this machine is offline, "
                            f"download the zip elsewhere, unzip it, and set {DATA_ENV} to the folder "
                            f"that contains {name}/.") from err
        actual = file_md5(archive)
        if actual != expected:
            raise DataError(f"checksum mismatch for {info.url}: got MD5 {actual}, expected {expected}. "
                            "The partial download was removed; try again, or fetch the file by hand.")
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(work / "unpacked")
        except zipfile.BadZipFile as err:
            raise DataError(f"{info.url} is not a valid zip archive ({err}); it was removed. "
                            "Try the download again.") from err
        unpacked = work / "unpacked" / name
        if not _complete(unpacked, info):
            raise DataError(f"the archive from {info.url} has no {name}/{info.ratings_file}; "
                            "it was removed.")
        if _complete(target, info):  # another process finished first
            return target
        if target.exists():
            shutil.rmtree(target)
        os.replace(unpacked, target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

@dataclass
class RatingData:
    """Ratings with contiguous 0-based ``user``/``item`` indices and the maps back to MovieLens ids."""

    name: str
    ratings: pd.DataFrame  # columns: user, item, rating, timestamp
    user_ids: np.ndarray  # user index -> original id
    item_ids: np.ndarray  # item index -> original id
    titles: np.ndarray  # item index -> title
    scale: tuple[float, float]
    path: Path

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def index_ratings(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Map a frame with original ``user_id``/``item_id`` columns onto this data's indices."""
        users = np.searchsorted(self.user_ids, frame["user_id"].to_numpy())
        items = np.searchsorted(self.item_ids, frame["item_id"].to_numpy())
        users = np.minimum(users, self.n_users - 1)
        items = np.minimum(items, self.n_items - 1)
        unknown = (self.user_ids[users] != frame["user_id"].to_numpy()) | (
            self.item_ids[items] != frame["item_id"].to_numpy())
        if unknown.any():
            row = frame.iloc[int(np.argmax(unknown))]
            raise DataError(f"rating of user {row['user_id']} for item {row['item_id']} refers to an id "
                            f"that {self.name} does not contain")
        return pd.DataFrame({"user": users.astype(np.int64), "item": items.astype(np.int64),
                             "rating": frame["rating"].to_numpy(np.float32),
                             "timestamp": frame["timestamp"].to_numpy(np.int64)})


RAW_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]


def _first_problem(lines: list[str], sep: str, scale: tuple[float, float], first_line: int
                   ) -> tuple[int, str] | None:
    """Find the first malformed line (slow path, only run once the fast parser has failed)."""
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        fields = line.rstrip("\r\n").split(sep)
        if len(fields) != 4:
            return number, f"expected 4 fields separated by {sep!r}, found {len(fields)}"
        for label, field, kind in zip(RAW_COLUMNS, fields, (int, int, float, int)):
            try:
                value = kind(field)
            except ValueError:
                return number, f"{label} {field!r} is not a number"
            if label == "rating" and not scale[0] <= value <= scale[1]:
                return number, f"rating {value:g} is outside the scale {scale[0]:g}..{scale[1]:g}"
    return None


def parse_ratings(path: str | os.PathLike, sep: str = "\t", header: bool = False,
                  scale: tuple[float, float] = (1.0, 5.0), encoding: str = "latin-1") -> pd.DataFrame:
    """Parse a ratings file (``u.data``, ``ratings.csv`` or ``ratings.dat``) into raw columns.

    A malformed file raises :class:`DataError` naming the file, the line, and what is wrong.
    """
    path = Path(path)
    text = path.read_text(encoding=encoding)
    lines = text.splitlines()
    first_line = 2 if header else 1
    body = lines[1:] if header else lines
    if not any(line.strip() for line in body):
        raise DataError(f"{path} holds no ratings (the file is empty)")
    # The C parser handles single-character separators; '::' becomes a tab first.
    parse_text = text.replace(sep, "\t") if len(sep) > 1 else text
    try:
        frame = pd.read_csv(io.StringIO(parse_text), sep="\t" if len(sep) > 1 else sep,
                            header=0 if header else None, names=RAW_COLUMNS, engine="c",
                            dtype={"user_id": np.int64, "item_id": np.int64, "rating": np.float64,
                                   "timestamp": np.int64}, skip_blank_lines=True)
        ok = bool(frame["rating"].between(*scale).all())
    except (ValueError, pd.errors.ParserError):
        ok = False
    if not ok:
        problem = _first_problem(body, sep, scale, first_line)
        if problem is None:  # pragma: no cover - the fast parser and the checker disagree
            raise DataError(f"{path} could not be parsed as a ratings file")
        line, message = problem
        raise DataError(f"{path}, line {line}: {message}")
    return frame


def parse_titles(path: Path, info: DatasetInfo) -> pd.Series:
    """Movie titles indexed by original item id."""
    if info.items_file == "u.item":
        frame = pd.read_csv(path, sep="|", header=None, usecols=[0, 1], encoding=info.encoding)
    elif info.items_file == "movies.dat":
        raw = path.read_text(encoding=info.encoding).replace("::", "\t")
        frame = pd.read_csv(io.StringIO(raw), sep="\t", header=None, usecols=[0, 1], quoting=3)
    else:
        frame = pd.read_csv(path, usecols=[0, 1], encoding=info.encoding)
    frame.columns = ["item_id", "title"]
    return frame.set_index("item_id")["title"]


def load(name: str = "ml-100k", path: str | os.PathLike | None = None, *, download: bool = True,
         fetcher: Fetcher | None = None) -> RatingData:
    """Load a MovieLens data set by name as :class:`RatingData`."""
    info = dataset_info(name)
    folder = locate(name, path, download=download, fetcher=fetcher)
    raw = parse_ratings(folder / info.ratings_file, info.sep, info.header, info.scale, info.encoding)
    titles = parse_titles(folder / info.items_file, info)
    user_ids = np.unique(raw["user_id"].to_numpy())
    item_ids = np.unique(raw["item_id"].to_numpy())
    title_array = titles.reindex(item_ids).fillna("").astype(str).to_numpy()
    data = RatingData(name, pd.DataFrame(), user_ids, item_ids, title_array, info.scale, folder)
    data.ratings = data.index_ratings(raw)
    return data
