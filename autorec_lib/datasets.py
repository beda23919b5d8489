"""MovieLens data sets by name: find one, then load it as :class:`RatingData`.

A data set is found, in this order: an explicit ``path`` argument, the local data root named by
the environment variable ``AUTOREC_DATA`` (a folder holding ``ml-100k/`` and friends), the
download cache (``AUTOREC_CACHE``, default ``~/.cache/autorec``), and finally a download from
GroupLens, or a byte-identical mirror where the zip's SHA-256 is pinned (:mod:`autorec_lib.download`).
A folder that exists but lacks a file the data set needs is reported as incomplete, never replaced
by a download.

The pieces live in modules named for what they hold: :mod:`~autorec_lib.registry` (the data sets
and their file formats), :mod:`~autorec_lib.download` (fetch, authenticate, cache),
:mod:`~autorec_lib.parsing` (strict parsers) and :mod:`~autorec_lib.ratings` (the data type).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .download import (CACHE_ENV, DATA_ENV, Fetcher, cache_dir, download_dataset, file_md5,  # noqa: F401
                       offline_fix, urllib_fetch)
from .parsing import parse_items, parse_ratings, refuse_row, row_line  # noqa: F401
from .ratings import RatingData, ratings_digest  # noqa: F401
from .registry import DATASETS, DataError, DatasetInfo, dataset_info  # noqa: F401


def missing_files(folder: Path, files) -> list[str]:
    """The names in ``files`` that are not files in ``folder``."""
    return [f for f in files if not (folder / f).is_file()]


def require_files(folder: Path, files, info: DatasetInfo, where: str) -> Path:
    """``folder``, refused with what is missing and how to fix it unless it holds every one of ``files``."""
    if not folder.is_dir():
        state = "is not a folder" if folder.exists() else "does not exist"
        raise DataError(f"{folder} ({where}) {state}; pass the folder that contains "
                        f"{', '.join(files)}")
    missing = missing_files(folder, files)
    if missing:
        raise DataError(f"{folder} ({where}) does not hold {info.name}: it is incomplete, lacking "
                        f"{', '.join(missing)}. Unzip {info.url} again and copy the missing files there "
                        f"(or remove the folder{' to download it again' if where == 'the cache' else ''}); "
                        "it is not replaced by a download, so that local data is never silently swapped.")
    return folder


def locate(name: str = "ml-100k", path: str | os.PathLike | None = None, *, download: bool = True,
           fetcher: Fetcher | None = None) -> Path:
    """Return the folder holding data set ``name``, downloading it into the cache if it is nowhere."""
    info = dataset_info(name)
    if path is not None:
        return require_files(Path(path), info.required_files, info, "the path given")
    root = os.environ.get(DATA_ENV)
    if root and (Path(root) / name).exists():
        return require_files(Path(root) / name, info.required_files, info, f"${DATA_ENV}/{name}")
    cached = cache_dir() / name
    if cached.exists():
        return require_files(cached, info.required_files, info, "the cache")
    if not download:
        where = f"{DATA_ENV}={root} has no {name}/ folder" if root else f"{DATA_ENV} is not set"
        raise DataError(f"{name} is not available locally ({where}, and the cache {cached} has none). "
                        f"{offline_fix(info)}")
    return download_dataset(name, fetcher=fetcher)


def load(name: str = "ml-100k", path: str | os.PathLike | None = None, *, download: bool = True,
         fetcher: Fetcher | None = None) -> RatingData:
    """Load a MovieLens data set by name as :class:`RatingData`."""
    info = dataset_info(name)
    folder = locate(name, path, download=download, fetcher=fetcher)
    ratings_path = folder / info.ratings_file
    raw = parse_ratings(ratings_path, info.ratings)
    titles = parse_items(folder / info.items_file, info.items)
    unlisted = ~np.isin(raw["item_id"].to_numpy(), titles.index.to_numpy())
    refuse_row(ratings_path, info.ratings, unlisted, lambda row: (
        f"user {raw['user_id'].iloc[row]} rates movie {raw['item_id'].iloc[row]}, which "
        f"{folder / info.items_file} does not list ({int(unlisted.sum())} such ratings); the two files do "
        f"not belong together. Unzip {info.url} again"))
    return RatingData.from_raw(name, raw, titles, info.scale, folder)
