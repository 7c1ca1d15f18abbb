"""What a visit report says: identifiers, figures, tables, summary, provenance.

Builds a :class:`~lipsym.report.Document` from analysed photos; the
HTML and PDF renderers only lay it out. Wording is decision support:
measurements and reference ranges, never a diagnosis or advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from lipsym import __version__
from lipsym.comparison._compare import KEY_MEASURES, Z95, MeasureChange
from lipsym.measures._pair import PairMeasures
from lipsym.measures._photo import PhotoMeasures
from lipsym.measures._registry import COMPOSITE_KEY, display_name, unit_label
from lipsym.report._overlay import flag_text
from lipsym.report._before_after import (
    CHANGE_COL_WIDTHS,
    CHANGE_HEADER,
    KEY_CHANGES_TITLE,
    change_rows,
    key_change_lines,
)
from lipsym.report._blocks import Bullets, Document, Image, Paragraph, Section, Table
from lipsym.report._panel import STATIC_DYNAMIC_HEADER, static_dynamic_rows
from lipsym.report._photos import ReportPhoto, ReportVisit

DISCLAIMER = ("These are measurements for decision support and research, not a diagnosis or treatment advice. "
              "Reference bands place a value among published ranges; they do not say what should be done.")
SIDES_NOTE = ("Right and left are always the subject's own sides. Every asymmetry is left − right: positive means "
              "the subject's left is larger, higher or further out.")


@dataclass(frozen=True)
class ReportHeader:
    """Identifiers given by the user, printed as given (nothing is looked up).

    Attributes
    ----------
    patient : str
    visit_date : str
    previous_visit_date : str
    note : str
        Free text.
    photo_credit : str
        Attribution of the photos where their licence asks for it.
    """

    patient: str = ""
    visit_date: str = ""
    previous_visit_date: str = ""
    note: str = ""
    photo_credit: str = ""


def model_versions(photo: ReportPhoto) -> dict[str, str]:
    """lipsym, MediaPipe and model identity of an analysed photo."""
    from importlib import metadata

    try:
        mp_version = metadata.version("mediapipe")
    except metadata.PackageNotFoundError:
        mp_version = "unknown"
    return {"lipsym": __version__, "MediaPipe": mp_version,
            "Face Landmarker model sha256": photo.analysis.landmarks.model_sha256}


def _fmt(value: float | None, digits: int = 2, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def measures_table(m: PhotoMeasures, caption: str) -> Table:
    """Every sided measure: right, left, left − right ± SE, % IPD, reference band; then the scalars.

    Names and units are the measure registry's (:mod:`lipsym.measures._registry`).
    """
    keys = [k for k in KEY_MEASURES if k in m.sided] + [k for k in m.sided if k not in KEY_MEASURES]
    rows = []
    for k in keys:
        s = m.sided[k]
        band = m.bands.get(k)
        rows.append((display_name(k), unit_label(s.unit), _fmt(s.right, sign=True), _fmt(s.left, sign=True),
                     f"{s.asymmetry:+.2f} ± {s.standard_error:.2f}", _fmt(s.asymmetry_pct_ipd, 1, sign=True),
                     f"{band.text} ({band.source})" if band else ""))
    for k, s in m.scalars.items():
        rows.append((display_name(k), unit_label(s.unit), "", "", f"{s.value:+.2f} ± {s.standard_error:.2f}", "", ""))
    c = m.composite
    rows.append((display_name(COMPOSITE_KEY), "", "", "", f"{c.value:.2f} ± {c.standard_error:.2f}", "",
                 "0 = symmetric; 1 = on average at the noticeable thresholds (docs/measures.md)"))
    return Table(("measure", "unit", "right", "left", "left − right ± SE", "% IPD", "reference band"),
                 tuple(rows), caption, (0.24, 0.05, 0.08, 0.08, 0.13, 0.06, 0.36))


def dynamic_table(pair: PairMeasures) -> Table:
    """Movement of each cheilion and Cupid's bow peak from rest to smile, per side, with its asymmetry."""
    rows = tuple((display_name(k), unit_label(s.unit), _fmt(s.right, sign=True), _fmt(s.left, sign=True),
                  f"{s.asymmetry:+.2f} ± {s.standard_error:.2f}", _fmt(s.asymmetry_pct_ipd, 1, sign=True),
                  _fmt(s.ratio)) for k, s in pair.dynamic.items())
    return Table(("movement rest → smile", "unit", "right", "left", "left − right ± SE", "% IPD", "ratio"), rows,
                 "Dynamic component (smile position − rest position)", (0.3, 0.06, 0.1, 0.1, 0.16, 0.08, 0.1))


def _scale_rows(visit: ReportVisit, which: str) -> tuple[tuple[str, ...], ...]:
    rows = []
    for p in visit.photos:
        s = p.measures.scale
        rows.append((which, p.label or "(in memory)", p.analysis.expression, s.source, f"{s.mm_per_px:.4f}",
                     f"{100 * s.relative_uncertainty:.1f} %", f"{p.measures.interpupillary_distance_mm:.1f}"))
    return tuple(rows)


def _flag_items(visits: tuple[ReportVisit, ...]) -> tuple[str, ...]:
    items = []
    for v in visits:
        for p in v.photos:
            items += [f"{p.label or p.analysis.expression}: {line.lstrip('⚠ ')}"
                      for line in flag_text(p.analysis).splitlines()]
    return tuple(items)


