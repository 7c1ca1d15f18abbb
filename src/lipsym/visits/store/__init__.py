"""The patient visit-record store: patients, visits, photos, analyses, treatments.

One SQLite file per user (see :mod:`lipsym.visits.store`), safe for several
processes writing at once. Photos are recorded by path and SHA-256, never
by pixels. Start with :meth:`Store.open`::

    from lipsym.visits.store import Store

    with Store.open() as store:
        visit = store.get_or_create_visit(store.get_or_create_patient("P001"), "2024-05-02", "baseline")
        rest = store.add_photo(visit, "P001_rest.jpg", "rest")
"""

from lipsym._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_store": ["Store"],
    "_records": ["Patient", "Visit", "Photo", "PhotoStatus", "Analysis", "Measure", "MeasureRow", "MeasureSpec",
                 "Treatment", "TreatmentSite", "SiteSpec", "VisitTreatment", "to_json_dict"],
    "_backup": ["backup_database", "backup_before_migration"],
    "_damage": ["Damage"],
    "_integrity": ["DamagedDatabaseError", "inspect_file"],
    "_salvage": ["SalvageReport", "diagnose", "salvage", "restore_database"],
    "_paths": ["resolve_db_path", "default_data_dir", "ENV_VAR"],
    "_schema": ["SCHEMA_VERSION"],
    "_meta": ["read_meta", "write_meta"],
    "_history": ["HistoryEntry"],
    "_editing": ["UNCHANGED"],
})
