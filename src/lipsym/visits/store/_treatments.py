"""SQL of the ``treatments`` and ``treatment_sites`` tables.

A treatment has no natural key (the same product can be injected twice in
one session), so duplicates are recognised by content: adding a treatment
identical in every field and site to one already recorded for the visit
returns the recorded one. This keeps a repeated import from doubling
doses; a genuine second identical injection must differ somewhere (e.g. in
its notes).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from lipsym.errors import ConfigurationError
from lipsym.visits.store import _changes as changes
from lipsym.visits.store import _history as history
from lipsym.visits.store import _table as table
from lipsym.visits.store import _validate as validate
from lipsym.visits.store._records import Patient, SiteSpec, Treatment, TreatmentSite, Visit, VisitTreatment
from lipsym.visits.store._schema import utc_now
from lipsym.visits.store._visits import KIND_ORDER_SQL, VISITS

TREATMENTS = table.Table("treatments", Treatment, "treatment", derived=("sites",), soft_delete=True)
SITES = table.Table("treatment_sites", TreatmentSite, "injection site")

# Relative slack when comparing the sum of site doses with the total, so
# that 0.1 + 0.2 mL over three sites does not fail on rounding.
_DOSE_SUM_TOLERANCE = 1e-6


@dataclasses.dataclass(frozen=True)
class TreatmentSpec:
    """A validated treatment, ready to insert (internal)."""

    product_name: str
    product_type: str
    lot: str | None
    dose_value: float
    dose_unit: str
    technique: str | None
    injector: str | None
    notes: str | None
    sites: tuple[SiteSpec, ...]


#: The columns a TreatmentSpec gives (all of its fields but the sites).
_SPEC_COLUMNS = tuple(f.name for f in dataclasses.fields(TreatmentSpec) if f.name != "sites")


def prepare(
    *,
    product_name: Any,
    product_type: Any,
    dose_value: Any,
    dose_unit: Any,
    sites: Iterable[SiteSpec | Mapping[str, Any]],
    lot: Any,
    technique: Any,
    injector: Any,
    notes: Any,
) -> TreatmentSpec:
    """Validate a treatment's arguments (ConfigurationError on the first problem)."""
    kind = validate.product_type(product_type)
    unit = validate.dose_unit(dose_unit)
    # Neuromodulators are dosed in units and fillers in millilitres; a
    # filler "in U" or toxin "in mL" is almost certainly a data-entry slip
    # (toxin mL depend on the dilution and are not comparable).
    if kind == "ha_filler" and unit != "mL":
        raise ConfigurationError("an HA filler dose must be in mL")
    if kind == "neuromodulator" and unit != "U":
        raise ConfigurationError("a neuromodulator dose must be in units (U)")
    total = validate.positive_number(dose_value, "dose")
    prepared_sites: list[SiteSpec] = []
    if isinstance(sites, (str, bytes, Mapping)):
        raise ConfigurationError("sites must be a list of sites")
    for item in sites:
        if isinstance(item, Mapping):
            unknown = set(item) - {"region", "side", "dose_value"}
            if unknown:
                raise ConfigurationError(f"injection site has unknown field(s): {', '.join(sorted(unknown))}")
            try:
                item = SiteSpec(**item)
            except TypeError:
                raise ConfigurationError("an injection site needs a region and a side") from None
        elif not isinstance(item, SiteSpec):
            raise ConfigurationError(f"sites must be SiteSpec or dicts (got {type(item).__name__})")
        site_dose = None if item.dose_value is None else validate.positive_number(item.dose_value, "site dose")
        prepared_sites.append(SiteSpec(region=validate.region(item.region), side=validate.side(item.side), dose_value=site_dose))
    site_total = sum(s.dose_value for s in prepared_sites if s.dose_value is not None)
    if site_total > total * (1 + _DOSE_SUM_TOLERANCE):
        raise ConfigurationError(f"site doses add up to {site_total:g} {unit}, more than the total dose {total:g} {unit}")
    return TreatmentSpec(
        product_name=validate.required_text(product_name, "product name"),
        product_type=kind,
        lot=validate.optional_text(lot, "lot", max_chars=100),
        dose_value=total,
        dose_unit=unit,
        technique=validate.optional_text(technique, "technique", max_chars=500),
        injector=validate.optional_text(injector, "injector", max_chars=200),
        notes=validate.optional_text(notes, "notes"),
        sites=tuple(prepared_sites),
    )


