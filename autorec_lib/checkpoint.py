"""Checkpoints: weights as NumPy arrays plus the configuration that built them, in one ``.npz``.

The format is framework-neutral, so a PyTorch checkpoint loads into the MXNet model and back.
Writes are atomic: a temporary file beside the target is renamed over it once complete.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

META_KEY = "__meta__"


def save_checkpoint(path: str | os.PathLike, weights: dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``weights`` and the JSON-serialisable ``meta`` (kind, configs) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{META_KEY: np.array(json.dumps(meta))}, **weights)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a checkpoint written by :func:`save_checkpoint`: ``(meta, weights)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with np.load(path, allow_pickle=False) as archive:
        if META_KEY not in archive:
            raise ValueError(f"{path} is not an autorec_lib checkpoint (no {META_KEY} entry)")
        meta = json.loads(str(archive[META_KEY]))
        weights = {k: archive[k] for k in archive.files if k != META_KEY}
    return meta, weights


def checked_weights(shapes: dict[str, tuple], weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``weights`` as float32 arrays, after checking every expected name is there with its shape."""
    missing = set(shapes) - set(weights)
    if missing:
        raise KeyError(f"weights lack {sorted(missing)}")
    out = {}
    for name, shape in shapes.items():
        value = np.asarray(weights[name], dtype=np.float32)
        if value.shape != tuple(shape):
            raise ValueError(f"weight {name} has shape {value.shape}, the model expects {tuple(shape)}")
        out[name] = value
    return out
