"""The patient visit-record store: patients, visits, photos, analyses, treatments.

One SQLite file per user (see :mod:`lipsym.visits.store`), safe for several
processes writing at once. Photos are recorded by path and SHA-256, never
by pixels. Start with :meth:`Store.open`::

    from lipsym.visits.store import Store

    with Store.open() as store:
        visit = store.get_or_create_visit(store.get_or_create_patient("P001"), "2024-05-02", "baseline")
        rest = store.add_photo(visit, "P001_rest.jpg", "rest")
"""

from lipsym.visits.store._backup import backup_before_migration, backup_database
from lipsym.visits.store._paths import ENV_VAR, default_data_dir, resolve_db_path
from lipsym.visits.store._records import (
    Analysis,
    Measure,
    MeasureRow,
    MeasureSpec,
    Patient,
    Photo,
    PhotoStatus,
    SiteSpec,
    Treatment,
    TreatmentSite,
    Visit,
    VisitTreatment,
    to_json_dict,
)
from lipsym.visits.store._schema import SCHEMA_VERSION
from lipsym.visits.store._store import Store

__all__ = [
    "Store",
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
    "backup_database",
    "backup_before_migration",
    "resolve_db_path",
    "default_data_dir",
    "ENV_VAR",
    "SCHEMA_VERSION",
]
