"""GIF: the first image's LZW stream must decode to exactly its pixels.

A GIF has no checksum. A changed byte in its LZW data, or in the length of
one of the sub-blocks that carry it, leaves a stream that Pillow still
decodes: the codes after the damage build other strings than the
encoder's, so every later pixel is shifted or recoloured, and the surplus
pixels (or the missing ones) go unremarked (benchmarks/fuzz_measured.py:
GIF face mutants measured with the mouth corners moved by up to 0.7 mm).
What such damage cannot keep is the count: the encoder wrote exactly
``width × height`` pixels before its end-of-information code, and a
diverged dictionary decodes to another number of them. The check walks the
first image's sub-blocks and counts the pixels its codes decode to (the
string lengths only, no pixels), and refuses a count that is not the
image's. It is the format's own rule (GIF89a, section 22 and appendix F),
not a heuristic: a conforming writer passes it (Pillow's and OpenCV's,
tests/test_photo_structure.py).

Cost: one Python step per LZW code, on top of Pillow's decode (2 December
2026): 0.06 s for a 750 × 900 face, 0.4 s for a 4000 × 3000 photographic
GIF, 0.8 s for 2000 × 2000 of noise (about one code per 2 pixels; a noise
GIF at the 250-megapixel limit would take about a minute). GIF is no
camera's format, so the check is kept whole rather than sampled: damage
anywhere in the stream changes the count from there on.
"""

from __future__ import annotations

import struct

#: LZW codes are at most 12 bits (GIF89a appendix F).
_MAX_CODE_BITS = 12


def check_gif(data: bytes) -> str | None:
    """Why the first image of a GIF file is damaged, or None.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    str or None
        A reason for the message, e.g. "its LZW data decode to 674,881
        pixels, not the image's 675,000".

    Raises
    ------
    IndexError, struct.error
        When the structure runs past the end of the file (the caller words it).

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buffer = io.BytesIO()
    >>> Image.new("P", (64, 48), 3).save(buffer, "GIF")
    >>> check_gif(buffer.getvalue()) is None
    True
    """
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while True:
        block = data[pos]
        if block == 0x3B:  # trailer before any image
            return "it holds no image"
        if block == 0x21:  # extension: label, then sub-blocks
            _, pos = _sub_blocks(data, pos + 2)
            continue
        if block != 0x2C:
            return f"an unknown block 0x{block:02X} where an image or extension should start"
        width, height, image_flags = struct.unpack_from("<HHB", data, pos + 5)
        pos += 10 + (3 << ((image_flags & 7) + 1) if image_flags & 0x80 else 0)
        min_code_bits = data[pos]
        if not 2 <= min_code_bits <= 8:
            return f"an LZW minimum code size of {min_code_bits}"
        stream, _ = _sub_blocks(data, pos + 1)
        pixels = _lzw_pixel_count(stream, min_code_bits, width * height)
        if isinstance(pixels, str):
            return pixels
        if pixels != width * height:
            return f"its LZW data decode to {pixels:,} pixels, not the image's {width * height:,}"
        return None


def _sub_blocks(data: bytes, pos: int) -> tuple[bytes, int]:
    """The data of the sub-block chain starting at ``pos``, and the position after its 0 terminator."""
    parts = []
    while (size := data[pos]) != 0:
        parts.append(data[pos + 1:pos + 1 + size])
        pos += 1 + size
    return b"".join(parts), pos + 1


def _lzw_pixel_count(stream: bytes, min_code_bits: int, limit: int) -> int | str:
    """Pixels the LZW ``stream`` decodes to up to its end-of-information code, or why it cannot be decoded.

    Counting stops (and returns) once the count passes ``limit``: the
    stream is too long either way.
    """
    clear = 1 << min_code_bits
    end_code = clear + 1
    lengths = [1] * clear + [0, 0]  # string length per code; clear and end-of-information hold none
    code_bits, next_code, prev = min_code_bits + 1, end_code + 1, -1
    count = bits = held = 0
    for byte in stream:
        bits |= byte << held
        held += 8
        while held >= code_bits:
            code = bits & ((1 << code_bits) - 1)
            bits >>= code_bits
            held -= code_bits
            if code == clear:
                del lengths[end_code + 1:]
                code_bits, next_code, prev = min_code_bits + 1, end_code + 1, -1
                continue
            if code == end_code:
                return count
            if prev < 0:
                if code >= clear:
                    return f"an LZW code {code} where a literal must follow the clear code"
                count += 1
                prev = code
                continue
            if code < next_code:
                count += lengths[code]
            elif code == next_code:  # the string being defined (KwKwK)
                count += lengths[prev] + 1
            else:
                return f"an LZW code {code} that is not defined yet (next {next_code})"
            if next_code < 1 << _MAX_CODE_BITS:
                lengths.append(lengths[prev] + 1)
                next_code += 1
                if next_code == 1 << code_bits and code_bits < _MAX_CODE_BITS:
                    code_bits += 1
            prev = code
            if count > limit:
                return count
    return count
