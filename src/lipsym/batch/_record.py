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
``kind`` column; :func:`lipsym.formats.store_row_name`). The rows are built
from the JSON document (:func:`lipsym.formats.document_specs`) rather than
from measure objects, because a reused result exists only as its document.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from lipsym.io._collection import Collection, Item
from lipsym.visits.store import Store, Visit
from lipsym.formats._store_rows import document_specs
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
                                settings=doc["settings"], result=doc, measures=document_specs(doc),
                                model_sha256=doc["model_sha256"], lipsym_version=doc["lipsym_version"])
        return True

    def _visit(self, patient: str, day: _dt.date) -> Visit:
        self.store.get_or_create_patient(patient)
        key = patient.casefold()
        given = {d: kind for (p, d), kind in self._given.items() if p == key}
        kind = assign_kinds(patient, self._dates.get(key, {day}), given, self.store.list_visits(patient))[day]
        return self.store.get_or_create_visit(patient, day, kind)
