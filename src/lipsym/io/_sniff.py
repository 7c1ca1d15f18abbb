"""Format detection by content (never by file name) and opening with the format's own Pillow plugin."""

from __future__ import annotations

from typing import IO

from PIL import BmpImagePlugin, Image, ImageFile, JpegImagePlugin, PngImagePlugin, TiffImagePlugin, WebPImagePlugin

from lipsym.errors import LipsymError, TruncatedPhotoError
from lipsym.io._files import _one_line
from lipsym.io._limits import _pil_bomb_guard
from lipsym.io._png import _PNG_SIGNATURE

#: Formats load_photo accepts, as reported in ``Photo.format``.
SUPPORTED_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "HEIF")

_SUPPORTED_TEXT = "JPEG, PNG, TIFF, WebP, BMP or HEIC/HEIF"
_HEIF_BRANDS_HINT = b"ftyp"

_PIL_FACTORIES = {
    # jpeg_factory also returns multi-picture (MPO) files, as their primary image.
    "JPEG": JpegImagePlugin.jpeg_factory,
    "PNG": PngImagePlugin.PngImageFile,
    "TIFF": TiffImagePlugin.TiffImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
}


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
