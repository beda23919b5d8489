"""Sparse interaction matrices in both orientations, with dense mini-batches built on demand."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp

VARIANTS = ("item", "user")
DENSE_CACHE_LIMIT = 1 << 26  # learners keep the whole dense matrix on the device below this many entries


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose 'item' (I-AutoRec) or 'user' (U-AutoRec)")
    return variant


class RatingMatrix:
    """Observed ratings as a SciPy CSR matrix.

    ``variant='item'`` puts one row per item (its ratings by all users: I-AutoRec's input);
    ``variant='user'`` one row per user (U-AutoRec's input). The observed mask comes from the
    stored entries, never from the values, so it is exact whatever the rating scale.
    """

    def __init__(self, ratings: pd.DataFrame, n_users: int, n_items: int, variant: str = "item"):
        self.variant = check_variant(variant)
        users = ratings["user"].to_numpy()
        items = ratings["item"].to_numpy()
        rows, cols = self.orient(users, items)
        shape = (n_items, n_users) if variant == "item" else (n_users, n_items)
        self.csr = sp.csr_matrix((ratings["rating"].to_numpy(np.float32), (rows, cols)), shape=shape)
        self.csr.sort_indices()

    @property
    def shape(self) -> tuple[int, int]:
        return self.csr.shape

    @property
    def nnz(self) -> int:
        return self.csr.nnz

    def orient(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) indices of (user, item) pairs in this orientation."""
        return (items, users) if self.variant == "item" else (users, items)

    def dense(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dense float32 ``(values, mask)`` for the given rows."""
        block = self.csr[rows]
        mask = block.copy()
        mask.data = np.ones_like(mask.data)
        return block.toarray(), mask.toarray()

    def sparse(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The given rows in CSR form, ``(offsets, columns, values)``: row ``b``'s ratings are
        ``values[offsets[b]:offsets[b + 1]]`` at ``columns[...]`` (sorted). Memory scales with the
        ratings, not with rows × columns."""
        block = self.csr[rows]
        return block.indptr.astype(np.int64), block.indices.astype(np.int64), block.data

    def batches(self, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[np.ndarray]:
        """Row indices in batches, shuffled when ``rng`` is given."""
        n = self.shape[0]
        order = rng.permutation(n) if rng is not None else np.arange(n)
        for start in range(0, n, batch_size):
            yield np.sort(order[start:start + batch_size])

    def dense_if_small(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The whole matrix as dense ``(values, mask)`` when it has at most ``DENSE_CACHE_LIMIT``
        entries (learners then keep it on the device and index batches from it), else ``None``."""
        if self.shape[0] * self.shape[1] > DENSE_CACHE_LIMIT:
            return None
        return self.dense(np.arange(self.shape[0]))

    def row_counts(self) -> np.ndarray:
        """Observed entries per row."""
        return np.diff(self.csr.indptr)


def pair_positions(matrix: RatingMatrix, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) positions of (user, item) index pairs in ``matrix``; an index outside the
    matrix is an ``IndexError`` that names it (an autoencoder knows only its training matrix)."""
    users, items = np.asarray(users), np.asarray(items)
    n_items, n_users = matrix.shape if matrix.variant == "item" else matrix.shape[::-1]
    for what, index, n in (("user", users, n_users), ("item", items, n_items)):
        if len(index) and (index.min() < 0 or index.max() >= n):
            bad = int(index[(index < 0) | (index >= n)][0])
            raise IndexError(f"{what} index {bad} is outside the {n} {what}s this model was trained on "
                             f"(0..{n - 1}): an autoencoder predicts only for {what}s in its training matrix")
    return matrix.orient(users, items)


def gather_predictions(reconstruct, matrix: RatingMatrix, users: np.ndarray, items: np.ndarray,
                       batch_size: int = 1024) -> np.ndarray:
    """Predict (user, item) pairs with an autoencoder that reconstructs whole rows.

    ``reconstruct(rows) -> (len(rows), n_cols)`` array. Only rows that hold a requested pair are
    reconstructed, ``batch_size`` rows at a time, so memory stays bounded on large matrices.
    """
    rows, cols = pair_positions(matrix, users, items)
    out = np.empty(len(rows), dtype=np.float32)
    if len(rows) == 0:
        return out
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    unique_rows = np.unique(sorted_rows)
    for start in range(0, len(unique_rows), batch_size):
        chunk = unique_rows[start:start + batch_size]
        lo = np.searchsorted(sorted_rows, chunk[0], "left")
        hi = np.searchsorted(sorted_rows, chunk[-1], "right")
        sel = order[lo:hi]
        recon = reconstruct(chunk)
        out[sel] = recon[np.searchsorted(chunk, rows[sel]), cols[sel]]
    return out
