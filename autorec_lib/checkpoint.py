"""Checkpoints: one ``.npz`` with the weights, the resolved configuration and the data a model needs.

The format is framework-neutral, so a PyTorch checkpoint loads into the MXNet model and back.
Writes are atomic: a temporary file beside the target is renamed over it once complete. Reading
refuses, with the file's name and the problem, anything that is not a complete checkpoint of this
format.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .files import write_atomically

META_KEY = "__meta__"
FORMAT, VERSION = "autorec_lib checkpoint", 3  # 3: the configuration names model_type (was model)


class CheckpointError(ValueError):
    """A file is not a checkpoint, is truncated or corrupted, or does not match its configuration."""


def save_checkpoint(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict,
                    overwrite: bool = True) -> Path:
    """Write ``arrays`` and the JSON-serialisable ``meta`` to ``path`` (atomically; with
    ``overwrite=False`` an existing file is never replaced: ``FileExistsError``)."""
    meta = {"format": FORMAT, "version": VERSION, **meta}
    return write_atomically(path, lambda f: np.savez(f, **{META_KEY: np.array(json.dumps(meta))}, **arrays),
                            overwrite)


def load_checkpoint(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a checkpoint written by :func:`save_checkpoint`: ``(meta, arrays)``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: the file does not exist")
    with open(path, "rb") as f:
        is_zip = f.read(4) == b"PK\x03\x04"
    if not is_zip:
        raise CheckpointError(f"{path} is not an autorec_lib checkpoint (not a .npz archive); "
                              "pass a file written by Result.save or `python -m autorec_lib train`")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if META_KEY not in archive.files:
                raise CheckpointError(f"{path} is a .npz archive but not an autorec_lib checkpoint (no {META_KEY})")
            meta = json.loads(str(archive[META_KEY]))
            arrays = {k: archive[k] for k in archive.files if k != META_KEY}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, json.JSONDecodeError) as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(f"{path} is truncated or corrupted ({err}); save the model again") from err
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(f"{path} was written by another version of autorec_lib (format "
                              f"{meta.get('format')!r} version {meta.get('version')!r}, expected {VERSION}); "
                              "retrain and save it with this version")
    return meta, arrays


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
