"""Writing output files: atomically, privately, and never over an existing file unasked.

Outputs hold patient data (full-face photos, measures, patient codes), so
they are private by default: files 0600 and the folders lipsym creates 0700,
like the visit store. Sharing is a deliberate choice: ``--share`` on the
commands that take it, or ``LIPSYM_SHARE_OUTPUTS=1`` in the environment
(docs/cli.md), makes them follow the umask instead (typically 0644/0755).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
from pathlib import Path

from lipsym.errors import ConflictError, OutputError

#: Environment variable that makes outputs follow the umask (``1``, ``yes`` or ``true``).
SHARE_ENV = "LIPSYM_SHARE_OUTPUTS"
#: Bytes of a file name the temporary file's name keeps (``.<name>.<random>.tmp`` must fit in 255).
_TMP_NAME_BYTES = 200

_share: contextvars.ContextVar[bool | None] = contextvars.ContextVar("lipsym_share_outputs", default=None)


def outputs_shared() -> bool:
    """Whether outputs follow the umask (:func:`sharing_outputs`, else ``LIPSYM_SHARE_OUTPUTS``)."""
    chosen = _share.get()
    if chosen is not None:
        return chosen
    return os.environ.get(SHARE_ENV, "").strip().lower() in ("1", "yes", "true")


@contextlib.contextmanager
def sharing_outputs(share: bool = True):
    """Within the block, outputs written in this thread follow the umask (``share``) or stay private."""
    token = _share.set(share)
    try:
        yield
    finally:
        _share.reset(token)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def output_file_mode(share: bool | None = None) -> int:
    """Permission bits of a new output file: 0600, or what the umask gives when shared."""
    return (0o666 & ~_umask()) if (outputs_shared() if share is None else share) else 0o600


def make_output_dir(path: str | os.PathLike, *, share: bool | None = None) -> Path:
    """Create a folder and its missing parents, 0700 (or following the umask when shared).

    ``Path.mkdir(mode=..., parents=True)`` gives the parents the default mode;
    every folder created here gets the private one. Existing folders are
    left as they are.

    Raises
    ------
    OutputError
        A folder cannot be created (no permission, a file in the way).
    """
    path = Path(path)
    mode = 0o777 if (outputs_shared() if share is None else share) else 0o700
    missing = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    try:
        for folder in reversed(missing):
            try:
                os.mkdir(folder, mode)  # the umask still applies: 0700 stays 0700, 0777 becomes 0755
            except FileExistsError:
                if not folder.is_dir():
                    raise NotADirectoryError(20, "Not a directory", str(folder)) from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the folder ({exc.strerror or exc})") from None
    return path


def _tmp_prefix(name: str) -> str:
    raw = name.encode("utf-8")[:_TMP_NAME_BYTES]
    return "." + raw.decode("utf-8", errors="ignore") + "."


def write_atomic(path: str | os.PathLike, data: bytes | str, *, overwrite: bool = False,
                 durable: bool = True, share: bool | None = None) -> Path:
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
    share : bool, optional
        Follow the umask instead of 0600 (missing folders: 0700); default
        :func:`outputs_shared`.

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
    make_output_dir(path.parent, share=share)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(path.name), suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        os.fchmod(fd, output_file_mode(share))  # mkstemp makes 0600 files; shared ones follow the umask
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
