"""Exports: one patient's full record (JSON or CSV) and the pseudonymised research export.

Files are written only where the caller says, and never over existing files
unless asked (``overwrite=True``, the command's ``--force``). Files are
private (0600, new folders 0700) unless outputs are shared
(:func:`lipsym.io.outputs_shared`). CSV files are UTF-8, comma separated,
with a header row; a text cell that a spreadsheet would run as a formula
(``=1+2``) is escaped with a leading ``'`` (:func:`lipsym.formats.escape_cell`);
numbers are written as they are.

The research export is PSEUDONYMISATION, NOT ANONYMISATION. Patient codes
are replaced by ``HMAC-SHA256(key, code)`` truncated to 64 bits, with a
random key kept in this database's ``meta`` table: pseudonyms are stable
across exports of one database, unrelated between databases, and only the
holder of the database can link them back. Free text (notes, technique,
injector), photo paths and hashes, the full result documents and settings
(which may contain paths) are left out; calendar dates become days since
the patient's first visit unless ``keep_dates=True``. Birth year, sex,
products and the measures remain and could identify a person combined with
other data: the export is still personal data under the GDPR.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lipsym import __version__
from lipsym.errors import ConfigurationError, ConflictError, StoreError
from lipsym.formats._csv import csv_writer
from lipsym.io._outputs import make_output_dir, output_file_mode
from lipsym.visits.store import (
    _analyses as analyses,
    _patients as patients,
    _photos as photos,
    _treatments as treatments,
    _visits as visits,
)
from lipsym.visits.store._records import (
    Analysis,
    Measure,
    Patient,
    Photo,
    Treatment,
    Visit,
    to_json_dict,
)
from lipsym.visits.store._schema import schema_version, utc_now

PATIENT_FORMAT = "lipsym-patient-record"
RESEARCH_FORMAT = "lipsym-research-export"
FORMAT_VERSION = 1
PSEUDONYM_PREFIX = "PS-"
_PSEUDONYM_HEX_CHARS = 16  # 64 bits: collisions need ~4 billion patients


#: Columns of each CSV file of a patient export (the table columns).
PATIENT_CSV_COLUMNS: dict[str, list[str]] = {
    t.name: list(t.columns)
    for t in (patients.PATIENTS, visits.VISITS, photos.PHOTOS, analyses.ANALYSES, analyses.MEASURES,
              treatments.TREATMENTS, treatments.SITES)
}

#: Columns of each CSV file of a research export.
RESEARCH_CSV_COLUMNS: dict[str, list[str]] = {
    "patients": ["pseudonym", "birth_year", "sex"],
    "visits": ["visit_ref", "pseudonym", "visit_day", "visit_kind"],
    "photos": ["photo_ref", "visit_ref", "expression", "capture_day", "width_px", "height_px"],
    "analyses": [
        "analysis_ref", "visit_ref", "rest_photo_ref", "smile_photo_ref",
        "lipsym_version", "model_sha256", "settings_hash", "provenance", "based_on_ref", "points_moved",
    ],
    "measures": [
        "pseudonym", "visit_ref", "visit_day", "visit_kind", "analysis_ref", "settings_hash",
        "name", "value", "unit", "standard_error", "condition", "provenance",
    ],
    "treatments": ["treatment_ref", "visit_ref", "product_name", "product_type", "lot", "dose_value", "dose_unit"],
    "treatment_sites": ["treatment_ref", "position", "region", "side", "dose_value"],
}


@dataclasses.dataclass(frozen=True)
class _PatientRecord:
    patient: Patient
    visits: list[Visit]
    photos: dict[int, list[Photo]]
    analyses: dict[int, list[Analysis]]
    measures: dict[int, list[Measure]]
    treatments: dict[int, list[Treatment]]


def _collect(conn: sqlite3.Connection, patient: Patient) -> _PatientRecord:
    visit_list = visits.list_for_patient(conn, patient)
    photo_map = {v.id: photos.list_for_visit(conn, v) for v in visit_list}
    analysis_map = {v.id: analyses.list_for_visit(conn, v) for v in visit_list}
    measure_map = {a.id: analyses.measures_of(conn, a.id) for al in analysis_map.values() for a in al}
    treatment_map = {v.id: treatments.list_for_visit(conn, v) for v in visit_list}
    return _PatientRecord(patient, visit_list, photo_map, analysis_map, measure_map, treatment_map)


def provenance_fields(analysis: Analysis) -> dict[str, Any]:
    """``provenance`` (``automatic`` / ``manual``), and for landmarks corrected by hand
    ``based_on`` (the automatic analysis) and ``moved_points`` (condition → point names).

    Read from the settings, where :func:`lipsym.visits.save_corrections` records them.
    """
    settings = analysis.settings
    if settings.get("provenance") != "manual":
        return {"provenance": "automatic"}
    moves = settings.get("corrections") or {}
    return {"provenance": "manual", "based_on": settings.get("based_on"),
            "moved_points": {c: [m.get("point") for m in ms] for c, ms in moves.items() if ms}}


def patient_document(conn: sqlite3.Connection, patient: Patient) -> dict[str, Any]:
    """Return one patient's full record as a JSON-serialisable dict.

    Visits nest their photos, analyses (with parsed ``settings`` and
    ``result`` and their ``measures``) and treatments (with ``sites``).
    Each analysis says its ``provenance`` (:func:`provenance_fields`); an
    automatic analysis whose landmarks were corrected by hand lists the
    manual analyses based on it in ``corrected_by`` (the latest stands for
    its photos in ``lipsym track``, ``compare`` and ``report``).
    """
    rec = _collect(conn, patient)
    visit_docs = []
    for visit in rec.visits:
        analysis_docs = []
        provenance = {a.id: provenance_fields(a) for a in rec.analyses[visit.id]}
        for analysis in rec.analyses[visit.id]:
            doc = to_json_dict(analysis)
            del doc["settings_json"], doc["result_json"]
            doc.update(provenance[analysis.id])
            corrected_by = [i for i, p in provenance.items() if p.get("based_on") == analysis.id]
            if corrected_by:
                doc["corrected_by"] = corrected_by
            doc["settings"] = analysis.settings
            doc["result"] = analysis.result
            doc["measures"] = [to_json_dict(m) for m in rec.measures[analysis.id]]
            analysis_docs.append(doc)
        visit_doc = to_json_dict(visit)
        visit_doc["photos"] = [to_json_dict(p) for p in rec.photos[visit.id]]
        visit_doc["analyses"] = analysis_docs
        visit_doc["treatments"] = [to_json_dict(t) for t in rec.treatments[visit.id]]
        visit_docs.append(visit_doc)
    return {
        "format": PATIENT_FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": schema_version(conn),
        "lipsym_version": __version__,
        "exported_at": utc_now(),
        "patient": to_json_dict(patient),
        "visits": visit_docs,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # shortest string that reads back to the same float
    return str(value)


def _prepare_directory(directory: str | os.PathLike[str], names: Sequence[str], overwrite: bool) -> dict[str, Path]:
    """Create ``directory`` if needed; refuse (before writing anything) to overwrite files."""
    root = Path(os.path.abspath(os.path.expanduser(os.fspath(directory))))
    if root.exists() and not root.is_dir():
        raise ConfigurationError(f"{root}: exists and is not a folder")
    targets = {name: root / name for name in names}
    clashes = [str(p) for p in targets.values() if p.exists()]
    if clashes and not overwrite:
        raise ConflictError(f"{clashes[0]}: exists ({len(clashes)} file(s) in the way); "
                            "use --force to replace them")
    make_output_dir(root)
    return targets


def _private_opener(path: str, flags: int) -> int:
    # Exports hold health data: readable by the owner only, like the database (unless shared).
    return os.open(path, flags, output_file_mode())


def _open_output(path: Path, overwrite: bool, **kwargs: Any):
    # "x" makes a race with another writer fail instead of interleaving.
    return open(path, "w" if overwrite else "x", encoding="utf-8", opener=_private_opener, **kwargs)


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]], overwrite: bool) -> None:
    with _open_output(path, overwrite, newline="") as stream:
        writer = csv_writer(stream, columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in columns})


def _asdict(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def write_patient_csv(
    conn: sqlite3.Connection, patient: Patient, directory: str | os.PathLike[str], overwrite: bool
) -> dict[str, Path]:
    """Write one CSV per table for one patient; return table name -> file."""
    targets = _prepare_directory(directory, [f"{t}.csv" for t in PATIENT_CSV_COLUMNS], overwrite)
    rec = _collect(conn, patient)
    all_analyses = [a for v in rec.visits for a in rec.analyses[v.id]]
    all_treatments = [t for v in rec.visits for t in rec.treatments[v.id]]
    tables: dict[str, list[Any]] = {
        "patients": [rec.patient],
        "visits": rec.visits,
        "photos": [p for v in rec.visits for p in rec.photos[v.id]],
        "analyses": all_analyses,
        "measures": [m for a in all_analyses for m in rec.measures[a.id]],
        "treatments": all_treatments,
        "treatment_sites": [s for t in all_treatments for s in t.sites],
    }
    written = {}
    for table, columns in PATIENT_CSV_COLUMNS.items():
        path = targets[f"{table}.csv"]
        _write_csv(path, columns, (_asdict(r) for r in tables[table]), overwrite)
        written[table] = path
    return written


def write_patient_json(
    conn: sqlite3.Connection, patient: Patient, path: str | os.PathLike[str], overwrite: bool
) -> Path:
    """Write one patient's record (:func:`patient_document`) as a JSON file readable by the owner only."""
    target = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    if target.is_dir():
        raise ConfigurationError(f"{target} is a directory; give a file name")
    if target.exists() and not overwrite:
        raise ConflictError(f"{target}: exists; not overwriting it (use --force to replace it)")
    document = patient_document(conn, patient)
    make_output_dir(target.parent)
    with _open_output(target, overwrite) as stream:
        json.dump(document, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    return target


def pseudonym_key(conn: sqlite3.Connection) -> bytes:
    row = conn.execute("SELECT value FROM meta WHERE key = 'pseudonym_key'").fetchone()
    if row is None:
        raise StoreError("the database has no pseudonymisation key (meta.pseudonym_key); it is damaged")
    return bytes.fromhex(row[0])


def pseudonym(key: bytes, identifier: str) -> str:
    """Return the research pseudonym of a patient identifier under ``key``."""
    digest = hmac.new(key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:_PSEUDONYM_HEX_CHARS]


def research_export(
    conn: sqlite3.Connection, directory: str | os.PathLike[str], keep_dates: bool, overwrite: bool
) -> dict[str, Path]:
    """Write the pseudonymised research export (see the module docstring)."""
    names = [f"{t}.csv" for t in RESEARCH_CSV_COLUMNS] + ["manifest.json"]
    targets = _prepare_directory(directory, names, overwrite)
    key = pseudonym_key(conn)
    records = []
    for patient in patients.list_all(conn):
        records.append((pseudonym(key, patient.identifier), _collect(conn, patient)))
    if len({alias for alias, _ in records}) != len(records):  # pragma: no cover - 2**-64 odds
        raise StoreError("two patients got the same pseudonym; cannot export")
    # Sorting by pseudonym and numbering rows afresh hides the enrolment
    # order that internal row ids would reveal.
    records.sort(key=lambda item: item[0])

    def day(date: _dt.date | None, first: _dt.date | None) -> Any:
        if date is None:
            return None
        if keep_dates:
            return date.isoformat()
        return None if first is None else (date - first).days

    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in RESEARCH_CSV_COLUMNS}
    visit_refs: dict[int, int] = {}
    photo_refs: dict[int, int] = {}
    analysis_ref = treatment_ref = 0
    for alias, rec in records:
        first = min((v.visit_date for v in rec.visits), default=None)
        rows["patients"].append({"pseudonym": alias, "birth_year": rec.patient.birth_year, "sex": rec.patient.sex})
        for visit in rec.visits:
            visit_refs[visit.id] = len(visit_refs) + 1
            visit_ref = visit_refs[visit.id]
            visit_day = day(visit.visit_date, first)
            rows["visits"].append(
                {"visit_ref": visit_ref, "pseudonym": alias, "visit_day": visit_day, "visit_kind": visit.kind}
            )
            for photo in rec.photos[visit.id]:
                photo_refs[photo.id] = len(photo_refs) + 1
                rows["photos"].append(
                    {
                        "photo_ref": photo_refs[photo.id],
                        "visit_ref": visit_ref,
                        "expression": photo.expression,
                        "capture_day": day(photo.capture_date, first),
                        "width_px": photo.width_px,
                        "height_px": photo.height_px,
                    }
                )
            refs: dict[int, int] = {}
            for analysis in rec.analyses[visit.id]:
                analysis_ref += 1
                refs[analysis.id] = analysis_ref
                origin = provenance_fields(analysis)
                rows["analyses"].append(
                    {
                        "analysis_ref": analysis_ref,
                        "visit_ref": visit_ref,
                        "rest_photo_ref": photo_refs.get(analysis.rest_photo_id),
                        "smile_photo_ref": photo_refs.get(analysis.smile_photo_id),
                        "lipsym_version": analysis.lipsym_version,
                        "model_sha256": analysis.model_sha256,
                        "settings_hash": analysis.settings_hash,
                        "provenance": origin["provenance"],
                        "based_on_ref": refs.get(origin.get("based_on")),
                        "points_moved": sum(map(len, origin.get("moved_points", {}).values())) or None,
                    }
                )
                for measure in rec.measures[analysis.id]:
                    rows["measures"].append(
                        {
                            "pseudonym": alias,
                            "visit_ref": visit_ref,
                            "visit_day": visit_day,
                            "visit_kind": visit.kind,
                            "analysis_ref": analysis_ref,
                            "settings_hash": analysis.settings_hash,
                            **{k: getattr(measure, k) for k in ("name", "value", "unit", "standard_error", "condition")},
                            "provenance": origin["provenance"],
                        }
                    )
            for treatment in rec.treatments[visit.id]:
                treatment_ref += 1
                row = {k: getattr(treatment, k) for k in RESEARCH_CSV_COLUMNS["treatments"] if hasattr(treatment, k)}
                rows["treatments"].append({**row, "treatment_ref": treatment_ref, "visit_ref": visit_ref})
                for site in treatment.sites:
                    rows["treatment_sites"].append(
                        {"treatment_ref": treatment_ref, **{k: getattr(site, k) for k in ("position", "region", "side", "dose_value")}}
                    )

    written: dict[str, Path] = {}
    for table, columns in RESEARCH_CSV_COLUMNS.items():
        path = targets[f"{table}.csv"]
        _write_csv(path, columns, rows[table], overwrite)
        written[table] = path
    manifest = {
        "format": RESEARCH_FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": schema_version(conn),
        "lipsym_version": __version__,
        "exported_at": utc_now(),
        "patients": len(records),
        "pseudonymisation": (
            "pseudonymised, NOT anonymised: patient codes replaced by HMAC-SHA256 (per-database secret key) "
            "truncated to 64 bits; whoever holds the source database can re-identify"
        ),
        "dates": "calendar dates" if keep_dates else "days since the patient's first visit",
        "omitted": [
            "patient codes", "notes", "treatment technique", "injector", "photo paths and hashes",
            "analysis settings and result documents", "record timestamps", "internal row ids",
        ],
    }
    manifest_path = targets["manifest.json"]
    with _open_output(manifest_path, overwrite) as stream:
        json.dump(manifest, stream, indent=2)
        stream.write("\n")
    written["manifest"] = manifest_path
    return written
