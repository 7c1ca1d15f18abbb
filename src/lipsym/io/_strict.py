"""Strict decoding: a decoder's complaint about damaged data is an error, never a line on stderr.

libjpeg, libpng, libtiff, libwebp and OpenCV report damaged data (a
premature end, corrupt entropy-coded data, missing rows) as *warnings*
printed to the C-level standard error, and still return an image, whose
lower part is then grey or shifted. Pillow reports some of the same problems
as Python warnings. Both kinds are captured around every decode here
(:func:`strict_decoding`) and turned into a :class:`~lipsym.errors.CorruptPhotoError`
with a one-line reason naming the file; messages that do not concern the
data (a benign metadata remark) are swallowed, not printed.

Capturing C-level output means pointing file descriptor 2 at a temporary
file for the duration of the decode: a process-wide change. A lock
serialises decodes that capture, and anything another thread writes to
stderr during that window is swallowed with the decoder's messages (lipsym
itself never prints from worker threads).

:func:`check_plausible` is the second line of defence, for damage that no
decoder noticed: a trailing band of flat mid-grey rows, which is what
libjpeg leaves where the data ran out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
import warnings
from typing import Iterator

import numpy as np

from lipsym.errors import CorruptPhotoError
from lipsym.io._files import _one_line

# What decoders say when the pixel data (not the metadata) is damaged:
# libjpeg "Corrupt JPEG data: ...", "Premature end of JPEG file"; libpng
# "IDAT: ...", "Not enough image data", "CRC error", "incorrect data check";
# libtiff "... Read error ..."; Pillow "Truncated File Read", "image file is
# truncated"; OpenCV "... can't read ..." / "Failed to decode".
_DAMAGE = re.compile(
    r"corrupt|premature|truncat|not enough|missing|too far back|incorrect data check"
    r"|invalid (?:distance|code|block|stored)"
    r"|crc error|idat|read error|decode|unexpected end|bad huffman|bogus|larger than file",
    re.IGNORECASE,
)
# Messages about metadata that leave the pixels intact.
_BENIGN = re.compile(r"exif|xmp|icc|iptc|metadata|tag \d+|unknown field|ascii value", re.IGNORECASE)

_capture_lock = threading.RLock()  # re-entrant: a nested capture must not deadlock


@contextlib.contextmanager
def _c_stderr_captured(into: list[str]) -> Iterator[None]:
    """Point fd 2 at a temporary file; collect what was written there."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError, OSError):
        pass
    with _capture_lock, tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
        sink.seek(0)
        text = sink.read(1 << 16).decode("utf-8", errors="replace")
    into.extend(line for line in text.splitlines() if line.strip())


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@contextlib.contextmanager
def pil_log_captured(into: list[str]) -> Iterator[None]:
    """Collect what Pillow logs (e.g. TIFF "More samples per pixel than can be decoded").

    Pillow's plugins report some damaged headers with ``logger.error``; with
    no logging configured, Python's last-resort handler would print them raw
    on stderr beside lipsym's one-line reason. Pillow's logger is detached
    from the root logger for the duration (a process-wide change, under the
    same lock as the stderr capture).
    """
    logger = logging.getLogger("PIL")
    handler = _Collect(into)
    with _capture_lock:
        propagate = logger.propagate
        logger.addHandler(handler)
        logger.propagate = False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.propagate = propagate


@contextlib.contextmanager
def strict_decoding(shown: str, what: str) -> Iterator[None]:
    """Run a decode; raise :class:`CorruptPhotoError` if any decoder reported damaged data.

    Parameters
    ----------
    shown : str
        The file as it goes into messages.
    what : str
        The data being decoded, for the message (e.g. ``"JPEG"``).
    """
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _c_stderr_captured(messages), pil_log_captured(messages):
            yield
    messages.extend(str(warning.message) for warning in caught
                    if not issubclass(warning.category, DeprecationWarning))
    raise_if_damaged(messages, shown, what)


def raise_if_damaged(messages: list[str], shown: str, what: str) -> None:
    """Raise :class:`CorruptPhotoError` for the first message that reports damaged data."""
    for message in messages:
        if _DAMAGE.search(message) and not _BENIGN.search(message):
            raise CorruptPhotoError(f"{shown} is corrupt (the {what} decoder reported: {_one_line(message)[:200]})")


def check_plausible(rgb: np.ndarray, shown: str, reduction: int = 1) -> None:
    """Refuse decoded JPEG pixels that end in a flat mid-grey band (data that ran out).

    libjpeg fills the MCU rows it had no data for with grey 128. A trailing
    band of at least 8 rows and 2 % of the height, every pixel exactly that
    grey, starting on an MCU-row boundary below rows that are not all grey,
    does not occur in a photograph (an image that is grey throughout is left
    alone: nothing in it says data ran out). Only the last row is inspected
    unless it already is flat grey, so the check costs nothing on normal photos.

    Parameters
    ----------
    rgb : numpy.ndarray, shape (h, w, 3), uint8
        Decoded pixels in stored orientation (the band is at the bottom of
        the data, whatever the EXIF orientation).
    shown : str
        The file as it goes into messages.
    reduction : int
        The decode's reduction: an 8-px MCU row is ``8 / reduction`` rows here.
    """
    height_px = rgb.shape[0]
    if height_px == 0 or not (rgb[-1] == 128).all():
        return
    content = np.flatnonzero(~(rgb == 128).all(axis=(1, 2)))
    if content.size == 0:
        return
    first_grey = int(content[-1]) + 1
    band_px = height_px - first_grey
    on_mcu_boundary = first_grey * reduction % 8 == 0
    if on_mcu_boundary and band_px >= max(8, 0.02 * height_px):
        raise CorruptPhotoError(
            f"{shown} is corrupt (its last {band_px} of {height_px} decoded rows are flat grey, "
            "where the image data ran out)"
        )
