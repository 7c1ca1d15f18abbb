"""Immutable records returned by the store, and the small input specs it accepts.

Records mirror table rows. They are frozen so that a record handed to the
caller can never drift from what was written; to change something, call a
store method, which writes and returns a new record.

Dates are :class:`datetime.date`; timestamps (``created_at``) are ISO 8601
strings in UTC, because they are only ever displayed or compared, never
computed with. Quantities carry their unit in the field name (``dose_value``
with ``dose_unit``, ``width_px``, ``size_bytes``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from typing import Any

from lipsym.formats._measure_spec import MeasureSpec  # re-exported: defined below the store, in formats

__all__ = [
    "Patient",
    "Visit",
    "Photo",
    "PhotoStatus",
    "Analysis",
    "Measure",
    "MeasureRow",
    "MeasureSpec",
    "Treatment",
    "TreatmentSite",
    "SiteSpec",
    "VisitTreatment",
    "to_json_dict",
]


@dataclasses.dataclass(frozen=True)
class Patient:
    """A patient, known only by a pseudonymous identifier chosen by the user.

    Attributes
    ----------
    id : int
        Internal row id (not meaningful outside this database).
    identifier : str
        The user's code for the patient (e.g. ``"P001"``); unique, compared
        case-insensitively. Never a name: the store holds no direct identifiers.
    birth_year : int or None
    sex : {"female", "male", "other"} or None
    notes : str or None
    created_at : str
        UTC timestamp, ISO 8601.
    """

    id: int
    identifier: str
    birth_year: int | None
    sex: str | None
    notes: str | None
    created_at: str


@dataclasses.dataclass(frozen=True)
class Visit:
    """One clinic visit of a patient.

    Attributes
    ----------
    id : int
    patient_id : int
    visit_date : datetime.date
    kind : {"baseline", "treatment", "follow-up", "maintenance"}
    notes : str or None
    created_at : str
    """

    id: int
    patient_id: int
    visit_date: _dt.date
    kind: str
    notes: str | None
    created_at: str


@dataclasses.dataclass(frozen=True)
class Photo:
    """A photograph taken at a visit. Only its path and content hash are kept.

    Attributes
    ----------
    id : int
    visit_id : int
    path : str
        Absolute path at the time the photo was added (or last relocated).
    sha256 : str
        Lower-case hex SHA-256 of the file content; identifies the photo even
        when it is moved or renamed.
    size_bytes : int
    expression : {"rest", "smile", "other"}
    capture_date : datetime.date or None
    width_px, height_px : int or None
        Size as displayed (after EXIF orientation), when known.
    created_at : str
    """

    id: int
    visit_id: int
    path: str
    sha256: str
    size_bytes: int
    expression: str
    capture_date: _dt.date | None
    width_px: int | None
    height_px: int | None
    created_at: str


@dataclasses.dataclass(frozen=True)
class PhotoStatus:
    """Whether a recorded photo is still where, and what, the store says.

    Attributes
    ----------
    photo : Photo
        The record as stored.
    state : {"ok", "moved", "modified", "missing"}
        ``ok``: the file at ``photo.path`` has the recorded hash.
        ``moved``: the recorded content was found at ``candidates`` (only
        when search directories were given). ``modified``: a file is at
        ``photo.path`` but its content differs. ``missing``: no file there
        and (if searched) not found elsewhere.
    current_sha256 : str or None
        Hash of the file now at ``photo.path``, if there is one.
    candidates : tuple of str
        Absolute paths holding the recorded content (state ``moved``).
    """

    photo: Photo
    state: str
    current_sha256: str | None
    candidates: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the file is where it was recorded, unchanged."""
        return self.state == "ok"


