"""Checks shared by the report tests: HTML structure, PDF text, PNG content and metadata.

(Helpers only; the tests that use them are in test_report.py and test_report_cli.py.)
"""

from __future__ import annotations

import base64
import io
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from PIL import Image

#: PNG chunks lipsym writes: nothing that could carry text or EXIF.
ALLOWED_PNG_CHUNKS = {b"IHDR", b"pHYs", b"IDAT", b"IEND"}
DATA_URI = "data:image/png;base64,"


def png_chunks(png: bytes) -> list[bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        chunks.append(png[pos + 4:pos + 8])
        pos += 12 + length
    return chunks


def assert_png_clean(png: bytes) -> None:
    """No metadata chunk (tEXt, iTXt, zTXt, eXIf, tIME, iCCP ...)."""
    extra = set(png_chunks(png)) - ALLOWED_PNG_CHUNKS
    assert not extra, f"PNG carries metadata chunks {extra}"
    with Image.open(io.BytesIO(png)) as im:
        assert not im.getexif() and set(im.info) <= {"dpi"}


def png_array(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGB"))


def assert_not_blank(png: bytes, min_size=(400, 300)) -> np.ndarray:
    rgb = png_array(png)
    assert rgb.shape[1] >= min_size[0] and rgb.shape[0] >= min_size[1], rgb.shape
    assert rgb.std() > 20, "image is (nearly) uniform"
    return rgb


def colour_near(rgb: np.ndarray, xy, colour_hex: str, radius: int = 6, tol: float = 40.0) -> bool:
    """Whether a pixel within ``radius`` of ``xy`` has (about) the given colour."""
    target = np.array([int(colour_hex[i:i + 2], 16) for i in (1, 3, 5)], float)
    x, y = int(round(xy[0])), int(round(xy[1]))
    patch = rgb[max(y - radius, 0):y + radius + 1, max(x - radius, 0):x + radius + 1].astype(float)
    return bool((np.linalg.norm(patch - target, axis=-1) < tol).any())


class _HTMLCensus(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.tables, self.tags, self.urls = [], 0, set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "table":
            self.tables += 1
        for key in ("href", "src", "action", "poster"):
            if key in attrs and not str(attrs[key]).startswith("data:"):
                self.urls.append(attrs[key])


def check_html(html: str, *, min_images: int, min_tables: int) -> list[bytes]:
    """Self-contained: every image a data: URI, no URL anywhere, no script or external style."""
    census = _HTMLCensus()
    census.feed(html)
    assert "http://" not in html and "https://" not in html
    assert not census.urls, census.urls
    assert not census.tags & {"script", "link", "iframe", "object", "embed"}
    assert "@import" not in html and "url(" not in html
    assert len(census.images) >= min_images and census.tables >= min_tables
    pngs = []
    for src in census.images:
        assert src.startswith(DATA_URI), src[:40]
        png = base64.b64decode(src[len(DATA_URI):])
        assert_png_clean(png)
        pngs.append(png)
    return pngs


def pdf_text(pdf: bytes) -> tuple[int, str, dict]:
    """(page count, all text, document info) of a PDF, via pypdf."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), " ".join(text.split()), dict(reader.metadata or {})


def check_pdf(pdf: bytes, *, min_pages: int, expected: list[str]) -> str:
    assert pdf.startswith(b"%PDF")
    pages, text, info = pdf_text(pdf)
    assert pages >= min_pages
    assert not set(info) & {"/Producer", "/Creator", "/CreationDate", "/ModDate", "/Author"}, info
    for needle in expected:
        assert " ".join(needle.split()) in text, needle
    return text


def no_secret_anywhere(directory: Path, secrets: list[bytes]) -> None:
    """No output file carries any of the input photo's metadata strings (also inside embedded PNGs).

    Secrets must be long enough not to occur by chance in compressed data
    (a 3-byte string does, in a few MB of PNG).
    """
    for f in directory.iterdir():
        data = f.read_bytes()
        blobs = [data]
        if f.suffix == ".html":
            blobs += [base64.b64decode(chunk.split(b'"')[0]) for chunk in data.split(DATA_URI.encode())[1:]]
        for blob in blobs:
            for s in secrets:
                assert s not in blob, f"{f.name} carries {s!r}"
            assert b"Exif\x00\x00" not in blob, f"{f.name} carries an EXIF block"
        if f.suffix == ".png":
            assert_png_clean(data)
