"""PNG: walking the chunk chain (completeness, a late eXIf chunk) without decoding pixels."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import IO

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class _PngWalk:
    complete: bool  # the chunk chain reaches IEND inside the file
    exif: bytes | None  # body of the first eXIf chunk, wherever it is


def _walk_png(fp: IO[bytes]) -> _PngWalk:
    """Follow PNG chunk lengths from the signature to IEND (seeks, no reads of pixel data)."""
    fp.seek(len(_PNG_SIGNATURE))
    exif = None
    while True:
        head = fp.read(8)
        if len(head) < 8:
            return _PngWalk(complete=False, exif=exif)
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            return _PngWalk(complete=len(fp.read(4)) == 4, exif=exif)
        if kind == b"eXIf" and exif is None:
            exif = fp.read(length)
            fp.seek(4, io.SEEK_CUR)
        else:
            fp.seek(length + 4, io.SEEK_CUR)
