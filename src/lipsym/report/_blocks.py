"""The report's content as plain blocks, rendered alike to HTML and to PDF.

Building the content once (:mod:`lipsym.report`) and rendering it
twice (:mod:`lipsym.report`, :mod:`lipsym.report`) keeps the two
formats saying the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of text; ``kind`` ``"note"`` is shown smaller, ``"warning"`` highlighted."""

    text: str
    kind: str = "text"


@dataclass(frozen=True)
class Bullets:
    """A list of one-line items."""

    items: tuple[str, ...]
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """A table of strings; the first column is the row label."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    col_widths: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Image:
    """One of the report's PNG figures, by file name."""

    name: str
    caption: str = ""
    width_fraction: float = 1.0


@dataclass(frozen=True)
class Section:
    """A titled section; ``new_page`` starts it on a new PDF page."""

    title: str
    blocks: tuple = field(default_factory=tuple)
    new_page: bool = False


@dataclass(frozen=True)
class Document:
    """The whole report: a title, a subtitle line, sections."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
