"""What a photo's header declares, read without decoding any pixel, and the decode route it implies."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import ImageFile

from lipsym.errors import NotAnImageError, TruncatedPhotoError
from lipsym.io._exif import _orientation
from lipsym.io._files import StrPath, _io_error, _shown, _stat_regular_file
from lipsym.io._pixels import _UINT16_MODES
from lipsym.io._sniff import _SUPPORTED_TEXT, _open_pil, _sniff_formats

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
        One of :data:`SUPPORTED_FORMATS`, or Pillow's name for another format
        it identified by content (e.g. ``"GIF"``).
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


@dataclass
class _Probe:
    """A header read plus what decoding needs (internal)."""

    header: PhotoHeader
    image: ImageFile.ImageFile
    stored_width_px: int  # as the pixels are stored, before any orientation
    stored_height_px: int
    orientation_to_apply: int  # 1 for HEIF: libheif applies it while decoding
    route: str  # "cv2-jpeg", "cv2-16bit" or "pil"


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


def _probe(fp: IO[bytes], path: Path, shown: str) -> _Probe:
    """Identify the format and read the header of an open photo file."""
    prefix = fp.read(32)
    fp.seek(0)
    if not prefix:
        raise NotAnImageError(f"{shown} is empty, not a photo")
    candidates = _sniff_formats(prefix)
    if not candidates:
        raise NotAnImageError(f"{shown} is not a photo in a supported format ({_SUPPORTED_TEXT})")
    for fmt in candidates:
        try:
            image = _open_pil(fp, fmt, shown)
            break
        except TruncatedPhotoError:
            if fmt == candidates[-1]:
                raise
            fp.seek(0)  # the next candidate plugin reads from the start
    try:
        return _describe(image, fmt, fp, path, shown)
    except BaseException:
        image.close()
        raise


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
