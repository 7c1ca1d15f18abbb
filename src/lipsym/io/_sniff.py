"""Format detection by content (never by file name) and opening with the format's own Pillow plugin.

The six photo formats are recognised by their signatures here; any other
image Pillow identifies by its signature (GIF, PPM/PGM, ICO, QOI, PSD,
JPEG 2000, SGI, ...) is accepted too, through the same Pillow route. A GIF
named ``smile.png`` therefore loads as the GIF it is. Refused: Pillow formats
whose plugin runs an external program (EPS, through Ghostscript), and formats
that only OpenCV reads (Radiance HDR, OpenEXR, PFM): those are floating-point
scene data, not photographs, and OpenCV cannot report their size without
decoding them, which would bypass the size guard.
"""

from __future__ import annotations

import warnings
from typing import IO

from PIL import BmpImagePlugin, Image, ImageFile, JpegImagePlugin, PngImagePlugin, TiffImagePlugin, WebPImagePlugin

from lipsym.errors import LipsymError, TruncatedPhotoError
from lipsym.io._files import _one_line
from lipsym.io._limits import _pil_bomb_guard
from lipsym.io._png import _PNG_SIGNATURE
from lipsym.io._strict import pil_log_captured, raise_if_damaged

#: Photo formats recognised by signature, as reported in ``Photo.format``;
#: other images Pillow identifies by content are reported by Pillow's name
#: for their format (e.g. ``"GIF"``).
SUPPORTED_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "HEIF")

# Names the photo formats only (other Pillow formats are accepted too): the
# message is matched verbatim by the CLI and batch tests.
_SUPPORTED_TEXT = "JPEG, PNG, TIFF, WebP, BMP or HEIC/HEIF"
# Pillow formats never opened: EPS hands the file to Ghostscript.
_REFUSED_PIL_FORMATS = frozenset({"EPS"})
_HEIF_BRANDS_HINT = b"ftyp"

_PIL_FACTORIES = {
    # jpeg_factory also returns multi-picture (MPO) files, as their primary image.
    "JPEG": JpegImagePlugin.jpeg_factory,
    "PNG": PngImagePlugin.PngImageFile,
    "TIFF": TiffImagePlugin.TiffImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
}


def _sniff_formats(prefix: bytes) -> list[str]:
    """Formats whose signature starts ``prefix``, most likely first; empty for none.

    A photo format's signature is unambiguous (one candidate); among other
    Pillow formats two plugins may claim the same bytes (CUR and TGA both
    start ``00 00 02 00``), so the caller tries each in turn.
    """
    fmt = _photo_format(prefix)
    return [fmt] if fmt is not None else _other_pil_formats(prefix)


def _photo_format(prefix: bytes) -> str | None:
    """The photo format whose signature starts ``prefix``, or None."""
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


def _other_pil_formats(prefix: bytes) -> list[str]:
    """The other Pillow formats whose signature check accepts ``prefix``, in Pillow's order.

    Only plugins with a signature check are asked (Pillow also tries
    plugins without one, such as TGA, which would take random bytes for
    an image). Pillow reports "recognised but unsupported" as a string.
    """
    Image.init()
    found = []
    for fmt in Image.ID:
        if fmt in _PIL_FACTORIES or fmt in _REFUSED_PIL_FORMATS or fmt == "HEIF":
            continue
        _factory, accept = Image.OPEN[fmt]
        if accept is None:
            continue
        try:
            verdict = accept(prefix)
        except Exception:  # a plugin's check choking on a short prefix means "not mine"
            continue
        if verdict and not isinstance(verdict, str):
            found.append(fmt)
    return found


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
    factory = _PIL_FACTORIES[fmt] if fmt in _PIL_FACTORIES else Image.OPEN[fmt][0]
    try:
        # Plugins warn about damaged headers (a TIFF tag pointing past the
        # end of the file): those warnings are errors, the others are dropped.
        logged: list[str] = []
        with warnings.catch_warnings(record=True) as caught, _pil_bomb_guard(shown, pixels=None), \
                pil_log_captured(logged):
            warnings.simplefilter("always")
            image = factory(fp, "")
        raise_if_damaged([str(warning.message) for warning in caught] + logged, shown, fmt)
        return image
    except LipsymError:
        raise
    except Exception as exc:
        # Plugins report a bad header with SyntaxError, OSError, ValueError,
        # struct.error, EOFError...: all mean the same thing here.
        raise TruncatedPhotoError(
            f"{shown} looks like {fmt} but its header is cut short or corrupt ({_one_line(exc)})"
        ) from exc
