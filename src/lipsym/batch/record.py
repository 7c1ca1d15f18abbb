"""Record a batch's results in the visit store (``lipsym batch --db``).

Items with a patient and a visit date (folder convention or manifest) are
recorded: the patient, the visit, the photos, and for a rest, smile or
rest/smile analysis the full JSON document with queryable measures.

The visit is the patient's existing visit on that date (the first, if
several); otherwise a new one, ``baseline`` if it is the patient's earliest
date (stored or in the batch), else ``follow-up`` (as ``lipsym import``
does). Measure rows are named as the visit-store commands name them:
``<key>.asymmetry`` (with its standard error), ``<key>.right``,
``<key>.left``, ``<key>`` for scalars, ``composite``.
Photos with expression ``other`` are recorded without an analysis (the store
keeps analyses of rest and smile photos only). Items without a patient are
not recorded. Recording is idempotent, so a resumed batch records reused
results again without duplicating them.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from ..collection import Item
from ..store import MeasureSpec, Store, Visit

def record_item(store: Store, item: Item, doc: dict[str, Any], *, first_date: _dt.date | None = None) -> bool:
    """Record one analysed item; return False when it has no patient/date to file it under.

    Parameters
    ----------
    store : Store
    item : Item
    doc : dict
        The item's ``lipsym.analysis`` document (as written to its JSON).
    first_date : date, optional
        The patient's earliest visit date in the batch (default: the item's).

    Raises
    ------
    StoreError, ConfigurationError
        The store refused (e.g. a photo recorded with another expression).
    """
    if item.patient is None or item.visit_date is None:
        return False
    visit = _visit(store, item.patient, item.visit_date, first_date or item.visit_date)
    photos = {expression: store.add_photo(visit, path, expression) for expression, path in item.photos}
    if item.other is not None or any(r.get("status") != "ok" for r in doc["results"]):
        return True
    store.add_analysis(rest_photo=photos.get("rest"), smile_photo=photos.get("smile"), settings=doc["settings"],
                       result=doc, measures=measure_specs(doc), model_sha256=doc["model_sha256"],
                       lipsym_version=doc["lipsym_version"])
    return True


def _visit(store: Store, patient: str, day: _dt.date, first_date: _dt.date) -> Visit:
    """The patient's first visit on ``day`` (baseline before treatment), else a new one."""
    store.get_or_create_patient(patient)
    visits = store.list_visits(patient)
    same_day = [v for v in visits if v.visit_date == day]
    if same_day:
        return same_day[0]
    earliest = min([first_date] + [v.visit_date for v in visits])
    return store.get_or_create_visit(patient, day, "baseline" if day <= earliest else "follow-up")


def measure_specs(doc: dict[str, Any]) -> list[MeasureSpec]:
    """Queryable measures of a document: per photo (condition = its expression) and dynamic.

    Names as in the module notes; missing (null) values are left out.
    """
    specs: list[MeasureSpec] = []
    for result in doc["results"]:
        if result.get("status") == "ok" and result["expression"] in ("rest", "smile"):
            measures = result["measures"]
            specs += _sided_specs(measures["sided"], result["expression"])
            specs += [_spec(k, m["value"], m["unit"], result["expression"], m["standard_error"])
                      for k, m in measures["scalars"].items()]
            composite = measures["composite"]
            specs.append(_spec("composite", composite["value"], "1", result["expression"],
                               composite["standard_error"]))
    for pair in doc["pairs"]:
        specs += _sided_specs(pair["dynamic"], "dynamic")
    return [s for s in specs if s is not None]


def _sided_specs(sided: dict[str, Any], condition: str) -> list[MeasureSpec | None]:
    specs = []
    for key, m in sided.items():
        unit = m["unit"]
        specs.append(_spec(f"{key}.asymmetry", m["asymmetry"], unit, condition, m["standard_error"]))
        specs.append(_spec(f"{key}.right", m["right"], unit, condition))
        specs.append(_spec(f"{key}.left", m["left"], unit, condition))
    return specs


def _spec(name: str, value, unit: str, condition: str, standard_error=None) -> MeasureSpec | None:
    if value is None or not math.isfinite(value):
        return None
    se = standard_error if standard_error is not None and math.isfinite(standard_error) else None
    return MeasureSpec(name=name, value=float(value), unit=unit, condition=condition, standard_error=se)