def _identifiers(header: ReportHeader, visit: ReportVisit, previous: ReportVisit | None) -> Table:
    rows = [("patient", header.patient or "(not given)"), ("visit date", header.visit_date or "(not given)")]
    if previous is not None:
        rows.append(("previous visit", header.previous_visit_date or "(not given)"))
    rows.append(("photos", ", ".join(p.label for p in visit.photos if p.label) or "(in memory)"))
    if previous is not None:
        rows.append(("previous photos", ", ".join(p.label for p in previous.photos if p.label) or "(in memory)"))
    if header.note:
        rows.append(("note", header.note))
    rows += list(model_versions(visit.rest).items())
    return Table(("", ""), tuple(rows), col_widths=(0.3, 0.7))


def report_document(header: ReportHeader, visit: ReportVisit, figures: Mapping[str, str],
                    previous: ReportVisit | None = None,
                    changes: Mapping[str, Mapping[str, MeasureChange]] | None = None) -> Document:
    """The visit report's content.

    Parameters
    ----------
    header : ReportHeader
    visit : ReportVisit
    figures : mapping of str to str
        Role → figure file name: ``rest_lips``, ``rest_face``, ``smile_lips``,
        ``smile_face``, ``rest_smile``, ``comparison_rest``, ``comparison_smile`` (those present are shown).
    previous : ReportVisit, optional
    changes : mapping of expression to (mapping of str to MeasureChange), optional
        The comparison with ``previous``, per expression.
    """
    credit = f" Photos: {header.photo_credit}" if header.photo_credit else ""
    sections = [Section("Visit", (_identifiers(header, visit, previous), Paragraph(DISCLAIMER, "warning"),
                                  Paragraph(SIDES_NOTE, "note")))]
    flags = _flag_items((visit,) + ((previous,) if previous else ()))
    sections.append(Section("Quality flags and warnings", (
        Bullets(flags, "warning") if flags else Paragraph("No photo crossed a quality limit."),
        Paragraph("A flag means the photo is outside the limits within which the measures were validated; the "
                  "numbers are still shown, with that caveat.", "note"))))
    if visit.pair is not None:
        sections.append(Section("Static and dynamic asymmetry", (
            Bullets(tuple(s.text for s in visit.pair.summary)),
            Table(STATIC_DYNAMIC_HEADER, tuple(map(tuple, static_dynamic_rows(visit.pair))),
                  "Left − right (subject's sides) ± SE, mm. Static: at rest; dynamic: asymmetry of the upward "
                  "movement from rest to smile."),
            Paragraph("Thresholds: 0.8 mm at rest and 1.3 mm for the smile movement, the minimal detectable "
                      "changes of 3D photo test-retest (PMC8288314).", "note"))))
    images = []
    for p in visit.photos:
        e = p.analysis.expression
        for role, what, fraction in ((f"{e}_face", "full face", 0.52), (f"{e}_lips", "lips", 0.9)):
            if role in figures:
                images.append(Image(figures[role], f"{e} photo {p.label}, {what}: dashed blue = interpupillary line "
                                                   f"and midline; orange = vermilion border; purple = lip contact "
                                                   f"line; vermilion = cheilia, green = Cupid's bow peaks; labels in "
                                                   f"mm.{credit}", fraction))
    if "rest_smile" in figures:
        images.append(Image(figures["rest_smile"], "Rest and smile on the facial frame at one mm scale; arrows: "
                                                   f"movement of each commissure and Cupid's bow peak.{credit}"))
    sections.append(Section("Photos with the measurements", tuple(images), new_page=True))
    tables = [measures_table(p.measures, f"{p.analysis.expression} photo {p.label}") for p in visit.photos]
    if visit.pair is not None:
        tables.append(dynamic_table(visit.pair))
    sections.append(Section("Measures", tuple(tables), new_page=True))
    if previous is not None and changes:
        blocks = []
        for expression, ch in changes.items():
            if f"comparison_{expression}" in figures:
                blocks.append(Image(figures[f"comparison_{expression}"],
                                    f"{expression}: previous visit (before) and this visit (after), registered on "
                                    f"stable landmarks, one mm scale.{credit}"))
            blocks += [Paragraph(f"{expression}: {KEY_CHANGES_TITLE}"), Bullets(tuple(key_change_lines(ch)))]
            blocks.append(Table(CHANGE_HEADER, tuple(map(tuple, change_rows(ch))), f"{expression}: change since the "
                                f"previous visit", CHANGE_COL_WIDTHS))
        blocks.append(Paragraph(f"Change = this visit − previous visit of each left − right asymmetry; "
                                f"± {Z95}·SE is "
                                "its 95 % interval; a change within the minimal detectable change (MDC95) cannot be "
                                "told apart from measurement noise.", "note"))
        sections.append(Section("Comparison with the previous visit", tuple(blocks), new_page=True))
    sections.append(Section("Scale and uncertainty", (
        Table(("visit", "photo", "expression", "scale source", "mm per px", "relative uncertainty", "IPD (mm)"),
              _scale_rows(visit, "this") + (_scale_rows(previous, "previous") if previous else ()),
              col_widths=(0.1, 0.22, 0.1, 0.18, 0.1, 0.16, 0.1)),
        Paragraph("Scale: 11.7 mm horizontal iris diameter (Rüfer et al. 2005) unless calibrated; the smile photo "
                  "uses the rest photo's interpupillary distance. Each standard error (SE) propagates the scale's "
                  "uncertainty and the landmark error where it has been measured (docs/measures.md).", "note"))))
    sub = " · ".join(x for x in (header.patient, header.visit_date) if x)
    return Document("lipsym visit report", sub, tuple(sections))
