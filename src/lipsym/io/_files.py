"""File access for photos: stat, size guard, one read, one-line messages naming the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Union

from lipsym.errors import LipsymError, PhotoNotFoundError, PhotoTooLargeError, UnreadablePhotoError

StrPath = Union[str, "os.PathLike[str]"]


def _shown(path: Path) -> str:
    """The path as it goes into a one-line message (control characters escaped)."""
    text = str(path)
    if text.isprintable():
        return text
    return text.encode("unicode_escape", errors="backslashreplace").decode("ascii")


def _one_line(detail: object) -> str:
    """A third-party message squeezed onto one line (OpenCV's span several)."""
    return " ".join(str(detail).split())


def _io_error(exc: OSError, shown: str) -> LipsymError:
    """Our error for an OS error met while reading a photo."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return PhotoNotFoundError(f"photo not found: {shown}")
    if isinstance(exc, IsADirectoryError):
        return PhotoNotFoundError(f"{shown} is a directory, not a photo file")
    reason = exc.strerror or _one_line(exc) or type(exc).__name__
    return UnreadablePhotoError(f"cannot read photo {shown}: {_one_line(reason)}")


def _stat_regular_file(path: Path, shown: str) -> os.stat_result:
    """Stat ``path``, refusing anything but a regular file.

    Opening a FIFO or a device would block or stream forever, so they are
    refused before any ``open``.
    """
    try:
        info = path.stat()
    except ValueError as exc:  # e.g. an embedded NUL byte: no such file can exist
        raise PhotoNotFoundError(f"photo not found: {shown} ({_one_line(exc)})") from exc
    except OSError as exc:
        raise _io_error(exc, shown) from exc
    if stat.S_ISDIR(info.st_mode):
        raise PhotoNotFoundError(f"{shown} is a directory, not a photo file")
    if not stat.S_ISREG(info.st_mode):
        raise PhotoNotFoundError(f"{shown} is not a regular file")
    return info


def _max_file_bytes(max_pixels: int) -> int:
    # Uncompressed 16-bit RGBA needs 8 bytes per pixel; the margin covers
    # metadata and camera trailers such as motion-photo video.
    return 8 * max_pixels + (64 << 20)


def _check_file_size(size_bytes: int, shown: str, max_file_bytes: int) -> None:
    if size_bytes > max_file_bytes:
        raise PhotoTooLargeError(
            f"{shown} is {size_bytes / 2**20:.0f} MiB, more than any photo within the pixel limit can need"
        )


def _read_bytes(path: Path, shown: str, *, max_file_bytes: int) -> bytes:
    """The whole file, read once: headers, checks and decoders share it."""
    _check_file_size(_stat_regular_file(path, shown).st_size, shown, max_file_bytes)
    try:
        with path.open("rb") as fp:
            return fp.read()
    except OSError as exc:
        raise _io_error(exc, shown) from exc
