"""PNG: walking the chunk chain without decoding pixels; strict strip-wise decoding."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import IO, Iterator

import cv2
import numpy as np

from lipsym.errors import CorruptPhotoError
from lipsym.io._files import _one_line

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


# --- strict, strip-wise decoding ----------------------------------------------------
#
# A PNG is decoded here, not by Pillow or OpenCV in one piece, for two reasons:
# memory (the decoded photo never exists at full size: rows are inflated,
# unfiltered, converted to 8-bit RGB and reduced one strip at a time) and
# strictness (a row count short of the header's, a CRC or zlib error is an
# error; both libraries accept a PNG whose data holds half its rows). The
# unfiltering itself (the sequential Paeth/Average filters) is left to
# libpng: each strip is handed to OpenCV as a small PNG whose first row is
# the previous strip's last row, unfiltered, so the filters see the same
# context as in the original.

# Colour type -> samples per pixel.
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_CRITICAL = (b"IHDR", b"PLTE", b"IDAT", b"IEND")
# Adam7 interlacing: (first column, first row, column step, row step) of each pass.
_ADAM7_PASSES = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
# Unfiltered bytes per pixel -> (colour type, bit depth) of a stand-in PNG
# with that many bytes per pixel, which OpenCV returns sample for sample.
_STAND_IN = {1: (0, 8), 2: (0, 16), 3: (2, 8), 4: (6, 8), 6: (2, 16), 8: (6, 16)}


@dataclass(frozen=True)
class PngLayout:
    """What a PNG's IHDR, PLTE and tRNS chunks say about its pixel data."""

    width_px: int
    height_px: int
    bit_depth: int
    colour_type: int
    interlaced: bool
    palette: bytes | None
    transparency: bytes | None

    @property
    def channels(self) -> int:
        return _CHANNELS[self.colour_type]

    @property
    def bytes_per_px(self) -> int:
        """Bytes per pixel as the PNG filters count them (at least 1)."""
        return max(1, self.channels * self.bit_depth // 8)

    @property
    def row_bytes(self) -> int:
        return (self.width_px * self.channels * self.bit_depth + 7) // 8

    @property
    def max_value(self) -> int:
        return 65535 if self.bit_depth == 16 else 255


def png_layout_and_data(data: bytes, shown: str) -> tuple[PngLayout, list[memoryview]]:
    """The layout and the IDAT chunk bodies, checking the CRC of every critical chunk.

    Raises
    ------
    CorruptPhotoError
        A critical chunk's CRC does not match, or IHDR is malformed.
    """
    view = memoryview(data)
    pos, ihdr, palette, transparency, idat = len(_PNG_SIGNATURE), None, None, None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", view[pos : pos + 8])
        body = view[pos + 8 : pos + 8 + length]
        crc = view[pos + 8 + length : pos + 12 + length]
        intact = len(crc) == 4 and zlib.crc32(view[pos + 4 : pos + 8 + length]) == struct.unpack(">I", crc)[0]
        if kind in _CRITICAL and not intact:
            raise CorruptPhotoError(f"{shown} is corrupt (its PNG {kind.decode('latin-1')} chunk fails its CRC check)")
        if kind == b"IHDR":
            ihdr = bytes(body)
        elif kind == b"PLTE":
            palette = bytes(body)
        elif kind == b"tRNS":
            transparency = bytes(body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if ihdr is None or len(ihdr) != 13:
        raise CorruptPhotoError(f"{shown} is corrupt (its PNG header chunk is missing or malformed)")
    width_px, height_px, bit_depth, colour_type, _compression, _filter, interlace = struct.unpack(">IIBBBBB", ihdr)
    if colour_type not in _CHANNELS or bit_depth not in (1, 2, 4, 8, 16):
        raise CorruptPhotoError(f"{shown} is corrupt (its PNG header declares colour type {colour_type}, "
                                f"bit depth {bit_depth})")
    layout = PngLayout(width_px, height_px, bit_depth, colour_type, interlace == 1, palette, transparency)
    return layout, idat


def inflated_size_bytes(layout: PngLayout) -> int:
    """Bytes the IDAT stream must inflate to: filter byte plus row, per row (of each Adam7 pass)."""
    if not layout.interlaced:
        return layout.height_px * (layout.row_bytes + 1)
    total = 0
    for x0, y0, dx, dy in _ADAM7_PASSES:
        columns, rows = -(-(layout.width_px - x0) // dx), -(-(layout.height_px - y0) // dy)
        if columns > 0 and rows > 0:
            total += rows * ((columns * layout.channels * layout.bit_depth + 7) // 8 + 1)
    return total


def _inflate(idat: list[memoryview], shown: str) -> Iterator[bytes]:
    """The IDAT stream inflated, a few MiB at a time (a zlib bomb never sits in memory)."""
    stream = zlib.decompressobj()
    try:
        for body in idat:
            pending: bytes | memoryview = body
            while pending and not stream.eof:
                out = stream.decompress(pending, 1 << 22)
                pending = stream.unconsumed_tail
                if out:
                    yield out
            if stream.eof:
                return
        tail = stream.flush()
        if tail:
            yield tail
    except zlib.error as exc:
        raise CorruptPhotoError(f"{shown} is corrupt (its PNG image data does not inflate: {exc})") from exc


def check_inflated_size(idat: list[memoryview], layout: PngLayout, shown: str) -> None:
    """Refuse a PNG whose image data inflates to fewer bytes than its header needs (streamed, nothing kept)."""
    needed, got = inflated_size_bytes(layout), 0
    for piece in _inflate(idat, shown):
        got += len(piece)
        if got >= needed:
            return
    _raise_missing_rows(layout, got, shown)


def _raise_missing_rows(layout: PngLayout, got_bytes: int, shown: str) -> None:
    rows = got_bytes // (layout.row_bytes + 1) if not layout.interlaced else None
    held = f"{rows} of the {layout.height_px} rows" if rows is not None else "fewer rows than"
    raise CorruptPhotoError(f"{shown} is corrupt (its PNG data holds {held} its header declares)")


def filtered_strips(idat: list[memoryview], layout: PngLayout, rows_per_strip: int, shown: str) -> Iterator[bytes]:
    """The filtered rows (filter byte + row bytes) of a non-interlaced PNG, ``rows_per_strip`` at a time."""
    stride = layout.row_bytes + 1
    buffer, rows_left = bytearray(), layout.height_px
    for piece in _inflate(idat, shown):
        buffer += piece
        while rows_left and len(buffer) >= min(rows_per_strip, rows_left) * stride:
            n = min(rows_per_strip, rows_left)
            yield bytes(buffer[: n * stride])
            del buffer[: n * stride]
            rows_left -= n
        if not rows_left:
            return
    if rows_left:
        _raise_missing_rows(layout, (layout.height_px - rows_left) * stride + len(buffer), shown)


def unfilter(filtered: bytes, previous_row: bytes, layout: PngLayout, shown: str) -> np.ndarray:
    """Unfiltered rows, shape (n, row_bytes) uint8, given the unfiltered row above the first.

    libpng (through OpenCV) does the work on a stand-in PNG with the same
    bytes per pixel, whose first row is ``previous_row`` with filter type 0.
    """
    bpp, stride = layout.bytes_per_px, layout.row_bytes + 1
    n_rows = len(filtered) // stride
    colour_type, bit_depth = _STAND_IN[bpp] if layout.bit_depth >= 8 else _STAND_IN[1]
    sample_bytes = bit_depth // 8 * _CHANNELS[colour_type]
    width_px = layout.row_bytes // sample_bytes
    raw = b"\x00" + previous_row + filtered
    stand_in = (_PNG_SIGNATURE
                + _chunk(b"IHDR", struct.pack(">IIBBBBB", width_px, n_rows + 1, bit_depth, colour_type, 0, 0, 0))
                + _chunk(b"IDAT", zlib.compress(raw, 0)) + _chunk(b"IEND", b""))
    try:
        pixels = cv2.imdecode(np.frombuffer(stand_in, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise CorruptPhotoError(f"{shown} is corrupt (its PNG rows do not unfilter: {_one_line(exc)})") from exc
    if pixels is None:
        raise CorruptPhotoError(f"{shown} is corrupt (its PNG rows do not unfilter: bad filter type)")
    pixels = pixels[1:].reshape(n_rows, width_px, -1)
    if pixels.shape[2] >= 3:  # OpenCV hands colour back as BGR(A)
        pixels = bgr_to_rgb(pixels)
    if bit_depth == 16:
        pixels = pixels.astype(">u2")
    return np.ascontiguousarray(pixels).view(np.uint8).reshape(n_rows, layout.row_bytes)


def samples_of(rows: np.ndarray, layout: PngLayout) -> np.ndarray:
    """Unfiltered rows -> (n, w, c) samples (uint8, or uint16 for 16-bit), palette applied.

    As Pillow reads them: low-bit gray is scaled to 0-255, a palette's tRNS
    becomes an alpha channel, the single transparent colour of a gray or RGB
    PNG is not applied.
    """
    n_rows, width_px = rows.shape[0], layout.width_px
    if layout.bit_depth == 16:
        return rows.view(">u2").reshape(n_rows, width_px, layout.channels).astype(np.uint16)
    if layout.bit_depth == 8:
        values = rows.reshape(n_rows, width_px, layout.channels)
    else:
        bits = np.unpackbits(rows, axis=1).reshape(n_rows, -1, layout.bit_depth)
        weights = (1 << np.arange(layout.bit_depth - 1, -1, -1)).astype(np.uint8)
        values = (bits * weights).sum(axis=2, dtype=np.uint8)[:, :width_px, None]
    if layout.colour_type == 3:
        return _palette_samples(values[:, :, 0], layout)
    if layout.bit_depth < 8:
        return values * np.uint8(255 // ((1 << layout.bit_depth) - 1))
    return values


def _palette_samples(indices: np.ndarray, layout: PngLayout) -> np.ndarray:
    colours = np.zeros((256, 3), np.uint8)
    palette = np.frombuffer(layout.palette or b"", np.uint8)[: 768 // 3 * 3].reshape(-1, 3)
    colours[: len(palette)] = palette
    if layout.transparency is None:
        return colours[indices]
    alpha = np.full((256, 1), 255, np.uint8)
    given = np.frombuffer(layout.transparency, np.uint8)[:256]
    alpha[: len(given), 0] = given
    return np.concatenate([colours, alpha], axis=1)[indices]


def bgr_to_rgb(pixels: np.ndarray) -> np.ndarray:
    """OpenCV's (h, w, 3 or 4) BGR(A) samples, any depth, as RGB(A)."""
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB if pixels.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
