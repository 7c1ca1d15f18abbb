"""Writing output files: atomically, and never over an existing file unasked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lipsym.errors import ConflictError, OutputError


def write_atomic(path: str | os.PathLike, data: bytes | str, *, overwrite: bool = False,
                 durable: bool = True) -> Path:
    """Write a file so that readers see the old content or the new, never half.

    Parameters
    ----------
    path : path-like
    data : bytes or str (UTF-8)
    overwrite : bool
        Replace an existing file; otherwise an existing file is an error.
    durable : bool
        Flush the data to the disk before the rename (fsync), so that the file
        survives a power failure too. A killed process never leaves a partial
        file either way; False suits files that are checked when read and
        recomputed if lost, such as a batch's per-photo results.

    Raises
    ------
    ConflictError
        The file exists and ``overwrite`` is False.
    OutputError
        The file cannot be written (no permission, parent is a file, disk full).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ConflictError(f"{path} exists; not overwriting it (use --force to replace it)")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        # mkstemp creates 0600 files; outputs get the permissions the user's umask gives.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise
    return path