def _with_sites(conn: sqlite3.Connection, treatment: Treatment) -> Treatment:
    sites = table.select(conn, SITES, "treatment_id = ?", (treatment.id,), order="position")
    return dataclasses.replace(treatment, sites=tuple(sites))


def get_by_id(conn: sqlite3.Connection, treatment_id: int) -> Treatment:
    return _with_sites(conn, table.get_by_id(conn, TREATMENTS, treatment_id))


def list_for_visit(conn: sqlite3.Connection, visit: Visit) -> list[Treatment]:
    return [_with_sites(conn, t) for t in table.select(conn, TREATMENTS, "visit_id = ?", (visit.id,))]


def _matches(treatment: Treatment, spec: TreatmentSpec) -> bool:
    if any(getattr(treatment, f) != getattr(spec, f) for f in _SPEC_COLUMNS):
        return False
    stored = [(s.region, s.side, s.dose_value) for s in treatment.sites]
    return stored == [(s.region, s.side, s.dose_value) for s in spec.sites]


def get_or_insert(conn: sqlite3.Connection, visit: Visit, spec: TreatmentSpec) -> Treatment:
    for existing in list_for_visit(conn, visit):
        if _matches(existing, spec):
            return existing
    fields = {f: getattr(spec, f) for f in _SPEC_COLUMNS}
    treatment_id = table.insert(conn, TREATMENTS, dict(fields, visit_id=visit.id, created_at=utc_now()))
    _insert_sites(conn, treatment_id, spec.sites)
    history.record_insert(conn, TREATMENTS.name, treatment_id)
    return get_by_id(conn, treatment_id)


def _insert_sites(conn: sqlite3.Connection, treatment_id: int, sites: Iterable[SiteSpec]) -> None:
    table.insert_many(conn, SITES, (dict(dataclasses.asdict(site), treatment_id=treatment_id, position=i)
                                    for i, site in enumerate(sites)))


def spec_of(treatment: Treatment) -> dict[str, Any]:
    """The keyword arguments of :func:`prepare` that describe a stored treatment."""
    fields = {f: getattr(treatment, f) for f in _SPEC_COLUMNS}
    return dict(fields, sites=[SiteSpec(region=s.region, side=s.side, dose_value=s.dose_value)
                               for s in treatment.sites])


def replace(conn: sqlite3.Connection, treatment: Treatment, spec: TreatmentSpec) -> Treatment:
    """Overwrite a treatment's fields and sites with ``spec``; record the edit."""
    before = history.snapshot(conn, TREATMENTS.name, treatment.id)
    changes.set_columns(conn, TREATMENTS.name, treatment.id, {f: getattr(spec, f) for f in _SPEC_COLUMNS})
    conn.execute("DELETE FROM treatment_sites WHERE treatment_id = ?", (treatment.id,))
    _insert_sites(conn, treatment.id, spec.sites)
    changes.record_edit(conn, TREATMENTS.name, treatment.id, before)
    return get_by_id(conn, treatment.id)


def for_patient(conn: sqlite3.Connection, patient: Patient) -> list[VisitTreatment]:
    order = KIND_ORDER_SQL.format(col="v.kind")
    rows = conn.execute(
        f"SELECT t.id AS treatment_id, {', '.join(f'v.{c}' for c in VISITS.columns)}"
        " FROM treatments AS t JOIN visits AS v ON v.id = t.visit_id"
        f" WHERE v.patient_id = ? AND t.deleted_at IS NULL AND v.deleted_at IS NULL ORDER BY v.visit_date, {order}, t.id",
        (patient.id,),
    ).fetchall()
    return [VisitTreatment(visit=table.record_from_row(Visit, {c: r[c] for c in VISITS.columns}),
                           treatment=get_by_id(conn, r["treatment_id"])) for r in rows]
