"""Robust photo loading: formats, EXIF orientation, size guards, reduced decoding.

Every photo lipsym measures enters through :func:`load_photo`. It returns a
:class:`Photo`: upright (EXIF orientation applied), 8-bit RGB, possibly
decoded at 1/2, 1/4 or 1/8 resolution, together with the size of the
ORIGINAL upright photo. Every coordinate lipsym reports is in original-photo
pixels; :meth:`Photo.to_original_px` converts from the decoded array.

Decisions
---------
* Formats: decided by content, never by the file name: JPEG, PNG, TIFF,
  WebP, BMP and HEIC/HEIF by their signatures, and any other image Pillow
  identifies by its signature (GIF, PPM, QOI, PSD, JPEG 2000...). Refused
  (:class:`~lipsym.errors.NotAnImageError`): EPS, whose Pillow plugin runs
  Ghostscript, and what only OpenCV reads (see :mod:`lipsym.io._sniff`).
* Strictness: a decoder's report of damaged data is a
  :class:`~lipsym.errors.CorruptPhotoError`, never a line on stderr
  (:mod:`lipsym.io._strict`); PNGs are checked chunk by chunk (CRC, zlib,
  row count).
* Memory: a fixed ceiling per photo (:data:`~lipsym.io._limits.MEMORY_CEILING_BYTES`),
  checked from the header before decoding; JPEG and PNG never hold the
  full-size image; a :class:`MemoryError` becomes that photo's
  :class:`~lipsym.errors.PhotoTooLargeError`. See docs/photos.md.
* Transparency is composited over WHITE (not dropped), in integers, strip
  by strip: a cut-out portrait then looks as it does in a viewer, instead of
  showing whatever colour the editor left in fully transparent pixels.
* 16-bit samples become 8-bit by rounding ``v * 255 / 65535``, never by
  clipping or by keeping the high byte.
* No colour management: embedded ICC profiles (Adobe RGB, Display P3) are
  not applied; landmark detection does not need it.
* JPEG pixels are decoded with OpenCV (2-3x faster than Pillow, and libjpeg's
  DCT scaling makes reduced decoding almost free); PNG by our strip decoder
  (:mod:`lipsym.io._png`, libpng unfiltering each strip); Pillow (and
  pillow-heif) decode the other formats and the JPEG modes OpenCV gets wrong
  (CMYK); 16-bit colour TIFF goes to OpenCV because Pillow keeps only its
  high byte. OpenCV's EXIF handling is switched off and the orientation
  Pillow reads from the header is applied by this module, after any
  reduction, so all paths agree. Exception: Pillow >= 11 and OpenCV 5 rotate
  TIFFs themselves whatever the flags; that is detected (Pillow drops the
  tag, OpenCV is asked once with a tiny probe TIFF) and not applied twice.
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

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipsym.errors import ConfigurationError, PhotoTooLargeError
from lipsym.io._decode import _check_complete, _decode_stored
from lipsym.io._exif import _REVERSED_AXES, _apply_orientation
from lipsym.io._files import StrPath, _check_file_size, _max_file_bytes, _read_bytes, _shown
from lipsym.io._header import PhotoHeader, _probe
from lipsym.io._limits import MAX_PIXELS, MIN_SIDE_PX, REDUCTIONS, _check_declared_size, _check_load_arguments

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
        ``"JPEG"``, ``"PNG"``, ``"TIFF"``, ``"WEBP"``, ``"BMP"``, ``"HEIF"``,
        ``"ARRAY"`` (in-memory), or Pillow's name for another format (e.g. ``"GIF"``).
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
        Photo file (JPEG, PNG, TIFF, WebP, BMP, HEIC/HEIF, or any image Pillow
        identifies by content).
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
    CorruptPhotoError
        The data is damaged: a decoder reported corrupt data, a premature end
        or missing rows, or the pixels fail the plausibility check.
    PhotoTooLargeError
        Also when decoding would exceed the memory ceiling, or ran out of memory.
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
        rgb = _apply_orientation(stored, orientation_left)
    except MemoryError as exc:
        # The ceiling is an estimate, and other photos may share the process:
        # this photo fails, the caller's other photos still get analysed.
        raise PhotoTooLargeError(f"{shown} ran out of memory while decoding ({probe.header.width_px}x"
                                 f"{probe.header.height_px} px, {probe.header.format})") from exc
    finally:
        probe.image.close()
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


def _grid_offset_px(orientation: int, reduction: int, shape: tuple[int, ...], header: PhotoHeader) -> tuple[int, int]:
    """Where the reduced grid starts before the upright photo's edge, in original px (x, y)."""
    reversed_x, reversed_y = _REVERSED_AXES[orientation]
    pad_x_px = reduction * shape[1] - header.width_px
    pad_y_px = reduction * shape[0] - header.height_px
    return (pad_x_px if reversed_x else 0, pad_y_px if reversed_y else 0)
