"""What the app runs on: the database, where uploaded photos are kept, host, port and limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Default TCP port of ``lipsym serve``.
DEFAULT_PORT = 8765
#: Largest accepted upload, in bytes. A 24 MP JPEG straight from a camera is 8-15 MB,
#: a HEIC about 3-5 MB; 64 MiB leaves room for a PNG/TIFF of that size.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
#: Host names the app answers to besides its own bind address (DNS-rebinding check).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")


@dataclass(frozen=True)
class AppConfig:
    """Settings of one app instance.

    Attributes
    ----------
    db_path : Path
        The visit record (SQLite), as ``lipsym --db`` resolves it.
    photo_dir : Path
        Uploaded photos are kept here (private, 0700), named by their SHA-256:
        the visit record refers to photos by path, never holds their pixels.
    host : str
        Bind address; 127.0.0.1 unless the user asks otherwise.
    port : int
    max_upload_bytes : int
        Larger uploads are refused with 413 before they are stored.
    extra_hosts : tuple of str
        Further Host header names accepted (the in-process test client's ``testserver``).
    """

    db_path: Path
    photo_dir: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    extra_hosts: tuple[str, ...] = ()

    @classmethod
    def for_database(cls, db_path: str | Path, **kwargs) -> AppConfig:
        """A config whose uploads go to ``photos/`` beside the database."""
        db = Path(db_path).expanduser().resolve()
        return cls(db_path=db, photo_dir=db.parent / "lipsym-photos", **kwargs)

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """Host names (without port) a request may name in its Host and Origin headers."""
        return frozenset({*LOOPBACK_NAMES, self.host, *self.extra_hosts})
