"""Record a batch's results in the visit store (``lipsym batch --db``).

Items with a patient and a visit date (folder convention or manifest) are
recorded: the patient, the visit, the photos, and for a rest, smile or
rest/smile analysis the full JSON document with queryable measures. Photos
with expression ``other`` are recorded without an analysis (the store keeps
analyses of rest and smile photos); items without a patient are not
recorded. Recording is idempotent, so a resumed batch records reused results
again without duplicating them.

Visit kinds and measure-row names are ``lipsym import``'s
(:func:`lipsym.visits.assign_kinds`, including a manifest's optional
``kind`` column; :mod:`lipsym.formats`). The rows are built here from
the JSON document rather than from measure objects, because a reused result
exists only as its document.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from lipsym.io._collection import Collection, Item
from lipsym.visits.store import MeasureSpec, Store, Visit
from lipsym.formats._store_rows import asymmetry_name
from lipsym.visits._import import assign_kinds, manifest_kinds


class StoreRecorder:
    """Records items of one collection into a store.

    Parameters
    ----------
    store : Store
    collection : Collection
        Gives each patient's dates (the earliest is the ``baseline`` unless
        the store or a manifest ``kind`` says otherwise).

    Raises
    ------
    ConfigurationError, ConflictError
        The manifest's ``kind`` column is invalid.
    """

    def __init__(self, store: Store, collection: Collection):
        self.store = store
        self._given = manifest_kinds(collection.source) if collection.source.is_file() else {}
        self._dates: dict[str, set[_dt.date]] = {}
        for item in collection.items:
            if item.patient is not None:
                self._dates.setdefault(item.patient.casefold(), set()).add(item.visit_date)

    def record(self, item: Item, doc: dict[str, Any]) -> bool:
        """Record one item; return False when it has no patient/date to file it under.

        Parameters
        ----------
        item : Item
        doc : dict
            The item's ``lipsym.analysis`` document (as written to its JSON).

        Raises
        ------
        StoreError, ConfigurationError
            The store refused (e.g. a photo recorded with another expression).
        """
        if item.patient is None or item.visit_date is None:
            return False
        visit = self._visit(item.patient, item.visit_date)
        photos = {expression: self.store.add_photo(visit, path, expression) for expression, path in item.photos}
        if item.other is not None or any(r.get("status") != "ok" for r in doc["results"]):
            return True
        self.store.add_analysis(rest_photo=photos.get("rest"), smile_photo=photos.get("smile"),
                                settings=doc["settings"], result=doc, measures=measure_specs(doc),
                                model_sha256=doc["model_sha256"], lipsym_version=doc["lipsym_version"])
        return True

    def _visit(self, patient: str, day: _dt.date) -> Visit:
        self.store.get_or_create_patient(patient)
        key = patient.casefold()
        given = {d: kind for (p, d), kind in self._given.items() if p == key}
        kind = assign_kinds(patient, self._dates.get(key, {day}), given, self.store.list_visits(patient))[day]
        return self.store.get_or_create_visit(patient, day, kind)


def measure_specs(doc: dict[str, Any]) -> list[MeasureSpec]:
    """Queryable measure rows of a document, named as :mod:`lipsym.formats` names them.

    Per analysed rest or smile photo (condition = its expression): each sided
    measure's asymmetry (with its standard error), right and left values,
    each scalar, the composite; per pair, the dynamic sided measures.
    Missing (null) values are left out.
    """
    specs: list[MeasureSpec | None] = []
    for result in doc["results"]:
        if result.get("status") == "ok" and result["expression"] in ("rest", "smile"):
            condition, measures = result["expression"], result["measures"]
            specs += _sided_specs(measures["sided"], condition)
            specs += [_spec(k, m["value"], m["unit"], condition, m["standard_error"])
                      for k, m in measures["scalars"].items()]
            composite = measures["composite"]
            specs.append(_spec("composite", composite["value"], "1", condition, composite["standard_error"]))
    for pair in doc["pairs"]:
        specs += _sided_specs(pair["dynamic"], "dynamic")
    return [s for s in specs if s is not None]


def _sided_specs(sided: dict[str, Any], condition: str) -> list[MeasureSpec | None]:
    specs = []
    for key, m in sided.items():
        unit = m["unit"]
        specs.append(_spec(asymmetry_name(key), m["asymmetry"], unit, condition, m["standard_error"]))
        specs.append(_spec(f"{key}.right", m["right"], unit, condition))
        specs.append(_spec(f"{key}.left", m["left"], unit, condition))
    return specs


def _spec(name: str, value, unit: str, condition: str, standard_error=None) -> MeasureSpec | None:
    if value is None or not math.isfinite(value):
        return None
    se = standard_error if standard_error is not None and math.isfinite(standard_error) else None
    return MeasureSpec(name=name, value=float(value), unit=unit, condition=condition, standard_error=se)
