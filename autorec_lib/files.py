"""Writing output files whole or not at all, with the permissions any other file of the user gets."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: str | os.PathLike, write: Callable[[IO[bytes]], None], overwrite: bool = True) -> Path:
    """Write ``path`` through ``write(file)`` into a temporary file beside it, then put it in place.

    Readers see the old file or the whole new one, never a part; a failure leaves no temporary file
    behind. The file gets mode ``0o666`` less the umask, as ``open()`` would give it (a temporary
    file starts at ``0o600``). With ``overwrite=False`` an existing ``path`` is never replaced,
    even by a process racing this one: ``FileExistsError`` is raised instead.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic, and fails if the name is taken
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: claim the name first, then fill it
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
                os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
