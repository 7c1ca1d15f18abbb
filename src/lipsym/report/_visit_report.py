"""A visit report: the figures, one self-contained HTML file and a PDF.

:func:`build_report` draws every figure and renders both formats in memory;
:func:`write_report` writes them into a directory, refusing to replace an
existing file unless asked (:func:`lipsym.io.write_atomic`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

from lipsym import __version__
from lipsym.comparison._compare import MeasureChange
from lipsym.comparison._photos import compare_captures
from lipsym.errors import ConflictError
from lipsym.io._outputs import write_atomic
from lipsym.report._overlay import draw_overlay
from lipsym.report._before_after import comparison_png, plain_comparison_png
from lipsym.report._blocks import Section
from lipsym.report._content import ReportHeader, report_document
from lipsym.report._html import render_html
from lipsym.report._panel import rest_smile_png
from lipsym.report._pdf import render_pdf
from lipsym.report._photos import ReportVisit

HTML_NAME, PDF_NAME = "report.html", "report.pdf"
#: Figure widths (inches) at their printed size on A4 and Letter (the PDF's text is 7.07 in wide), so that
#: labels print at their nominal point size.
FACE_WIDTH_IN, PAGE_FIGURE_WIDTH_IN = 3.4, 7.0


@dataclass(frozen=True)
class VisitReport:
    """A rendered visit report.

    Attributes
    ----------
    figures : mapping of str to bytes
        File name → PNG bytes (``rest_lips.png``, ``rest_face.png``,
        ``smile_lips.png``, ``smile_face.png``, ``rest_smile.png``,
        ``comparison_rest.png``, ``comparison_smile.png``; those that apply).
    html : str
        Self-contained HTML (figures embedded).
    pdf : bytes
    changes : mapping of str to (mapping of str to MeasureChange)
        Expression → the comparison with the previous visit (empty without one).
    """

    figures: Mapping[str, bytes]
    html: str
    pdf: bytes
    changes: Mapping[str, Mapping[str, MeasureChange]]


def _changes(visit: ReportVisit, previous: ReportVisit) -> dict[str, dict[str, MeasureChange]]:
    couples = {"rest": (previous.rest, visit.rest)}
    if visit.smile is not None and previous.smile is not None:
        couples["smile"] = (previous.smile, visit.smile)
    # Two visits' photos are two captures (the MDC includes how differently they were taken).
    return {expression: compare_captures(b.analysis, a.analysis, b.measures, a.measures,
                                         allow_different_person=True).changes
            for expression, (b, a) in couples.items()}


def _silent(message: str) -> None:
    pass


def build_report(visit: ReportVisit, header: ReportHeader = ReportHeader(), previous: ReportVisit | None = None, *,
                 all_landmarks: bool = False, summary: Section | None = None, appendix: tuple[Section, ...] = (),
                 extra_figures: Mapping[str, bytes] | None = None,
                 progress: Callable[[str], None] = _silent) -> VisitReport:
    """Draw the figures and render the HTML and PDF report of a visit.

    Parameters
    ----------
    visit : ReportVisit
        This visit's rest photo (and smile photo with pair measures).
    header : ReportHeader
        Identifiers and free text, printed as given.
    previous : ReportVisit, optional
        A previous visit to compare with (rest with rest, smile with smile).
    all_landmarks : bool
        Also draw the 478 landmarks on the full-face overlays.
    summary : Section, optional
        Page 1 instead of the default summary (:func:`lipsym.report._content.summary_section`).
    appendix : tuple of Section
        Sections after the detail.
    extra_figures : mapping of str to bytes, optional
        Role → PNG of figures the summary or appendix shows (file ``ROLE.png``).
    progress : callable, optional
        Called with a short message as each step starts (the CLI prints them on stderr).
    """
    figures: dict[str, bytes] = {}
    roles: dict[str, str] = {}

    def add(role: str, png: bytes) -> None:
        roles[role] = f"{role}.png"
        figures[roles[role]] = png

    for role, png in (extra_figures or {}).items():
        add(role, png)
    for p in visit.photos:
        e = p.analysis.expression
        progress(f"drawing the {e} overlays")
        add(f"{e}_face", draw_overlay(p.rgb, p.analysis, p.measures, view="face", all_landmarks=all_landmarks,
                                      width_in=FACE_WIDTH_IN))
        add(f"{e}_lips", draw_overlay(p.rgb, p.analysis, p.measures, view="lips"))
    if visit.pair is not None:
        progress("drawing the rest/smile panel")
        # The report prints the static/dynamic table as text: the figure leaves it out.
        add("rest_smile", rest_smile_png(visit, width_in=PAGE_FIGURE_WIDTH_IN, with_table=False))
    changes = {}
    if previous is not None:
        progress("drawing the comparison with the previous visit")
        changes = _changes(visit, previous)
        if "plain" not in roles:
            add("plain", plain_comparison_png(previous.rest, visit.rest, labels=("previous visit", "this visit")))
        for e, (b, a) in (("rest", (previous.rest, visit.rest)), ("smile", (previous.smile, visit.smile))):
            if e in changes:
                title = f"{e}: previous visit → this visit" + (f" · {header.patient}" if header.patient else "")
                # The report prints the change table as text: the figure leaves out the table and the key changes.
                add(f"comparison_{e}", comparison_png(b, a, title=title, with_table=False, with_text=False,
                                                      width_in=PAGE_FIGURE_WIDTH_IN))
    doc = report_document(header, visit, roles, previous, changes, summary=summary, appendix=appendix)
    progress("rendering the HTML and the PDF")
    footer = f"lipsym {__version__} · measurements, not a diagnosis or treatment advice"
    return VisitReport(MappingProxyType(figures), render_html(doc, figures), render_pdf(doc, figures, footer),
                       MappingProxyType({k: MappingProxyType(v) for k, v in changes.items()}))


def write_report(report: VisitReport, directory: str | os.PathLike, *, overwrite: bool = False) -> list[Path]:
    """Write ``report.html``, ``report.pdf`` and the PNG figures into a directory.

    Nothing is written when any of the files exists and ``overwrite`` is False.

    Raises
    ------
    ConflictError
        A file exists and ``overwrite`` is False.
    """
    directory = Path(directory)
    files = {HTML_NAME: report.html, PDF_NAME: report.pdf, **report.figures}
    if not overwrite:
        existing = [name for name in files if (directory / name).exists()]
        if existing:
            raise ConflictError(f"{directory / existing[0]} exists; not overwriting the report (use --force to "
                                f"replace it)")
    return [write_atomic(directory / name, data, overwrite=overwrite) for name, data in files.items()]
