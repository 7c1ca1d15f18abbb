"""What a visit report says: identifiers, figures, tables, summary, provenance.

Builds a :class:`~lipsym.report.Document` from analysed photos; the
HTML and PDF renderers only lay it out. Wording is decision support:
measurements and reference ranges, never a diagnosis or advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from lipsym import __version__
from lipsym.comparison._compare import KEY_MEASURES, MeasureChange
from lipsym.measures._pair import PairMeasures
from lipsym.measures._photo import PhotoMeasures
from lipsym.measures._registry import COMPOSITE_KEY, display_name, unit_label
from lipsym.report._overlay import flag_text
from lipsym.report._before_after import CHANGE_COL_WIDTHS, CHANGE_HEADER, change_rows
from lipsym.report._format import PM_LABEL, PM_NOTE, agreement_note, marked_name, pm_se, signed, table_keys
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
    clinic : str
        Printed in the report's title line.
    """

    patient: str = ""
    visit_date: str = ""
    previous_visit_date: str = ""
    note: str = ""
    photo_credit: str = ""
    clinic: str = ""


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
    from lipsym.report._format import plain

    return signed(value, digits) if sign else plain(value, digits)


def measures_table(m: PhotoMeasures, caption: str) -> Table:
    """Every sided measure: right, left, left − right ± SE, % IPD, reference band; then the scalars.

    Names and units are the measure registry's (:mod:`lipsym.measures._registry`); a sided measure's
    name carries its agreement mark (:func:`lipsym.report._format.marked_name`).
    """
    keys = table_keys(m.sided)
    rows = []
    for k in keys:
        s = m.sided[k]
        band = m.bands.get(k)
        rows.append((marked_name(k), unit_label(s.unit), _fmt(s.right, sign=True), _fmt(s.left, sign=True),
                     pm_se(s.asymmetry, s.standard_error), _fmt(s.asymmetry_pct_ipd, 1, sign=True),
                     f"{band.text} ({band.source})" if band else ""))
    for k, s in m.scalars.items():
        rows.append((display_name(k), unit_label(s.unit), "", "", pm_se(s.value, s.standard_error), "", ""))
    c = m.composite
    rows.append((display_name(COMPOSITE_KEY), "", "", "", pm_se(c.value, c.standard_error).lstrip("+"), "",
                 "0 = symmetric; 1 = on average at the noticeable thresholds (docs/measures.md)"))
    return Table(("measure", "unit", "right", "left", f"left − right {PM_LABEL}", "% IPD", "reference band"),
                 tuple(rows), caption, (0.24, 0.06, 0.08, 0.08, 0.13, 0.07, 0.34))


