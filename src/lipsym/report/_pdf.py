"""Render a report :class:`~lipsym.report.Document` as a PDF (A4, matplotlib PdfPages).

A small flow layout: blocks are placed top to bottom and a new page starts
when the next block does not fit. Fonts are embedded as TrueType (text stays
searchable and extractable); the PDF carries no creator, producer or date.
"""

from __future__ import annotations

import io
import textwrap
from typing import Mapping

import numpy as np

from lipsym.report._overlay import PDF_METADATA, YELLOW, new_figure
from lipsym.report._blocks import Bullets, Document, Image, Paragraph, Section, Table

PAGE_IN = (8.27, 11.69)  # A4 portrait
MARGIN_IN = 0.6
_BODY_PT, _NOTE_PT, _TABLE_PT, _H1_PT, _H2_PT = 9.0, 7.5, 7.0, 16.0, 12.0
_CHAR_W = 0.55  # average glyph width / font size (DejaVu Sans)


def _line_in(pt: float) -> float:
    return pt * 1.35 / 72


_BOLD_W = 1.12  # bold / regular glyph width
_MIN_SHRINK = 0.55  # an image may shrink to this fraction of its height to fit the rest of a page


def _chars(width_in: float, pt: float) -> int:
    return max(4, int(width_in * 72 / (_CHAR_W * pt)))


def _wrap(text: str, width_in: float, pt: float, words: bool = False) -> list[str]:
    """Lines of ``text`` that fit ``width_in``; with ``words`` a word is never split (columns are sized for it)."""
    chars = _chars(width_in, pt) if words else max(8, _chars(width_in, pt))
    if words:
        text = text.replace(" ± ", "\u00a0±\u00a0")  # a value and its SE stay on one line
    lines = []
    for para in text.splitlines() or [""]:
        lines += textwrap.wrap(para, chars, break_long_words=not words, break_on_hyphens=False) or [""]
    return lines


def _fit_words(t: Table, widths: np.ndarray) -> np.ndarray:
    """Column widths (in) widened so that each column's longest word fits, taken from the widest columns.

    Without it a narrow column splits a word across lines ("expressio n").
    """
    words = [max((len(w) * (_BOLD_W if r == 0 else 1.0) for w in str(c).replace(" ± ", "\u00a0±\u00a0").split(" ")),
                 default=0)
             for r, row in enumerate((t.header, *t.rows)) for c in row]
    n = len(widths)
    need = np.zeros(n)
    for i, w in enumerate(words):
        need[i % n] = max(need[i % n], w * _CHAR_W * _TABLE_PT / 72 + 0.1)
    total = widths.sum()
    wide = np.maximum(widths, need)
    excess, slack = wide.sum() - total, wide - need
    if excess > 0 and slack.sum() > 0:
        # Take the extra width from the columns with room to spare, in proportion to their room.
        wide = wide - slack * min(excess / slack.sum(), 1.0)
    return wide * total / wide.sum()


