"""Container checks for formats whose decoders accept a file with bytes added, lost or moved.

Pillow's BMP and TIFF readers read the pixel bytes where the header says
they start and ignore what follows; libwebp and libheif decode from the
chunks and boxes they find. A byte inserted into or deleted from the middle
of such a file then shifts every later pixel (or leaves them grey) without
any decoder message: silent wrong data (issue #15). Each format's own sizes
say exactly how long the file is, so a file whose length disagrees with
them is refused here, before decoding:

* BMP (uncompressed): the pixel array, ``height × stride`` bytes from the
  pixel offset, ends where the file ends (or where the header's file size
  says, for writers that pad);
* WebP: the RIFF size and the chunk sizes tile the file exactly;
* HEIF/HEIC: the top-level boxes tile the file exactly;
* TIFF: every strip or tile lies inside the file; an uncompressed strip
  holds exactly its rows' bytes; a Deflate strip inflates completely with a
  correct Adler-32 (libtiff stops reading once it has the pixels, so it never
  checks it); and nothing but a few zero bytes of padding follows the last
  structure the IFDs reference (bytes inserted into pixel data push the
  data's tail out there);
* GIF: the first image's LZW codes decode to exactly its width × height
  pixels (:mod:`lipsym.io._gif`).

These are the formats' own rules, not heuristics: a file written by any
conforming writer passes them (tested on files from Pillow, OpenCV and
pillow-heif in tests/test_photo_structure.py).
"""

from __future__ import annotations

import struct
import zlib

from lipsym.errors import CorruptPhotoError
from lipsym.io._gif import check_gif

# BMP compression values whose pixel array has a fixed size (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS).
_BMP_UNCOMPRESSED = (0, 3, 6)
# TIFF tags (TIFF 6.0).
_WIDTH, _LENGTH, _BITS, _COMPRESSION, _OFFSETS, _SPP, _ROWS, _COUNTS = 256, 257, 258, 259, 273, 277, 278, 279
_PLANAR, _TILE_WIDTH, _TILE_LENGTH, _TILE_OFFSETS, _TILE_COUNTS, _PREDICTOR = 284, 322, 323, 324, 325, 317
_SUB_IFDS, _EXIF_IFD, _GPS_IFD, _INTEROP_IFD = 330, 34665, 34853, 40965
_THUMB_OFFSET, _THUMB_LENGTH = 513, 514
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
_DEFLATE = (8, 32946)
_MAX_IFDS = 64
#: Zero bytes a TIFF may end with after its last structure (writers' padding).
_ZERO_TAIL_MAX = 16


def check_structure(data: bytes, fmt: str, shown: str) -> None:
    """Refuse a BMP, WebP, HEIF, TIFF or GIF file whose own sizes disagree with its length or pixels.

    Parameters
    ----------
    data : bytes
        The whole file.
    fmt : str
        Pillow's format name (``"BMP"``, ``"WEBP"``, ``"HEIF"``, ``"TIFF"``,
        ``"GIF"``; other formats are not checked here).
    shown : str
        The file as it goes into messages.

    Raises
    ------
    CorruptPhotoError
    """
    check = {"BMP": _check_bmp, "WEBP": _check_riff, "HEIF": _check_boxes, "TIFF": _check_tiff,
             "GIF": check_gif}.get(fmt)
    if check is None:
        return
    try:
        problem = check(data)
    except (struct.error, IndexError, ValueError, OverflowError):
        problem = f"its {fmt} structure runs past the end of the file or holds impossible values"
    if problem:
        raise CorruptPhotoError(f"{shown} is corrupt ({problem})")


def _check_bmp(data: bytes) -> str | None:
    if len(data) < 54:
        return "its BMP header is cut short"
    file_size, pixel_offset = struct.unpack_from("<I4xI", data, 2)
    header_size = struct.unpack_from("<I", data, 14)[0]
    if header_size < 40:  # OS/2 1.x core header: 16-bit sizes, always uncompressed
        width, height, _, bits = struct.unpack_from("<HHHH", data, 18)
        compression = 0
    else:
        width, height, _, bits, compression = struct.unpack_from("<iiHHI", data, 18)
    if compression not in _BMP_UNCOMPRESSED:
        return None
    stride = (abs(width) * bits + 31) // 32 * 4
    end = pixel_offset + stride * abs(height)
    if len(data) == end or (len(data) == file_size and file_size > end):
        return None
    return (f"its BMP pixel data should end at byte {end}, but the file has {len(data)} bytes"
            " (bytes were added or lost)")


def _check_riff(data: bytes) -> str | None:
    declared = struct.unpack_from("<I", data, 4)[0] + 8
    if declared != len(data):
        return f"its RIFF header says {declared} bytes, the file has {len(data)} (bytes were added or lost)"
    pos = 12
    while pos + 8 <= len(data):
        size = struct.unpack_from("<I", data, pos + 4)[0]
        pos += 8 + size + (size & 1)
    if pos != len(data):
        return "its WebP chunk sizes do not add up to the file's length (bytes were added or lost)"
    return None


def _check_boxes(data: bytes) -> str | None:
    pos = 0
    while pos + 8 <= len(data):
        size = struct.unpack_from(">I", data, pos)[0]
        if size == 1:
            if pos + 16 > len(data):
                break
            size = struct.unpack_from(">Q", data, pos + 8)[0]
        elif size == 0:  # the last box runs to the end of the file
            return None
        if size < 8:
            return f"its HEIF box at byte {pos} has an impossible size {size}"
        pos += size
    if pos != len(data):
        return "its HEIF box sizes do not add up to the file's length (bytes were added or lost)"
    return None


class _DirectoryError(ValueError):
    """A TIFF directory entry that cannot be right (its message is the reason)."""


