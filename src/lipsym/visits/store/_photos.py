"""SQL of the ``photos`` table, file hashing and photo verification.

A photo is identified by the SHA-256 of its bytes, not by its path: files
get renamed and moved between folders, and the hash both recognises them
and tells when the pixels an analysis was made on have changed. The store
never keeps pixels.

The functions here that touch files (:func:`hash_file`, :func:`probe_image`,
:func:`verify`) run outside any transaction: holding the write lock while
reading a 20 MB photo would stall every other worker.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import sqlite3
import warnings
from collections.abc import Iterable
from pathlib import Path

from lipsym.errors import ConfigurationError, ConflictError, PhotoNotFoundError, UnreadablePhotoError
from lipsym.visits.store import _changes as changes
from lipsym.visits.store import _history as history
from lipsym.visits.store import _table as table
from lipsym.visits.store._records import Photo, PhotoStatus, Visit
from lipsym.visits.store._schema import utc_now

PHOTOS = table.Table("photos", Photo, "photo", soft_delete=True)
_CHUNK_BYTES = 1 << 20


def absolute_path(path: str | os.PathLike[str]) -> str:
    """Return ``path`` absolute and normalised, symlinks NOT resolved.

    The path is recorded as the user knows it; resolving symlinks would
    record e.g. a mount point they never typed.
    """
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """Return the SHA-256 (hex) and size in bytes of a file, reading it in chunks.

    Raises
    ------
    PhotoNotFoundError
        ``path`` does not exist or is not a regular file.
    UnreadablePhotoError
        It cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise PhotoNotFoundError(f"{path}: no such file")
    digest = hashlib.sha256()
    size_bytes = 0
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                digest.update(chunk)
                size_bytes += len(chunk)
    except OSError as error:
        raise UnreadablePhotoError(f"{path}: cannot read ({error.strerror or error})") from error
    return digest.hexdigest(), size_bytes


def probe_image(path: str | os.PathLike[str]) -> tuple[int | None, int | None, _dt.date | None]:
    """Return (width_px, height_px, capture_date) from the image header, if readable.

    Best effort: this is optional metadata, so any failure (Pillow absent,
    format not recognised, no EXIF) gives None rather than an error; whether
    the photo can be analysed is decided by the analysis, not here. Only the
    header is read, never the pixels. Width and height are as displayed,
    i.e. swapped when the EXIF orientation is a quarter turn.
    """
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return None, None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                width_px, height_px = image.size
                exif = image.getexif()
                if exif.get(0x0112) in (5, 6, 7, 8):
                    width_px, height_px = height_px, width_px
                # DateTimeOriginal (Exif IFD), else DateTime; "YYYY:MM:DD hh:mm:ss".
                stamp = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    except Exception:  # noqa: BLE001 - best effort, see docstring
        return None, None, None
    capture_date = None
    if isinstance(stamp, str) and len(stamp) >= 10:
        try:
            capture_date = _dt.date.fromisoformat(stamp[:10].replace(":", "-"))
        except ValueError:
            capture_date = None
    return (width_px or None), (height_px or None), capture_date


def require(conn: sqlite3.Connection, photo: Photo | int) -> Photo:
    """Return the stored photo named by a :class:`Photo` or its id."""
    return table.require(conn, PHOTOS, photo)


def find_by_hash(conn: sqlite3.Connection, sha256: str) -> list[Photo]:
    return table.select(conn, PHOTOS, "sha256 = ?", (sha256,))


def list_for_visit(conn: sqlite3.Connection, visit: Visit) -> list[Photo]:
    return table.select(conn, PHOTOS, "visit_id = ?", (visit.id,))


def get_or_insert(
    conn: sqlite3.Connection,
    visit: Visit,
    path: str,
    sha256: str,
    size_bytes: int,
    expression: str,
    capture_date: _dt.date | None,
    width_px: int | None,
    height_px: int | None,
) -> Photo:
    """Insert a photo, or return the visit's photo with the same content.

    The existing record is returned unchanged even if ``path`` differs (the
    same file added from another folder); compare ``Photo.path`` to notice,
    and use :func:`relocate` to update it. A different ``expression`` for the
    same content is a contradiction and raises :class:`ConflictError`.
    """
    existing = table.find_one(conn, PHOTOS, "visit_id = ? AND sha256 = ?", (visit.id, sha256), include_deleted=True)
    if existing is not None and table.is_deleted(conn, PHOTOS, existing.id):
        raise ConflictError(f"{path}: this photo is recorded for visit {visit.id} as photo {existing.id}, deleted;"
                            f" restore it ('lipsym photo restore {existing.id}') or purge it first")
    if existing is not None:
        if existing.expression != expression:
            raise ConflictError(
                f"{path}: this photo is already recorded for visit {visit.id} as {existing.expression!r}, not {expression!r}"
            )
        return existing
    photo_id = table.insert(conn, PHOTOS, dict(
        visit_id=visit.id, path=path, sha256=sha256, size_bytes=size_bytes, expression=expression,
        capture_date=capture_date, width_px=width_px, height_px=height_px, created_at=utc_now()))
    history.record_insert(conn, PHOTOS.name, photo_id)
    return table.get_by_id(conn, PHOTOS, photo_id)


def relocate(conn: sqlite3.Connection, photo: Photo, new_path: str) -> Photo:
    changes.update(conn, PHOTOS.name, photo.id, {"path": new_path})
    return table.get_by_id(conn, PHOTOS, photo.id)


def _search(sha256: str, size_bytes: int, search_dirs: Iterable[Path], skip: str) -> tuple[str, ...]:
    found: set[str] = set()
    for directory in search_dirs:
        for root, _dirs, files in os.walk(directory, followlinks=False):
            for name in files:
                candidate = os.path.abspath(os.path.join(root, name))
                if candidate == skip:
                    continue
                try:
                    # Hash only same-size files: a folder of photos is large.
                    if os.stat(candidate).st_size != size_bytes:
                        continue
                    digest, _ = hash_file(candidate)
                except (OSError, PhotoNotFoundError, UnreadablePhotoError):
                    continue
                if digest == sha256:
                    found.add(candidate)
    return tuple(sorted(found))


def verify(photo: Photo, search_dirs: Iterable[str | os.PathLike[str]] = ()) -> PhotoStatus:
    """Check that the recorded file is still there and unchanged.

    Parameters
    ----------
    photo : Photo
    search_dirs : iterable of path-like
        Directories searched recursively for the recorded content when the
        file at ``photo.path`` is missing or different.

    Returns
    -------
    PhotoStatus

    Raises
    ------
    ConfigurationError
        A search directory does not exist.
    UnreadablePhotoError
        The file at ``photo.path`` exists but cannot be read.
    """
    directories = [Path(absolute_path(d)) for d in search_dirs]
    for directory in directories:
        if not directory.is_dir():
            raise ConfigurationError(f"search directory {directory} does not exist")
    current_sha256 = None
    if Path(photo.path).is_file():
        current_sha256, _ = hash_file(photo.path)
        if current_sha256 == photo.sha256:
            return PhotoStatus(photo=photo, state="ok", current_sha256=current_sha256)
    candidates = _search(photo.sha256, photo.size_bytes, directories, skip=photo.path) if directories else ()
    if candidates:
        state = "moved"
    elif current_sha256 is not None:
        state = "modified"
    else:
        state = "missing"
    return PhotoStatus(photo=photo, state=state, current_sha256=current_sha256, candidates=candidates)