def dynamic_table(pair: PairMeasures) -> Table:
    """Movement of each cheilion and Cupid's bow peak from rest to smile, per side, with its asymmetry."""
    rows = tuple((display_name(k), unit_label(s.unit), _fmt(s.right, sign=True), _fmt(s.left, sign=True),
                  pm_se(s.asymmetry, s.standard_error), _fmt(s.asymmetry_pct_ipd, 1, sign=True),
                  _fmt(s.ratio)) for k, s in ((k, pair.dynamic[k]) for k in table_keys(pair.dynamic, "dynamic")))
    return Table(("movement rest → smile", "unit", "right", "left", f"left − right {PM_LABEL}", "% IPD", "ratio"),
                 rows,
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
            # The measures' own flags (a measure that could not be computed).
            items += [f"{p.label or p.analysis.expression}: {f.message}" for f in p.measures.flags]
    return tuple(items)


def _identifiers(header: ReportHeader, visit: ReportVisit, previous: ReportVisit | None, *,
                 short: bool = False) -> Table:
    rows = [("patient", header.patient or "(not given)"), ("visit date", header.visit_date or "(not given)")]
    if header.clinic:
        rows.insert(0, ("clinic", header.clinic))
    if previous is not None:
        rows.append(("previous visit", header.previous_visit_date or "(not given)"))
    rows.append(("photos", ", ".join(p.label for p in visit.photos if p.label) or "(in memory)"))
    if previous is not None:
        rows.append(("previous photos", ", ".join(p.label for p in previous.photos if p.label) or "(in memory)"))
    if header.note:
        rows.append(("note", header.note))
    if not short:
        rows += list(model_versions(visit.rest).items())
    return Table(("", ""), tuple(rows), col_widths=(0.3, 0.7))


#: Signature lines closing the summary page.
SIGNATURE = "Reviewed by: ______________________    Signature: ______________________    Date: ____________"


def key_value_rows(visit: ReportVisit) -> tuple[tuple[str, ...], ...]:
    """The key asymmetries of a visit, rest and smile side by side (left − right ± SE)."""
    rows = []
    for key in KEY_MEASURES:
        cells = [p.measures.sided.get(key) for p in visit.photos]
        if any(c is not None for c in cells):
            unit = unit_label(next(c for c in cells if c is not None).unit)
            rows.append((f"{display_name(key)} ({unit})",
                         *("–" if c is None else pm_se(c.asymmetry, c.standard_error) for c in cells)))
    return tuple(rows)


def summary_section(header: ReportHeader, visit: ReportVisit, previous: ReportVisit | None,
                    changes: Mapping[str, Mapping[str, MeasureChange]], figures: Mapping[str, str]) -> Section:
    """Page 1 of a report from photos: the photos, the key asymmetries, the change since the previous visit."""
    blocks: list = [_identifiers(header, visit, previous, short=True)]
    if "plain" in figures:
        blocks.append(Image(figures["plain"], "The photos without marks: previous visit (left) and this visit "
                                              "(right), registered on the eyes and nose." if previous is not None
                            else "The photos without marks.", 0.8))
    blocks.append(Table(("left − right " + PM_LABEL, *(p.analysis.expression for p in visit.photos)),
                        key_value_rows(visit), "Key asymmetries at this visit (subject's sides)",
                        (0.5,) + (0.25,) * len(visit.photos)))
    for expression, ch in changes.items():
        blocks.append(Table(CHANGE_HEADER, tuple(map(tuple, change_rows({k: ch[k] for k in KEY_MEASURES
                                                                         if k in ch}))),
                            f"{expression}: change since the previous visit", CHANGE_COL_WIDTHS))
    blocks += flag_notice((visit,) + ((previous,) if previous else ()))
    blocks += [Paragraph(DISCLAIMER + " " + PM_NOTE, "note"), Paragraph(SIGNATURE)]
    return Section("Summary", tuple(blocks))


def flag_notice(visits: tuple[ReportVisit, ...]) -> list[Paragraph]:
    """A one-line pointer to the quality flags for the summary page (listed in the detail)."""
    n = len(_flag_items(visits))
    return [Paragraph(f"⚠ {n} quality flag{'s' if n > 1 else ''} or warning{'s' if n > 1 else ''}: see "
                      "'Quality flags and warnings'.", "warning")] if n else []


def report_document(header: ReportHeader, visit: ReportVisit, figures: Mapping[str, str],
                    previous: ReportVisit | None = None,
                    changes: Mapping[str, Mapping[str, MeasureChange]] | None = None, *,
                    summary: Section | None = None, appendix: tuple[Section, ...] = ()) -> Document:
    """The visit report's content: a one-page summary, then the detail.

    Parameters
    ----------
    header : ReportHeader
    visit : ReportVisit
    figures : mapping of str to str
        Role → figure file name: ``rest_lips``, ``rest_face``, ``smile_lips``,
        ``smile_face``, ``rest_smile``, ``comparison_rest``, ``comparison_smile``,
        ``plain`` (those present are shown).
    previous : ReportVisit, optional
    changes : mapping of expression to (mapping of str to MeasureChange), optional
        The comparison with ``previous``, per expression.
    summary : Section, optional
        Page 1; default :func:`summary_section` (the visit record passes its own).
    appendix : tuple of Section
        Added after the detail (e.g. the course of a patient's visits).
    """
    changes = changes or {}
    credit = f" Photos: {header.photo_credit}" if header.photo_credit else ""
    sections = [summary or summary_section(header, visit, previous, changes, figures)]
    images = []
    for p in visit.photos:
        e = p.analysis.expression
        for role, what, fraction in ((f"{e}_face", "full face", 0.48), (f"{e}_lips", "lips", 0.8)):
            if role in figures:
                images.append(Image(figures[role], f"{e} photo {p.label}, {what}: dashed blue = interpupillary line "
                                                   f"and midline; orange = vermilion border; purple = lip contact "
                                                   f"line; vermilion = cheilia, green = Cupid's bow peaks; labels in "
                                                   f"mm.{credit}", fraction))
    sections.append(Section("Photos with the measurements", tuple(images), new_page=True))
    flags = _flag_items((visit,) + ((previous,) if previous else ()))
    sections.append(Section("Quality flags and warnings", (
        Bullets(flags, "warning") if flags else Paragraph("No photo crossed a quality limit."),
        Paragraph("A flag means the photo is outside the limits within which the measures were validated; the "
                  "numbers are still shown, with that caveat.", "note"))))
    if visit.pair is not None:
        blocks: list = []
        if "rest_smile" in figures:
            blocks.append(Image(figures["rest_smile"], "Rest and smile on the facial frame at one mm scale; arrows: "
                                                       f"movement of each commissure and Cupid's bow peak.{credit}"))
        blocks += [Bullets(tuple(s.text for s in visit.pair.summary)),
                   Table(STATIC_DYNAMIC_HEADER, tuple(map(tuple, static_dynamic_rows(visit.pair))),
                         f"Left − right (subject's sides) {PM_LABEL}, mm. Static: at rest; dynamic: asymmetry of the "
                         "upward movement from rest to smile.", (0.28, 0.18, 0.18, 0.18, 0.18)),
                   Paragraph("Thresholds: 0.8 mm at rest and 1.3 mm for the smile movement, the minimal detectable "
                             "changes of 3D photo test-retest (PMC8288314).", "note")]
        sections.append(Section("Static and dynamic asymmetry", tuple(blocks)))
    tables = [measures_table(p.measures, f"{p.analysis.expression} photo {p.label}") for p in visit.photos]
    if visit.pair is not None:
        tables.append(dynamic_table(visit.pair))
    sections.append(Section("Measures", (*tables, Paragraph(agreement_note(), "note"), Paragraph(
        "Cupid's bow peak height above labrale superius has the same left − right asymmetry as the peak height "
        "(labrale superius is on the midline), so only the latter is listed (docs/measures.md).", "note"))))
    if previous is not None and changes:
        blocks = []
        for expression, ch in changes.items():
            if f"comparison_{expression}" in figures:
                blocks.append(Image(figures[f"comparison_{expression}"],
                                    f"{expression}: previous visit (before) and this visit (after), registered on "
                                    f"stable landmarks, one mm scale.{credit}"))
            blocks.append(Table(CHANGE_HEADER, tuple(map(tuple, change_rows(ch))), f"{expression}: change since the "
                                f"previous visit, every measure", CHANGE_COL_WIDTHS))
        blocks.append(Paragraph(f"Change = this visit − previous visit of each left − right asymmetry. {PM_NOTE} "
                                "A change within the MDC95 cannot be told apart from measurement noise.", "note"))
        sections.append(Section("Comparison with the previous visit", tuple(blocks)))
    sections += list(appendix)
    sections.append(Section("Scale and uncertainty", (
        _identifiers(header, visit, previous),
        Table(("visit", "photo", "expression", "scale source", "mm per px", "relative uncertainty", "IPD (mm)"),
              _scale_rows(visit, "this") + (_scale_rows(previous, "previous") if previous else ()),
              col_widths=(0.1, 0.22, 0.12, 0.16, 0.1, 0.16, 0.1)),
        Paragraph("Scale: 11.7 mm horizontal iris diameter (Rüfer et al. 2005) unless calibrated; the smile photo "
                  "uses the rest photo's interpupillary distance. Each standard error (SE) propagates the scale's "
                  "uncertainty and the landmark error where it has been measured (docs/measures.md).", "note"),
        Paragraph(SIDES_NOTE, "note"))))
    sub = " · ".join(x for x in (header.clinic, header.patient, header.visit_date) if x)
    return Document("Lip asymmetry report", sub, tuple(sections))