@dataclasses.dataclass(frozen=True)
class Analysis:
    """One run of the measurement on a photo or a visit's rest/smile pair.

    Attributes
    ----------
    id : int
    visit_id : int
    rest_photo_id, smile_photo_id : int or None
        At least one is set; both for a pair analysis.
    lipsym_version : str
    model_sha256 : str or None
        Hash of the landmark model file used, when there was one.
    settings_json : str
        Canonical JSON (sorted keys) of the settings.
    settings_hash : str
        SHA-256 of ``settings_json``; with the photos, the analysis' identity.
    result_json : str
        The full result document, canonical JSON.
    created_at : str
    """

    id: int
    visit_id: int
    rest_photo_id: int | None
    smile_photo_id: int | None
    lipsym_version: str
    model_sha256: str | None
    settings_json: str
    settings_hash: str
    result_json: str
    created_at: str

    @property
    def settings(self) -> dict[str, Any]:
        """The settings, parsed (a new dict on each call)."""
        return json.loads(self.settings_json)

    @property
    def result(self) -> Any:
        """The result document, parsed (a new object on each call)."""
        return json.loads(self.result_json)


@dataclasses.dataclass(frozen=True)
class Measure:
    """One measured quantity of an analysis.

    Attributes
    ----------
    id : int
    analysis_id : int
    name : str
        E.g. ``"commissure_height.asymmetry"`` (lipsym names its rows with
        :func:`lipsym.formats.store_row_name`; the store accepts any name).
    value : float
    unit : str
        E.g. ``"mm"``, ``"deg"``, ``"1"``.
    standard_error : float or None
        In ``unit``.
    condition : {"rest", "smile", "dynamic", "pair"}
    """

    id: int
    analysis_id: int
    name: str
    value: float
    unit: str
    standard_error: float | None
    condition: str


@dataclasses.dataclass(frozen=True)
class MeasureRow:
    """A measure with the visit it belongs to: one row of a patient's history.

    Attributes
    ----------
    visit_id : int
    visit_date : datetime.date
    visit_kind : str
    analysis_id : int
    rest_photo_id, smile_photo_id : int or None
    settings_hash : str
    lipsym_version : str
    name, value, unit, standard_error, condition
        As in :class:`Measure`.
    """

    visit_id: int
    visit_date: _dt.date
    visit_kind: str
    analysis_id: int
    rest_photo_id: int | None
    smile_photo_id: int | None
    settings_hash: str
    lipsym_version: str
    name: str
    value: float
    unit: str
    standard_error: float | None
    condition: str


@dataclasses.dataclass(frozen=True)
class TreatmentSite:
    """One injection site of a treatment.

    Attributes
    ----------
    id : int
    treatment_id : int
    position : int
        Order in which the sites were given (0-based).
    region : str
        E.g. ``"upper_lip"``, ``"commissure"``, ``"dao"``.
    side : {"right", "left", "midline"}
        The patient's side (see :mod:`lipsym.sides`), never the image side.
    dose_value : float or None
        Amount injected at this site, in the treatment's ``dose_unit``.
    """

    id: int
    treatment_id: int
    position: int
    region: str
    side: str
    dose_value: float | None


@dataclasses.dataclass(frozen=True)
class SiteSpec:
    """An injection site for a new treatment (input only).

    Attributes
    ----------
    region : str
    side : {"right", "left", "midline"}
    dose_value : float or None
        In the treatment's ``dose_unit``.
    """

    region: str
    side: str
    dose_value: float | None = None


@dataclasses.dataclass(frozen=True)
class Treatment:
    """A product injected at a visit.

    Attributes
    ----------
    id : int
    visit_id : int
    product_name : str
    product_type : {"ha_filler", "neuromodulator", "other"}
    lot : str or None
    dose_value : float
        Total dose, > 0, in ``dose_unit``.
    dose_unit : {"mL", "U"}
    technique, injector, notes : str or None
    created_at : str
    sites : tuple of TreatmentSite
    """

    id: int
    visit_id: int
    product_name: str
    product_type: str
    lot: str | None
    dose_value: float
    dose_unit: str
    technique: str | None
    injector: str | None
    notes: str | None
    created_at: str
    sites: tuple[TreatmentSite, ...] = ()


@dataclasses.dataclass(frozen=True)
class VisitTreatment:
    """A treatment together with the visit at which it was given."""

    visit: Visit
    treatment: Treatment


def _jsonable(value: Any) -> Any:
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def to_json_dict(record: Any) -> dict[str, Any]:
    """Return a record as a JSON-serialisable dict (dates as ISO strings).

    Parameters
    ----------
    record : dataclass instance
        Any record of this module.

    Returns
    -------
    dict
        Field name to value; nested records become dicts, tuples lists.
    """
    return _jsonable(dataclasses.asdict(record))
