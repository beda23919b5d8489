"""Shared fixtures: small MovieLens-format files made on the fly, and the real data when present.

Set AUTOREC_REQUIRE_REAL_DATA=1 (CI does) to turn a missing real data set into a failure instead
of a skip; AUTOREC_REQUIRE_MXNET=1 does the same for MXNet.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autorec_lib import datasets

try:
    from hypothesis import settings
except ImportError:  # only the property tests need it (the `test` extra); they fail on their import
    settings = None
else:
    # "ci" (the default): the same examples on every run, a bounded number of them, no example database
    # written; HYPOTHESIS_PROFILE=explore searches far more widely, with fresh examples each run.
    settings.register_profile("ci", derandomize=True, database=None, max_examples=20, deadline=None)
    settings.register_profile("explore", max_examples=1000, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def write_ml100k(folder: Path, n_users: int = 30, n_items: int = 40, density: float = 0.3,
                 rank: int = 3, seed: int = 0) -> Path:
    """Write a low-rank synthetic rating set in ML-100K's format (u.data, u.item) into ``folder``."""
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n_users, rank))
    Q = rng.normal(size=(n_items, rank))
    full = P @ Q.T
    full = 3 + 1.2 * (full - full.mean()) / full.std()  # spread over the 1..5 scale
    observed = rng.random((n_users, n_items)) < density
    users, items = np.nonzero(observed)
    ratings = np.clip(np.rint(full[users, items]), 1, 5).astype(int)
    folder.mkdir(parents=True, exist_ok=True)
    # original ids deliberately not contiguous: 10, 20, ... for users, 100, 101, ... for items
    lines = [f"{10 * (u + 1)}\t{100 + i}\t{r}\t{880000000 + k}"
             for k, (u, i, r) in enumerate(zip(users, items, ratings))]
    (folder / "u.data").write_text("\n".join(lines) + "\n")
    (folder / "u.item").write_text("".join(f"{100 + i}|Movie {i} (1995)|01-Jan-1995||http://x|0\n"
                                           for i in range(n_items)), encoding="latin-1")
    return folder


@pytest.fixture
def small_ml100k(tmp_path) -> Path:
    return write_ml100k(tmp_path / "ml-100k")


@pytest.fixture
def small_data(small_ml100k):
    return datasets.load("ml-100k", small_ml100k)


def _require(flag: str) -> bool:
    return os.environ.get(flag) == "1"


@pytest.fixture(scope="session")
def ml100k():
    """The real MovieLens 100K from the local data root."""
    try:
        return datasets.load("ml-100k", download=False)
    except datasets.DataError as err:
        if _require("AUTOREC_REQUIRE_REAL_DATA"):
            pytest.fail(f"real data required but missing: {err}")
        pytest.skip(f"real MovieLens data not available: {err}")


@pytest.fixture(scope="session")
def mxnet_backend():
    try:
        from autorec_lib import mxnet_backend
    except ImportError as err:
        if _require("AUTOREC_REQUIRE_MXNET"):
            pytest.fail(f"MXNet required but missing: {err}")
        pytest.skip("MXNet is not installed")
    return mxnet_backend


def frame(rows) -> pd.DataFrame:
    """A ratings frame from (user, item, rating) triples."""
    users, items, ratings = zip(*rows)
    return pd.DataFrame({"user": np.array(users, dtype=np.int64), "item": np.array(items, dtype=np.int64),
                         "rating": np.array(ratings, dtype=np.float32), "timestamp": np.zeros(len(rows), np.int64)})