class _Flow:
    """Pages of a PdfPages file and a cursor (inches from the top of the page)."""

    def __init__(self, pdf, footer: str):
        self.pdf, self.footer, self.page, self.fig, self.y = pdf, footer, 0, None, 0.0
        self.fills: list[float] = []  # fraction of each page's text height used
        self.width = PAGE_IN[0] - 2 * MARGIN_IN

    def new_page(self) -> None:
        self.finish()
        self.page += 1
        self.fig = new_figure(*PAGE_IN)
        self.y = MARGIN_IN
        self.fig.text(0.5, 0.3 / PAGE_IN[1], f"{self.footer} · page {self.page}", ha="center", va="bottom",
                      fontsize=6.5, color="#444444")

    def finish(self) -> None:
        if self.fig is not None:
            self.fills.append((self.y - MARGIN_IN) / (PAGE_IN[1] - 2 * MARGIN_IN))
            self.pdf.savefig(self.fig)
            self.fig = None

    def room(self, height_in: float) -> None:
        """Start a new page unless ``height_in`` fits below the cursor."""
        if self.fig is None or self.y + height_in > PAGE_IN[1] - MARGIN_IN:
            self.new_page()

    def text(self, x_in: float, text: str, pt: float, **kw) -> None:
        self.fig.text(x_in / PAGE_IN[0], 1 - self.y / PAGE_IN[1], text, fontsize=pt, va="top", ha="left", **kw)

    def paragraph(self, text: str, pt: float = _BODY_PT, indent_in: float = 0.0, highlight: str | None = None,
                  **kw) -> None:
        from matplotlib.patches import Rectangle

        for line in _wrap(text, self.width - indent_in, pt):
            self.room(_line_in(pt))
            if highlight:
                # One band per line, edge to edge: per-text backgrounds would overlap the line above.
                self.fig.patches.append(Rectangle(
                    ((MARGIN_IN + indent_in - 0.04) / PAGE_IN[0], 1 - (self.y + _line_in(pt)) / PAGE_IN[1]),
                    (self.width - indent_in + 0.08) / PAGE_IN[0], _line_in(pt) / PAGE_IN[1],
                    transform=self.fig.transFigure, facecolor=highlight, edgecolor="none", zorder=-1))
            self.text(MARGIN_IN + indent_in, line, pt, **kw)
            self.y += _line_in(pt)
        self.y += 0.06

    def table(self, t: Table) -> None:
        """A table; a row never splits across pages and the header is repeated on a new page."""
        n = len(t.header)
        widths = np.array(t.col_widths or [1.0 / n] * n, dtype=float)
        widths = widths / widths.sum() * self.width
        widths = _fit_words(t, widths)
        has_header = any(t.header)
        if t.caption:
            # Keep the caption with the header and the first row.
            first = max(len(c) for c in self._cells(t.rows[0], widths, bold=False)) if t.rows else 1
            lines = len(_wrap(t.caption, self.width, _BODY_PT))
            self.room(lines * _line_in(_BODY_PT) + (first + 2) * _line_in(_TABLE_PT) + 0.2)
            self.paragraph(t.caption, _BODY_PT, weight="bold")
        for i, row in enumerate(t.rows):
            cells = self._cells(row, widths, bold=False)
            h = max(len(c) for c in cells) * _line_in(_TABLE_PT) + 0.06
            header_cells = self._cells(t.header, widths, bold=True) if has_header else None
            header_h = max(len(c) for c in header_cells) * _line_in(_TABLE_PT) + 0.06 if has_header else 0.0
            page = self.page
            self.room(h + (header_h if i == 0 else 0.0))
            if has_header and (i == 0 or self.page != page):
                self._row(header_cells, widths, header_h, header=True)
            self._row(cells, widths, h, header=False)
        self.y += 0.12

    @staticmethod
    def _cells(row, widths, bold: bool) -> list[list[str]]:
        # Bold glyphs are wider: wrap them earlier.
        return [_wrap(str(c), (w - 0.08) / _BOLD_W if bold else w - 0.08, _TABLE_PT, words=True)
                for c, w in zip(row, widths)]

    def _row(self, cells: list[list[str]], widths: np.ndarray, h: float, header: bool) -> None:
        from matplotlib.patches import Rectangle

        top = 1 - self.y / PAGE_IN[1]
        self.fig.patches.append(Rectangle((MARGIN_IN / PAGE_IN[0], top - h / PAGE_IN[1]), self.width / PAGE_IN[0],
                                          h / PAGE_IN[1], transform=self.fig.transFigure,
                                          facecolor="#E8E8E8" if header else "white", edgecolor="#BBBBBB", lw=0.4))
        x = MARGIN_IN + np.concatenate([[0.0], np.cumsum(widths)[:-1]])
        for xi, lines in zip(x, cells):
            self.fig.text((xi + 0.04) / PAGE_IN[0], top - 0.03 / PAGE_IN[1], "\n".join(lines), fontsize=_TABLE_PT,
                          va="top", ha="left", linespacing=1.2, weight="bold" if header else "normal")
        self.y += h

    def image(self, png: bytes, fraction: float, caption: str = "") -> None:
        """An image scaled to a fraction of the text width, kept on one page with its caption."""
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(png)) as im:
            rgb = np.asarray(im.convert("RGB"))
        caption_h = (len(_wrap(caption, self.width, _NOTE_PT)) * _line_in(_NOTE_PT) + 0.06) if caption else 0.0
        w = self.width * fraction
        h = w * rgb.shape[0] / rgb.shape[1]
        max_h = PAGE_IN[1] - 2 * MARGIN_IN - 0.6 - caption_h
        if h > max_h:
            w, h = w * max_h / h, max_h
        left = PAGE_IN[1] - MARGIN_IN - self.y - 0.05 - caption_h
        if self.fig is not None and h > left >= _MIN_SHRINK * h:
            # Shrink a little rather than leave most of a page empty.
            w, h = w * left / h, left
        self.room(h + 0.05 + caption_h)
        ax = self.fig.add_axes((MARGIN_IN / PAGE_IN[0], 1 - (self.y + h) / PAGE_IN[1], w / PAGE_IN[0], h / PAGE_IN[1]))
        ax.imshow(rgb, interpolation="none")
        ax.axis("off")
        self.y += h + 0.05
        if caption:
            self.paragraph(caption, _NOTE_PT)


def _section(flow: _Flow, s: Section, images: Mapping[str, bytes]) -> None:
    if s.new_page and flow.fig is not None and flow.y > MARGIN_IN + 1.5:
        flow.new_page()
    flow.room(0.9)  # keep a title with the start of its section
    flow.y += 0.12
    flow.text(MARGIN_IN, s.title, _H2_PT, weight="bold")
    flow.y += _line_in(_H2_PT) + 0.08
    for b in s.blocks:
        highlight = YELLOW if getattr(b, "kind", "") == "warning" else None
        if isinstance(b, Paragraph):
            flow.paragraph(b.text, _NOTE_PT if b.kind == "note" else _BODY_PT, highlight=highlight)
        elif isinstance(b, Bullets):
            for item in b.items:
                flow.paragraph("• " + item, _BODY_PT, indent_in=0.1, highlight=highlight)
        elif isinstance(b, Table):
            flow.table(b)
        elif isinstance(b, Image):
            flow.image(images[b.name], b.width_fraction, b.caption)
        else:
            raise TypeError(f"unknown report block {type(b).__name__}")


def render_pdf(doc: Document, images: Mapping[str, bytes], footer: str) -> bytes:
    """The report as PDF bytes (:func:`layout_pdf` without the page fills)."""
    return layout_pdf(doc, images, footer)[0]


def layout_pdf(doc: Document, images: Mapping[str, bytes], footer: str) -> tuple[bytes, list[float]]:
    """The report as PDF bytes, and how full each page is (0-1 of the text height; tests check for empty pages).

    Parameters
    ----------
    doc : Document
    images : mapping of str to bytes
        Figure file name → PNG bytes.
    footer : str
        Printed at the bottom of every page.
    """
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(buf, metadata=PDF_METADATA) as pdf:
        flow = _Flow(pdf, footer)
        flow.new_page()
        flow.text(MARGIN_IN, doc.title, _H1_PT, weight="bold")
        flow.y += _line_in(_H1_PT)
        if doc.subtitle:
            flow.paragraph(doc.subtitle, 11.0)
        for s in doc.sections:
            _section(flow, s, images)
        flow.finish()
    return buf.getvalue(), flow.fills
