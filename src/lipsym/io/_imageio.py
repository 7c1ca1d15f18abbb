"""Robust photo loading: formats, EXIF orientation, size guards, reduced decoding.

Every photo lipsym measures enters through :func:`load_photo`. It returns a
:class:`Photo`: upright (EXIF orientation applied), 8-bit RGB, possibly
decoded at 1/2, 1/4 or 1/8 resolution, together with the size of the
ORIGINAL upright photo. Every coordinate lipsym reports is in original-photo
pixels; :meth:`Photo.to_original_px` converts from the decoded array.

Decisions
---------
* Formats: JPEG, PNG, TIFF, WebP, BMP and HEIC/HEIF. Anything else is a
  :class:`~lipsym.errors.NotAnImageError`, even when Pillow could open it:
  some Pillow plugins (EPS) run external programs, and an allow-list keeps
  the attack surface to decoders that photographs actually need.
* Transparency is composited over WHITE (not dropped): a cut-out portrait
  then looks as it does in a viewer, instead of showing whatever colour the
  editor left in fully transparent pixels.
* 16-bit samples become 8-bit by rounding ``v * 255 / 65535``, never by
  clipping or by keeping the high byte.
* No colour management: embedded ICC profiles (Adobe RGB, Display P3) are
  not applied; landmark detection does not need it.
* JPEG pixels are decoded with OpenCV (2-3x faster than Pillow, and libjpeg's
  DCT scaling makes reduced decoding almost free); Pillow (and pillow-heif)
  decode the other formats and the JPEG modes OpenCV gets wrong (CMYK);
  16-bit colour PNG/TIFF go to OpenCV because Pillow keeps only their high
  byte. OpenCV's EXIF handling is switched off and the orientation Pillow
  reads from the header is applied by this module, after any reduction, so
  all paths agree. Exception: Pillow >= 11 and OpenCV 5 rotate TIFFs
  themselves whatever the flags; that is detected (Pillow drops the tag,
  OpenCV is asked once with a tiny probe TIFF) and not applied twice.
* Truncation: a JPEG is complete only if, after its first scan, an EOI
  marker ends its entropy-coded data (found by walking the marker segments,
  so camera trailers after EOI are allowed but a file cut short or padded
  with zeros is not); a PNG only if its chunk chain reaches IEND. Other
  formats rely on their decoder's errors. OpenCV alone would silently return
  a half-grey image for a truncated JPEG.
* Size guard: the dimensions declared in the header are checked against
  ``max_pixels`` before any pixel is decoded. Pillow's own global
  decompression-bomb limit is bypassed at open (ours is the one that the
  caller controls); any residual Pillow bomb error becomes
  :class:`~lipsym.errors.PhotoTooLargeError`.

Reduced geometry
----------------
Decoding at reduction ``r`` gives an array of ``ceil(W / r) x ceil(H / r)``
pixels, where, in the file's stored orientation, decoded pixel ``x``
averages original pixels ``[r * x, r * x + r)`` (libjpeg's DCT scaling; the
other formats are reduced the same way, with edge replication). The last
column/row therefore reaches past the original edge, and the exact scale is
``r`` per axis, NOT ``W / ceil(W / r)``: measured on a 1001 x 777 JPEG,
``W / w`` misplaces a dot near the far edge by up to 1, 3 and 7 px at
r = 2, 4 and 8, ``r`` by < 0.1 px.

The EXIF rotation/flip is applied after the reduced decode, so on an axis the
orientation reverses, that partial block lands at the START of the upright
axis: the decoded grid then begins ``r * w - W`` original px before the
photo's edge. :attr:`Photo.grid_offset_px` records this (0 otherwise).

Pixel-centre convention: integer coordinates are pixel centres, so pixel
``x`` spans ``[x - 0.5, x + 0.5]`` and ``x_orig = (x + 0.5) * r - 0.5 - ox``
with ``ox`` the grid offset; use :meth:`Photo.to_original_px`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import re
import stat
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Union

import cv2
import numpy as np
from PIL import (
    BmpImagePlugin,
    Image,
    ImageFile,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from lipsym.errors import (
    ConfigurationError,
    LipsymError,
    NotAnImageError,
    PhotoNotFoundError,
    PhotoTooLargeError,
    PhotoTooSmallError,
    TruncatedPhotoError,
    UnreadablePhotoError,
)

__all__ = [
    "MAX_PIXELS",
    "MIN_SIDE_PX",
    "REDUCTIONS",
    "SUPPORTED_FORMATS",
    "Photo",
    "PhotoHeader",
    "choose_reduction",
    "load_photo",
    "load_region",
    "photo_from_array",
    "read_header",
    "read_photo_bytes",
]

StrPath = Union[str, "os.PathLike[str]"]

#: Largest accepted photo, in pixels of the declared (header) size. A 250 MP
#: photo is far beyond any clinical camera; larger headers are bombs or junk.
MAX_PIXELS = 250_000_000

#: Smallest accepted shorter side, in px: below this no lip landmark is usable.
MIN_SIDE_PX = 64

#: Decoding reductions OpenCV/libjpeg can do natively (DCT scaling).
REDUCTIONS = (1, 2, 4, 8)

#: Formats load_photo accepts, as reported in ``Photo.format``.
SUPPORTED_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "HEIF")

_SUPPORTED_TEXT = "JPEG, PNG, TIFF, WebP, BMP or HEIC/HEIF"
_EXIF_ORIENTATION_TAG = 0x0112
_HEIF_BRANDS_HINT = b"ftyp"

# A marker inside JPEG entropy-coded data: 0xFF followed by anything except
# a stuffed zero, a restart marker (RST0-7) or another fill byte.
_JPEG_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_EOI = 0xD9
_JPEG_SOS = 0xDA
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_PIL_FACTORIES = {
    # jpeg_factory also returns multi-picture (MPO) files, as their primary image.
    "JPEG": JpegImagePlugin.jpeg_factory,
    "PNG": PngImagePlugin.PngImageFile,
    "TIFF": TiffImagePlugin.TiffImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
}

# Pillow modes that numpy can take as they are, and the maximum sample value.
_DIRECT_MODES = {"RGB": 255, "RGBA": 255, "L": 255, "LA": 255}
_UINT16_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
# Modes Pillow converts losslessly (or by its standard formula) to a direct mode.
_PIL_CONVERSIONS = {
    "1": "L",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "RGBX": "RGB",
    "RGBa": "RGBA",
    "La": "LA",
    "PA": "RGBA",
}


# --- public types -------------------------------------------------------------


@dataclass(frozen=True)
class PhotoHeader:
    """What a photo's header declares, read without decoding any pixel.

    Attributes
    ----------
    path : Path
        The file.
    width_px, height_px : int
        Size of the photo AFTER EXIF orientation, in px.
    orientation : int
        EXIF orientation (1-8) that loading will apply; 1 when absent or
        invalid. For HEIF: the EXIF value the file recorded; the rotation
        itself comes from HEIF's own transform boxes (applied by libheif),
        which the HEIF standard makes authoritative.
    format : str
        One of :data:`SUPPORTED_FORMATS`.
    mode : str
        Pillow colour mode of the file, e.g. ``"RGB"``, ``"L"``, ``"I;16"``,
        ``"CMYK"``, ``"RGBA"``, ``"P"``.
    bit_depth : int
        Bits per sample of the file, rounded up to 8 or 16.
    """

    path: Path
    width_px: int
    height_px: int
    orientation: int
    format: str
    mode: str
    bit_depth: int

    @property
    def pixels(self) -> int:
        """Declared pixel count."""
        return self.width_px * self.height_px


@dataclass(frozen=True, eq=False)
class Photo:
    """An orientation-corrected photo, possibly decoded at reduced resolution.

    Attributes
    ----------
    path : Path or None
        Source file; None for in-memory arrays.
    rgb : numpy.ndarray
        Shape (height, width, 3), uint8, RGB, C-contiguous, read-only. When
        ``reduction > 1`` its size is ``ceil(original / reduction)`` per axis.
    original_width_px, original_height_px : int
        Size of the ORIGINAL photo after EXIF orientation, in px.
    reduction : int
        1, 2, 4 or 8: decoded pixel ``x`` covers original pixels
        ``[reduction * x, reduction * x + reduction)`` on each axis.
    orientation : int
        EXIF orientation tag applied (1 = none / absent).
    format : str
        ``"JPEG"``, ``"PNG"``, ``"TIFF"``, ``"WEBP"``, ``"BMP"``, ``"HEIF"``
        or ``"ARRAY"`` (in-memory).
    source_mode : str
        Colour mode of the file, e.g. ``"RGB"``, ``"L"``, ``"I;16"``, ``"CMYK"``.
    bit_depth : int
        8 or 16: bits per sample of the source.
    grid_offset_px : (int, int)
        ``(ox, oy)``, each in ``[0, reduction)``: decoded pixel ``x`` covers
        original pixels ``[reduction * x - ox, reduction * x - ox + reduction)``.
        Non-zero only for a reduced decode of an odd-sized photo whose EXIF
        orientation reverses that axis (see the module notes).

    Notes
    -----
    Coordinates use the pixel-centre convention: integer coordinates are pixel
    centres. Map them with :meth:`to_original_px` / :meth:`from_original_px`
    (the scale alone ignores the grid offset). Any array given to the
    constructor that is writable or not C-contiguous is replaced by a
    read-only contiguous copy.
    """

    path: Path | None
    rgb: np.ndarray
    original_width_px: int
    original_height_px: int
    reduction: int
    orientation: int
    format: str
    source_mode: str
    bit_depth: int
    grid_offset_px: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        rgb = self.rgb
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ConfigurationError(
                f"Photo.rgb must be a (height, width, 3) uint8 array, got {rgb.dtype} {rgb.shape}"
            )
        if self.reduction not in REDUCTIONS:
            raise ConfigurationError(f"Photo.reduction must be one of {REDUCTIONS}, got {self.reduction}")
        if not all(0 <= offset < self.reduction for offset in self.grid_offset_px):
            raise ConfigurationError(
                f"Photo.grid_offset_px must lie in [0, {self.reduction}), got {self.grid_offset_px}"
            )
        if rgb.flags.writeable or not rgb.flags.c_contiguous:
            # A writable array shared with the caller could change under a
            # measurement; a private frozen copy cannot.
            frozen = np.array(rgb, dtype=np.uint8, order="C", copy=True)
            frozen.flags.writeable = False
            object.__setattr__(self, "rgb", frozen)

    @property
    def width_px(self) -> int:
        """Width of :attr:`rgb`, in decoded px."""
        return int(self.rgb.shape[1])

    @property
    def height_px(self) -> int:
        """Height of :attr:`rgb`, in decoded px."""
        return int(self.rgb.shape[0])

    @property
    def scale_to_original(self) -> tuple[float, float]:
        """Original px per decoded px, ``(sx, sy)``.

        Equal to ``(reduction, reduction)``: this is the true geometric scale
        of the decoders (see the module notes). It differs slightly from
        ``original_width_px / width_px`` when the original size is not a
        multiple of the reduction, because the last decoded column/row then
        covers less than ``reduction`` original pixels.
        """
        return (float(self.reduction), float(self.reduction))

    def to_original_px(self, xy: np.ndarray) -> np.ndarray:
        """Map decoded-array coordinates to original-photo coordinates.

        Parameters
        ----------
        xy : array_like, shape (..., 2)
            ``(x, y)`` in px of :attr:`rgb`, pixel-centre convention.

        Returns
        -------
        numpy.ndarray, shape (..., 2), float64
            ``(x, y)`` in px of the original upright photo:
            ``(xy + 0.5) * scale - 0.5 - grid_offset_px``.
        """
        points = _as_points(xy)
        return (points + 0.5) * np.asarray(self.scale_to_original) - 0.5 - np.asarray(self.grid_offset_px)

    def from_original_px(self, xy: np.ndarray) -> np.ndarray:
        """Map original-photo coordinates to decoded-array coordinates.

        Parameters
        ----------
        xy : array_like, shape (..., 2)
            ``(x, y)`` in px of the original upright photo.

        Returns
        -------
        numpy.ndarray, shape (..., 2), float64
            ``(x, y)`` in px of :attr:`rgb`; inverse of :meth:`to_original_px`.
        """
        points = _as_points(xy)
        return (points + 0.5 + np.asarray(self.grid_offset_px)) / np.asarray(self.scale_to_original) - 0.5


@dataclass
class _Probe:
    """A header read plus what decoding needs (internal)."""

    header: PhotoHeader
    image: ImageFile.ImageFile
    stored_width_px: int  # as the pixels are stored, before any orientation
    stored_height_px: int
    orientation_to_apply: int  # 1 for HEIF: libheif applies it while decoding
    route: str  # "cv2-jpeg", "cv2-16bit" or "pil"


# --- public functions -----------------------------------------------------------


def read_header(path: StrPath, *, data: bytes | None = None) -> PhotoHeader:
    """Read a photo's size, orientation, format and mode without decoding pixels.

    Size limits are not applied and the pixel data is not checked for
    completeness (:func:`load_photo` does both).

    Parameters
    ----------
    path : str or os.PathLike
        Photo file.
    data : bytes, optional
        The file's content, when already read (:func:`read_photo_bytes`);
        ``path`` then only names the photo in messages.

    Returns
    -------
    PhotoHeader
        ``width_px``/``height_px`` are after EXIF orientation.

    Raises
    ------
    PhotoNotFoundError, UnreadablePhotoError, NotAnImageError, TruncatedPhotoError
        The file is missing, unreadable, not a supported image, or its header
        is cut short or corrupt.
    """
    path = Path(path)
    shown = _shown(path)
    if data is not None:
        probe = _probe(io.BytesIO(data), path, shown)
        probe.image.close()
        return probe.header
    _stat_regular_file(path, shown)
    try:
        with path.open("rb") as fp:
            probe = _probe(fp, path, shown)
            probe.image.close()
            return probe.header
    except OSError as exc:
        raise _io_error(exc, shown) from exc


def read_photo_bytes(path: StrPath, *, max_pixels: int = MAX_PIXELS) -> bytes:
    """The whole photo file, for callers that also need its bytes (e.g. to hash them).

    Passing the result to :func:`read_header` and :func:`load_photo` as
    ``data`` spares them a second read of the file: on a 24 MP JPEG that is
    a few milliseconds per photo (``benchmarks/batch_throughput.py``).

    Raises
    ------
    PhotoNotFoundError, UnreadablePhotoError, PhotoTooLargeError
        The file is missing, unreadable, or larger than any photo within
        ``max_pixels`` can need.
    """
    path = Path(path)
    return _read_bytes(path, _shown(path), max_file_bytes=_max_file_bytes(max_pixels))


def load_photo(
    path: StrPath,
    *,
    reduction: int = 1,
    max_pixels: int = MAX_PIXELS,
    min_side_px: int = MIN_SIDE_PX,
    data: bytes | None = None,
) -> Photo:
    """Load a photo upright as 8-bit RGB, optionally at reduced resolution.

    Parameters
    ----------
    path : str or os.PathLike
        Photo file (JPEG, PNG, TIFF, WebP, BMP, HEIC/HEIF).
    reduction : {1, 2, 4, 8}
        Decode at about 1/reduction of the original size on each axis (see
        :func:`choose_reduction`).
    max_pixels : int
        Largest accepted declared size, in pixels (checked before decoding).
    min_side_px : int
        Smallest accepted shorter side of the original photo, in px.
    data : bytes, optional
        The file's content, when already read (:func:`read_photo_bytes`);
        ``path`` then only names the photo.

    Returns
    -------
    Photo

    Raises
    ------
    PhotoNotFoundError, UnreadablePhotoError, NotAnImageError,
    TruncatedPhotoError, PhotoTooLargeError, PhotoTooSmallError
        One-line messages naming the file.
    ConfigurationError
        An argument is out of range.
    """
    _check_load_arguments(reduction, max_pixels, min_side_px)
    path = Path(path)
    shown = _shown(path)
    if data is None:
        data = _read_bytes(path, shown, max_file_bytes=_max_file_bytes(max_pixels))
    else:
        _check_file_size(len(data), shown, _max_file_bytes(max_pixels))
    probe = _probe(io.BytesIO(data), path, shown)
    try:
        _check_declared_size(probe.header, shown, max_pixels, min_side_px)
        _check_complete(data, probe.header.format, shown)
        stored, orientation_left = _decode_stored(data, probe, reduction, shown)
    finally:
        probe.image.close()
    rgb = _apply_orientation(stored, orientation_left)
    rgb.flags.writeable = False
    header = probe.header
    return Photo(
        path=path,
        rgb=rgb,
        original_width_px=header.width_px,
        original_height_px=header.height_px,
        reduction=reduction,
        orientation=header.orientation,
        format=header.format,
        source_mode=header.mode,
        bit_depth=header.bit_depth,
        grid_offset_px=_grid_offset_px(orientation_left, reduction, rgb.shape, header),
    )


def load_region(
    path: StrPath,
    box_px: tuple[float, float, float, float],
    *,
    max_pixels: int = MAX_PIXELS,
    min_side_px: int = MIN_SIDE_PX,
) -> np.ndarray:
    """Full-resolution RGB crop of the upright photo.

    Parameters
    ----------
    path : str or os.PathLike
        Photo file.
    box_px : (x0, y0, x1, y1)
        Box in ORIGINAL upright px; ``x1``/``y1`` are exclusive (slice
        bounds). Fractional bounds are widened to whole pixels; the box is
        clipped to the image.
    max_pixels, min_side_px : int
        As in :func:`load_photo`.

    Returns
    -------
    numpy.ndarray
        Shape (y1 - y0, x1 - x0, 3) after clipping, uint8 RGB, a writable copy.

    Raises
    ------
    ConfigurationError
        The box does not overlap the image.
    PhotoError
        As :func:`load_photo`.
    """
    photo = load_photo(path, reduction=1, max_pixels=max_pixels, min_side_px=min_side_px)
    x0, y0, x1, y1 = _clip_box(box_px, photo.original_width_px, photo.original_height_px)
    if x1 <= x0 or y1 <= y0:
        raise ConfigurationError(
            f"box {tuple(box_px)} does not overlap {_shown(Path(path))} "
            f"({photo.original_width_px}x{photo.original_height_px} px)"
        )
    return photo.rgb[y0:y1, x0:x1].copy()


def photo_from_array(rgb: np.ndarray) -> Photo:
    """Wrap an in-memory upright image as a :class:`Photo`.

    Parameters
    ----------
    rgb : numpy.ndarray
        (height, width, 3) uint8 RGB or (height, width) uint8 grayscale.
        Copied, so later changes to the caller's array do not reach the Photo.

    Returns
    -------
    Photo
        ``reduction`` 1, ``orientation`` 1, ``format`` ``"ARRAY"``, ``path`` None.
    """
    array = np.asarray(rgb)
    if array.dtype != np.uint8 or not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ConfigurationError(
            f"expected a (height, width, 3) or (height, width) uint8 image, got {array.dtype} {array.shape}"
        )
    if min(array.shape[:2]) < 1:
        raise ConfigurationError(f"image array is empty: shape {array.shape}")
    mode = "L" if array.ndim == 2 else "RGB"
    colour = np.repeat(array[:, :, None], 3, axis=2) if array.ndim == 2 else array.copy()
    colour = np.ascontiguousarray(colour)
    colour.flags.writeable = False
    return Photo(
        path=None,
        rgb=colour,
        original_width_px=int(colour.shape[1]),
        original_height_px=int(colour.shape[0]),
        reduction=1,
        orientation=1,
        format="ARRAY",
        source_mode=mode,
        bit_depth=8,
    )


def choose_reduction(
    width_px: int,
    height_px: int,
    *,
    face_width_px: float | None = None,
    target_face_width_px: float = 800.0,
    min_long_side_px: int = 2000,
) -> int:
    """Largest decoding reduction that keeps enough detail.

    Parameters
    ----------
    width_px, height_px : int
        Original photo size, in px.
    face_width_px : float, optional
        Measured face width in ORIGINAL px. When given, the reduction keeps
        ``face_width_px / reduction >= target_face_width_px``.
    target_face_width_px : float
        Face width the landmark model needs, in decoded px.
    min_long_side_px : int
        Without a face width: the reduction keeps the long side at least this
        long, in decoded px (6000 x 4000 -> 2; 1350 x 1350 -> 1).

    Returns
    -------
    int
        One of :data:`REDUCTIONS`; 1 when no reduction satisfies the bound.
    """
    if width_px <= 0 or height_px <= 0:
        raise ConfigurationError(f"photo size must be positive, got {width_px}x{height_px} px")
    if face_width_px is None:
        kept_px, needed_px = float(max(width_px, height_px)), float(min_long_side_px)
    else:
        if not face_width_px > 0 or not target_face_width_px > 0:
            raise ConfigurationError(
                f"face widths must be positive, got {face_width_px} and {target_face_width_px} px"
            )
        kept_px, needed_px = float(face_width_px), float(target_face_width_px)
    for reduction in sorted(REDUCTIONS, reverse=True):
        if kept_px / reduction >= needed_px:
            return reduction
    return 1


# --- messages -----------------------------------------------------------------


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


# --- arguments ----------------------------------------------------------------


def _check_load_arguments(reduction: int, max_pixels: int, min_side_px: int) -> None:
    if reduction not in REDUCTIONS:
        raise ConfigurationError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if max_pixels < 1:
        raise ConfigurationError(f"max_pixels must be positive, got {max_pixels!r}")
    if min_side_px < 1:
        raise ConfigurationError(f"min_side_px must be positive, got {min_side_px!r}")


def _as_points(xy: np.ndarray) -> np.ndarray:
    points = np.asarray(xy, dtype=np.float64)
    if points.ndim < 1 or points.shape[-1] != 2:
        raise ConfigurationError(f"expected points of shape (..., 2), got {points.shape}")
    return points


def _clip_box(box_px: tuple[float, float, float, float], width_px: int, height_px: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (float(v) for v in box_px)
    return (
        min(max(math.floor(x0), 0), width_px),
        min(max(math.floor(y0), 0), height_px),
        min(max(math.ceil(x1), 0), width_px),
        min(max(math.ceil(y1), 0), height_px),
    )


# --- file access ----------------------------------------------------------------


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


# --- identification and header ---------------------------------------------------


def _probe(fp: IO[bytes], path: Path, shown: str) -> _Probe:
    """Identify the format and read the header of an open photo file."""
    prefix = fp.read(32)
    fp.seek(0)
    if not prefix:
        raise NotAnImageError(f"{shown} is empty, not a photo")
    fmt = _sniff_format(prefix)
    if fmt is None:
        raise NotAnImageError(f"{shown} is not a photo in a supported format ({_SUPPORTED_TEXT})")
    image = _open_pil(fp, fmt, shown)
    try:
        return _describe(image, fmt, fp, path, shown)
    except BaseException:
        image.close()
        raise


def _sniff_format(prefix: bytes) -> str | None:
    """The supported format whose signature starts ``prefix``, or None."""
    if prefix.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if prefix.startswith(_PNG_SIGNATURE):
        return "PNG"
    if prefix[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if prefix[:4] == b"RIFF" and prefix[8:12] == b"WEBP":
        return "WEBP"
    if prefix[:2] == b"BM":
        return "BMP"
    if prefix[4:8] == _HEIF_BRANDS_HINT and _heif_accepts(prefix):
        return "HEIF"
    return None


def _heif_accepts(prefix: bytes) -> bool:
    """Whether pillow-heif recognises ``prefix`` (registering it on first use).

    pillow-heif is imported only when an ISO-BMFF file turns up: importing it
    costs ~35 ms that JPEG-only sessions should not pay.
    """
    try:
        import pillow_heif
    except ImportError:
        return False
    if "HEIF" not in Image.OPEN:
        pillow_heif.register_heif_opener()
    _factory, accept = Image.OPEN["HEIF"]
    return bool(accept(prefix))


def _open_pil(fp: IO[bytes], fmt: str, shown: str) -> ImageFile.ImageFile:
    """Open (lazily) with the format's own Pillow plugin.

    ``Image.open`` is avoided on purpose: it applies Pillow's process-wide
    decompression-bomb limit, which would override the caller's
    ``max_pixels`` (we check that right after, before any pixel is decoded).
    """
    factory = Image.OPEN["HEIF"][0] if fmt == "HEIF" else _PIL_FACTORIES[fmt]
    try:
        with _pil_bomb_guard(shown, pixels=None):
            return factory(fp, "")
    except LipsymError:
        raise
    except Exception as exc:
        # Plugins report a bad header with SyntaxError, OSError, ValueError,
        # struct.error, EOFError...: all mean the same thing here.
        raise TruncatedPhotoError(
            f"{shown} looks like {fmt} but its header is cut short or corrupt ({_one_line(exc)})"
        ) from exc


def _describe(image: ImageFile.ImageFile, fmt: str, fp: IO[bytes], path: Path, shown: str) -> _Probe:
    stored_width_px, stored_height_px = _stored_size(image, fmt)
    if stored_width_px < 1 or stored_height_px < 1:
        raise TruncatedPhotoError(f"{shown} declares an empty image ({stored_width_px}x{stored_height_px} px)")
    orientation = _orientation(image, fmt, fp)
    # libheif applies HEIF's own rotation/mirror boxes (which take precedence
    # over EXIF) and pillow-heif reports the EXIF value it superseded.
    to_apply = 1 if fmt == "HEIF" else orientation
    width_px, height_px = (
        (stored_height_px, stored_width_px) if to_apply >= 5 else (stored_width_px, stored_height_px)
    )
    bit_depth = _bit_depth(image, fmt, fp)
    header = PhotoHeader(
        path=path,
        width_px=width_px,
        height_px=height_px,
        orientation=orientation,
        format=fmt,
        mode=image.mode,
        bit_depth=bit_depth,
    )
    fp.seek(0)  # header helpers moved it; lazy decoders expect a fresh stream
    return _Probe(
        header=header,
        image=image,
        stored_width_px=stored_width_px,
        stored_height_px=stored_height_px,
        orientation_to_apply=to_apply,
        route=_route(fmt, image.mode, bit_depth),
    )


def _stored_size(image: ImageFile.ImageFile, fmt: str) -> tuple[int, int]:
    """Width and height of the pixels as stored, in px."""
    if fmt == "TIFF":
        # Pillow >= 11 reports (and decodes) TIFFs already rotated per their
        # orientation tag; the stored size is in the tags on every version.
        return int(image.tag_v2[256]), int(image.tag_v2[257])
    return image.size


def _route(fmt: str, mode: str, bit_depth: int) -> str:
    """Which decoder gets the pixels."""
    if fmt == "JPEG" and mode in ("RGB", "L"):
        return "cv2-jpeg"
    # Pillow keeps only the high byte of 16-bit colour samples; OpenCV keeps all.
    if fmt in ("PNG", "TIFF") and bit_depth == 16 and mode not in _UINT16_MODES:
        return "cv2-16bit"
    return "pil"


def _orientation(image: ImageFile.ImageFile, fmt: str, fp: IO[bytes]) -> int:
    """EXIF orientation 1-8; 1 when absent or invalid (as most viewers do)."""
    try:
        if fmt == "HEIF":
            value = image.info.get("original_orientation")
        elif fmt == "PNG" and "exif" not in image.info:
            # Pillow would decode the whole image to look for an eXIf chunk
            # stored after the pixel data; walking the chunks is enough.
            value = _orientation_from_exif_bytes(_walk_png(fp).exif)
        else:
            value = image.getexif().get(_EXIF_ORIENTATION_TAG)
    except Exception:
        # Malformed EXIF is common in edited photos; it must not make the
        # photo unreadable, and an unreadable tag means "no rotation".
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orientation_from_exif_bytes(exif: bytes | None) -> int | None:
    if not exif:
        return None
    parsed = Image.Exif()
    parsed.load(exif)
    return parsed.get(_EXIF_ORIENTATION_TAG)


def _bit_depth(image: ImageFile.ImageFile, fmt: str, fp: IO[bytes]) -> int:
    """Bits per sample of the file, rounded up to 8 or 16."""
    if image.mode in _UINT16_MODES:
        return 16
    if fmt == "PNG":
        fp.seek(24)  # IHDR bit-depth byte; Pillow does not expose it
        depth = fp.read(1)
        return 16 if depth == b"\x10" else 8
    if fmt == "TIFF":
        bits = image.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return 16 if max(bits) > 8 else 8
    if fmt == "HEIF":
        return 16 if int(image.info.get("bit_depth", 8)) > 8 else 8
    return 8


# --- guards ---------------------------------------------------------------------


def _check_declared_size(header: PhotoHeader, shown: str, max_pixels: int, min_side_px: int) -> None:
    width_px, height_px = header.width_px, header.height_px
    if header.pixels > max_pixels:
        raise PhotoTooLargeError(
            f"{shown} declares {width_px}x{height_px} px ({header.pixels / 1e6:.1f} megapixels), "
            f"above the limit of {max_pixels / 1e6:g} megapixels"
        )
    if min(width_px, height_px) < min_side_px:
        raise PhotoTooSmallError(
            f"{shown} is only {width_px}x{height_px} px; its shorter side must be at least {min_side_px} px"
        )


@contextlib.contextmanager
def _pil_bomb_guard(shown: str, *, pixels: int | None) -> Iterator[None]:
    """Turn Pillow's decompression-bomb error into ours; mute its warning.

    The warning is muted only for images above Pillow's own limit, which have
    already passed our ``max_pixels`` check (``catch_warnings`` touches
    process-wide state, so the common case avoids it).
    """
    try:
        pil_limit = Image.MAX_IMAGE_PIXELS
        if pixels is not None and pil_limit is not None and pixels > pil_limit:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                yield
        else:
            yield
    except Image.DecompressionBombError as exc:
        raise PhotoTooLargeError(
            f"{shown} exceeds Pillow's decompression-bomb limit ({_one_line(exc)})"
        ) from exc


def _check_complete(data: bytes, fmt: str, shown: str) -> None:
    """Refuse a JPEG or PNG whose data stops early (see the module notes)."""
    if fmt == "JPEG" and not _jpeg_is_complete(data):
        raise TruncatedPhotoError(f"{shown} is cut short or corrupt (its JPEG data has no end marker)")
    if fmt == "PNG" and not _walk_png(io.BytesIO(data)).complete:
        raise TruncatedPhotoError(f"{shown} is cut short or corrupt (its PNG chunks stop before IEND)")


def _jpeg_is_complete(data: bytes) -> bool:
    """Whether the first image of a JPEG stream reaches its EOI marker.

    Walks the marker segments from SOI; after each SOS header, jumps over
    the entropy-coded data to the next real marker (regex at C speed: ~3 ms
    for 8 MB). Data after EOI (MPF images, camera trailers) is ignored.
    """
    # Fast path (~4 ms saved on a 24 MP photo): a stream whose last bytes
    # are the EOI marker reached its end; a file cut short ends there only by
    # a 1-in-65536 chance. Trailers after EOI take the full walk below.
    if data[-2:] == b"\xff\xd9" and b"\xff\xda" in data[:65536]:
        return True
    pos, size, seen_scan = 2, len(data), False
    while pos + 1 < size:
        if data[pos] != 0xFF:
            # libjpeg skips stray bytes between segments; so do we.
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return False
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == _JPEG_EOI:
            return seen_scan
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:  # segments without a length
            pos += 2
        else:
            if pos + 4 > size:
                return False
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker == _JPEG_SOS:
                seen_scan = True
                found = _JPEG_MARKER_IN_SCAN.search(data, pos)
                if found is None:
                    return False
                pos = found.start()
    return False


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


# --- decoding -------------------------------------------------------------------


def _decode_stored(data: bytes, probe: _Probe, reduction: int, shown: str) -> tuple[np.ndarray, int]:
    """Reduced RGB uint8 pixels, shape (h, w, 3), and the orientation still to apply to them."""
    if probe.route == "cv2-jpeg":
        return _decode_jpeg_cv2(data, probe, reduction, shown), probe.orientation_to_apply
    if probe.route == "cv2-16bit":
        full, orientation_left = _decode_16bit_cv2(data, probe, shown)
    else:
        full, orientation_left = _decode_pil(probe, shown)
    return _reduce(full, reduction), orientation_left


def _jpeg_flags(reduction: int) -> int:
    colour = {
        1: cv2.IMREAD_COLOR,
        2: cv2.IMREAD_REDUCED_COLOR_2,
        4: cv2.IMREAD_REDUCED_COLOR_4,
        8: cv2.IMREAD_REDUCED_COLOR_8,
    }[reduction]
    if hasattr(cv2, "IMREAD_COLOR_RGB"):  # OpenCV >= 4.11 converts for free
        colour = (colour & ~cv2.IMREAD_COLOR) | cv2.IMREAD_COLOR_RGB
    return colour | cv2.IMREAD_IGNORE_ORIENTATION


def _decode_jpeg_cv2(data: bytes, probe: _Probe, reduction: int, shown: str) -> np.ndarray:
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), _jpeg_flags(reduction))
    except cv2.error as exc:
        raise TruncatedPhotoError(f"{shown} could not be decoded ({_one_line(exc)})") from exc
    if pixels is None:
        raise TruncatedPhotoError(f"{shown} is corrupt (OpenCV could not decode its JPEG data)")
    if not hasattr(cv2, "IMREAD_COLOR_RGB"):
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    expected = (-(-probe.stored_height_px // reduction), -(-probe.stored_width_px // reduction), 3)
    if pixels.shape != expected:
        raise TruncatedPhotoError(
            f"{shown} is corrupt (decoded {pixels.shape[1]}x{pixels.shape[0]} px, header says "
            f"{probe.stored_width_px}x{probe.stored_height_px} px)"
        )
    return pixels


def _decode_16bit_cv2(data: bytes, probe: _Probe, shown: str) -> tuple[np.ndarray, int]:
    """Full-size RGB uint8 pixels of a 16-bit PNG/TIFF and the orientation still to apply."""
    # IMREAD_UNCHANGED keeps 16 bits and alpha and skips EXIF orientation,
    # but OpenCV's TIFF decoder may still apply the TIFF orientation tag.
    orientation_left = probe.orientation_to_apply
    if probe.header.format == "TIFF" and _opencv_orients_16bit_tiff(orientation_left):
        orientation_left = 1
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise TruncatedPhotoError(f"{shown} could not be decoded ({_one_line(exc)})") from exc
    if pixels is None or pixels.dtype != np.uint16:
        raise TruncatedPhotoError(f"{shown} is corrupt (OpenCV could not decode its 16-bit data)")
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    elif pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)
    return _to_rgb8(pixels, 65535), orientation_left


@functools.lru_cache(maxsize=None)
def _opencv_orients_16bit_tiff(orientation: int) -> bool:
    """Whether this OpenCV applies a 16-bit TIFF's orientation tag itself.

    OpenCV's TIFF decoder has treated the tag differently across versions
    (ignored, vertical flips only, all eight values), whatever the IMREAD
    flags, so it is asked once per value with a 3 x 2 px probe image.
    """
    if orientation == 1:
        return False
    stored = (np.arange(18, dtype=np.uint16) * 1000).reshape(2, 3, 3)
    decoded = cv2.imdecode(np.frombuffer(_tiff_16bit_rgb(stored, orientation), np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.ndim != 3:
        return False
    return np.array_equal(decoded[:, :, ::-1], _apply_orientation(stored, orientation))


def _tiff_16bit_rgb(rgb16: np.ndarray, orientation: int) -> bytes:
    """An uncompressed little-endian 16-bit RGB TIFF (in memory) with an orientation tag."""
    height_px, width_px, _ = rgb16.shape
    pixels = rgb16.astype("<u2").tobytes()
    bits_at = 8 + 2 + 12 * 11 + 4
    pixels_at = bits_at + 6
    entries = [  # (tag, type: 3 = SHORT / 4 = LONG, count, value or offset)
        (256, 4, 1, width_px), (257, 4, 1, height_px), (258, 3, 3, bits_at), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, 1, pixels_at), (274, 3, 1, orientation), (277, 3, 1, 3),
        (278, 4, 1, height_px), (279, 4, 1, len(pixels)), (284, 3, 1, 1),
    ]  # fmt: skip
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        field = struct.pack("<HH", value, 0) if kind == 3 and count == 1 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + field
    header = b"II*\x00" + struct.pack("<I", 8)
    return header + ifd + struct.pack("<I", 0) + struct.pack("<HHH", 16, 16, 16) + pixels


def _decode_pil(probe: _Probe, shown: str) -> tuple[np.ndarray, int]:
    """Full-size RGB uint8 pixels and the orientation still to apply to them."""
    image = probe.image
    try:
        tagged = _has_orientation_tag(image)
        with _pil_bomb_guard(shown, pixels=probe.header.pixels):
            image.load()
        # Pillow >= 11 rotates a TIFF while loading it and then drops the tag.
        oriented_by_pillow = tagged and not _has_orientation_tag(image)
        pixels, max_value = _pil_pixels(image, shown)
    except LipsymError:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        # Decoders signal bad data with OSError, ValueError (libheif),
        # SyntaxError, zlib.error, EOFError...: all mean an unusable file.
        raise TruncatedPhotoError(f"{shown} is cut short or corrupt ({_one_line(exc)})") from exc
    return _to_rgb8(pixels, max_value), 1 if oriented_by_pillow else probe.orientation_to_apply


def _has_orientation_tag(image: ImageFile.ImageFile) -> bool:
    tags = getattr(image, "tag_v2", None)
    return tags is not None and _EXIF_ORIENTATION_TAG in tags


def _pil_pixels(image: Image.Image, shown: str) -> tuple[np.ndarray, int]:
    """Samples of a loaded Pillow image as (h, w[, c]) array and maximum sample value."""
    mode = image.mode
    if mode in _UINT16_MODES:
        return np.asarray(image).astype(np.uint16), 65535
    if mode == "P":
        # Palette transparency is only honoured through an RGBA conversion.
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in _PIL_CONVERSIONS:
        image = image.convert(_PIL_CONVERSIONS[mode])
    elif mode not in _DIRECT_MODES:
        raise NotAnImageError(f"{shown} uses colour mode {mode!r}, which lipsym does not read (expected 8/16-bit)")
    return np.asarray(image), 255


def _to_rgb8(pixels: np.ndarray, max_value: int) -> np.ndarray:
    """(h, w[, c]) gray/GA/RGB/RGBA samples in [0, max_value] -> (h, w, 3) uint8 RGB.

    Alpha is composited over white.
    """
    samples = pixels if pixels.ndim == 3 else pixels[:, :, None]
    if samples.shape[2] in (2, 4):
        colour, alpha = samples[:, :, :-1], samples[:, :, -1:]
        opaque = alpha.min() == max_value  # common for RGBA PNGs; skips float work
        rgb = _to_8bit(colour, max_value) if opaque else _composite_over_white(colour, alpha, max_value)
    else:
        rgb = _to_8bit(samples, max_value)
    if rgb.shape[2] == 1:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(rgb)


def _to_8bit(samples: np.ndarray, max_value: int) -> np.ndarray:
    if max_value == 255:
        return samples.astype(np.uint8, copy=False)
    # round(v * 255 / 65535) == round(v / 257), exactly, in integers.
    return ((samples.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _composite_over_white(colour: np.ndarray, alpha: np.ndarray, max_value: int) -> np.ndarray:
    opacity = alpha.astype(np.float32) / np.float32(max_value)
    mixed = colour.astype(np.float32) * opacity + np.float32(max_value) * (1.0 - opacity)
    return np.rint(mixed * np.float32(255.0 / max_value)).astype(np.uint8)


def _reduce(rgb: np.ndarray, reduction: int) -> np.ndarray:
    """Block-average by ``reduction`` with the same geometry as libjpeg's DCT scaling.

    The image is padded to a multiple of ``reduction`` by edge replication, so
    output pixel ``x`` averages input pixels ``[r * x, r * x + r)`` and the
    output size is ``ceil(size / r)``, as for JPEG.
    """
    if reduction == 1:
        return rgb
    height_px, width_px = rgb.shape[:2]
    out_h, out_w = -(-height_px // reduction), -(-width_px // reduction)
    padded = cv2.copyMakeBorder(
        rgb, 0, out_h * reduction - height_px, 0, out_w * reduction - width_px, cv2.BORDER_REPLICATE
    )
    return cv2.resize(padded, (out_w, out_h), interpolation=cv2.INTER_AREA)


# Whether each upright axis (x, y) runs against the stored axis it comes from.
_REVERSED_AXES = {
    1: (False, False),
    2: (True, False),
    3: (True, True),
    4: (False, True),
    5: (False, False),
    6: (True, False),
    7: (True, True),
    8: (False, True),
}


def _grid_offset_px(orientation: int, reduction: int, shape: tuple[int, ...], header: PhotoHeader) -> tuple[int, int]:
    """Where the reduced grid starts before the upright photo's edge, in original px (x, y)."""
    reversed_x, reversed_y = _REVERSED_AXES[orientation]
    pad_x_px = reduction * shape[1] - header.width_px
    pad_y_px = reduction * shape[0] - header.height_px
    return (pad_x_px if reversed_x else 0, pad_y_px if reversed_y else 0)


def _apply_orientation(stored: np.ndarray, orientation: int) -> np.ndarray:
    """Pixels as displayed for an EXIF orientation tag (1-8); a new contiguous array."""
    if orientation == 1:
        return np.ascontiguousarray(stored)
    if orientation == 2:
        return cv2.flip(stored, 1)
    if orientation == 3:
        return cv2.rotate(stored, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(stored, 0)
    if orientation == 5:
        return cv2.transpose(stored)
    if orientation == 6:
        return cv2.rotate(stored, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(stored), cv2.ROTATE_180)
    return cv2.rotate(stored, cv2.ROTATE_90_COUNTERCLOCKWISE)