class _Tiff:
    """A minimal TIFF/BigTIFF-free IFD reader: entries and the byte ranges they reference."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.order = "<" if data[:2] == b"II" else ">"
        self.ranges: list[tuple[int, int]] = [(0, 8)]

    def unpack(self, fmt: str, at: int) -> tuple:
        return struct.unpack_from(self.order + fmt, self.data, at)

    def ifd(self, at: int) -> tuple[dict[int, list[int]], int]:
        """The entries of the IFD at ``at`` (tag -> integer values) and the next IFD's offset."""
        count = self.unpack("H", at)[0]
        self.ranges.append((at, at + 2 + 12 * count + 4))
        entries: dict[int, list[int]] = {}
        for index in range(count):
            tag, kind, n = self.unpack("HHI", at + 2 + 12 * index)
            size = _TYPE_SIZES.get(kind, 1) * n
            where = at + 2 + 12 * index + 8
            if size > 4:
                where = self.unpack("I", where)[0]
                if where + size > len(self.data):
                    raise _DirectoryError(f"the data of its TIFF tag {tag} runs past the end of the file")
                self.ranges.append((where, where + size))
            if kind in (3, 4, 13) and where + size <= len(self.data):
                letter = "H" if kind == 3 else "I"
                entries[tag] = list(self.unpack(f"{n}{letter}", where))
        return entries, self.unpack("I", at + 2 + 12 * count)[0]


def _check_tiff(data: bytes) -> str | None:
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None  # BigTIFF and oddities: left to libtiff
    tiff = _Tiff(data)
    try:
        todo, seen, images = [tiff.unpack("I", 4)[0]], set(), []
        while todo and len(seen) < _MAX_IFDS:
            at = todo.pop()
            if at == 0 or at in seen:
                continue
            seen.add(at)
            entries, following = tiff.ifd(at)
            todo.append(following)
            for tag in (_SUB_IFDS, _EXIF_IFD, _GPS_IFD, _INTEROP_IFD):
                todo.extend(entries.get(tag, ()))
            if entries.get(_THUMB_OFFSET) and entries.get(_THUMB_LENGTH):
                start = entries[_THUMB_OFFSET][0]
                tiff.ranges.append((start, start + entries[_THUMB_LENGTH][0]))
            images.append(entries)
    except struct.error:
        return "its TIFF directory runs past the end of the file"
    except _DirectoryError as exc:
        return str(exc)
    for entries in images:
        problem = _check_tiff_image(data, entries, tiff.ranges)
        if problem:
            return problem
    end = max(stop for _, stop in tiff.ranges)
    # A writer may pad an odd-length last structure to a word boundary, and
    # leave a few zero bytes at the end (Pillow's multi-page writer: 4).
    tail = data[end + (end & 1):]
    if tail and (len(tail) > _ZERO_TAIL_MAX or tail.count(0) != len(tail)):
        return (f"{len(data) - end} bytes follow the last structure its TIFF directory refers to"
                " (bytes were added, or its directory is damaged)")
    return None


def _check_tiff_image(data: bytes, entries: dict[int, list[int]], ranges: list[tuple[int, int]]) -> str | None:
    offsets = entries.get(_OFFSETS) or entries.get(_TILE_OFFSETS)
    counts = entries.get(_COUNTS) or entries.get(_TILE_COUNTS)
    if not offsets or not counts:
        return None
    if len(offsets) != len(counts):
        return "its TIFF strip offsets and byte counts disagree"
    for start, count in zip(offsets, counts):
        if start + count > len(data):
            return f"a TIFF strip runs to byte {start + count}, past the end of the file ({len(data)} bytes)"
        ranges.append((start, start + count))
    compression = _first(entries, _COMPRESSION, 1)
    tiled = _TILE_OFFSETS in entries
    width, height = _first(entries, _WIDTH, 0), _first(entries, _LENGTH, 0)
    samples = _first(entries, _SPP, 1)
    bits = entries.get(_BITS) or [1] * samples
    planar = _first(entries, _PLANAR, 1) == 2
    if tiled or not width or not height or len(set(bits)) != 1:
        return None
    per_row = width * (1 if planar else samples) * bits[0]
    row_bytes = (per_row + 7) // 8
    rows = min(_first(entries, _ROWS, height) or height, height)
    strips_per_plane = -(-height // rows)
    if len(offsets) != strips_per_plane * (samples if planar else 1):
        return "its TIFF strip count does not match its height"
    for index, (start, count) in enumerate(zip(offsets, counts)):
        strip_rows = min(rows, height - (index % strips_per_plane) * rows)
        expected = strip_rows * row_bytes
        if compression == 1 and count < expected:
            return f"a TIFF strip holds {count} bytes where its rows need {expected}"
        if compression in _DEFLATE:
            problem = _inflate_problem(data[start : start + count], expected)
            if problem:
                return problem
    return None


def _first(entries: dict[int, list[int]], tag: int, default: int) -> int:
    values = entries.get(tag)
    return values[0] if values else default


def _inflate_problem(compressed: bytes, expected: int) -> str | None:
    """Why a Deflate strip does not inflate completely to at least ``expected`` bytes (None if it does).

    Inflated a megabyte at a time and thrown away: one strip may be the
    whole image.
    """
    inflater, total, pending = zlib.decompressobj(), 0, compressed
    try:
        while not inflater.eof:
            out = inflater.decompress(pending, 1 << 20)
            pending = inflater.unconsumed_tail
            total += len(out)
            if not out and not pending:
                break
    except zlib.error as exc:
        return f"a TIFF Deflate strip is damaged ({exc})"
    if not inflater.eof or total < expected:
        return "a TIFF Deflate strip stops before its end"
    return None
