"""Render a report :class:`~lipsym.report.Document` as one self-contained HTML file.

Images are embedded as ``data:image/png;base64`` URIs and the style sheet is
inline: the file opens offline and references nothing outside itself (no
fonts, scripts or style sheets from the network). Every text from the user
or the data is escaped.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Mapping

from lipsym.report._blocks import Bullets, Document, Image, Paragraph, Section, Table

_CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 60em;
       color: #111; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0; }
h2 { font-size: 1.2em; border-bottom: 1px solid #999; margin-top: 1.6em; }
.subtitle { color: #444; margin-top: 0.2em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; width: 100%; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.4em; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 0.3em 0; }
figure { margin: 0.8em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { font-size: 0.85em; color: #333; }
.note { font-size: 0.85em; color: #444; }
.warning { background: #F0E442; padding: 0.3em 0.6em; }
h2 { break-after: avoid; }
/* Printing: no page size is forced, so A4 and Letter both print from the browser's dialog; margins fit both.
   Images are capped in height so that a figure and its caption share a page; only the detail starts a page. */
@page { margin: 14mm 12mm; }
@media print { body { margin: 0; max-width: none; font-size: 10pt; } section.new-page { break-before: page; }
               figure, tr, caption { break-inside: avoid; } table { font-size: 8pt; }
               figure img { max-height: 120mm; object-fit: contain; object-position: left; }
               h2, caption { break-after: avoid; }
               /* The summary is one page: its tables are set tighter. */
               body > section:first-of-type table { font-size: 7pt; }
               body > section:first-of-type td, body > section:first-of-type th { padding: 0.05em 0.25em; }
               body > section:first-of-type p { margin: 0.3em 0; } }
"""


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _block(block, images: Mapping[str, bytes]) -> str:
    if isinstance(block, Paragraph):
        return f'<p class="{escape(block.kind)}">{escape(block.text)}</p>'
    if isinstance(block, Bullets):
        items = "".join(f"<li>{escape(i)}</li>" for i in block.items)
        return f'<ul class="{escape(block.kind)}">{items}</ul>'
    if isinstance(block, Table):
        cap = f"<caption>{escape(block.caption)}</caption>" if block.caption else ""
        head = "" if not any(block.header) else "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in block.header) \
            + "</tr></thead>"
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows)
        return f"<table>{cap}{head}<tbody>{body}</tbody></table>"
    if isinstance(block, Image):
        alt = escape(block.caption or block.name)
        # The PDF's width fraction: a small image on the summary stays small in print too.
        return (f'<figure><img src="{data_uri(images[block.name])}" alt="{alt}" '
                f'style="width: {100 * block.width_fraction:.0f}%">'
                f"<figcaption>{escape(block.caption)}</figcaption></figure>")
    raise TypeError(f"unknown report block {type(block).__name__}")


def _section(section: Section, images: Mapping[str, bytes]) -> str:
    cls = ' class="new-page"' if section.new_page else ""
    inner = "\n".join(_block(b, images) for b in section.blocks)
    return f"<section{cls}><h2>{escape(section.title)}</h2>\n{inner}\n</section>"


def render_html(doc: Document, images: Mapping[str, bytes]) -> str:
    """The report as one HTML page.

    Parameters
    ----------
    doc : Document
    images : mapping of str to bytes
        Figure file name → PNG bytes (every :class:`Image` block's ``name``).
    """
    sections = "\n".join(_section(s, images) for s in doc.sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(doc.title)}{' – ' + escape(doc.subtitle) if doc.subtitle else ''}</title>\n"
            f"<style>{_CSS}</style>\n</head>\n<body>\n<h1>{escape(doc.title)}</h1>\n"
            f'<p class="subtitle">{escape(doc.subtitle)}</p>\n{sections}\n</body>\n</html>\n')
