"""The :class:`Store`: one open database and the operations on it.

The class only holds the connection, validates arguments and opens
transactions; rows are read and written by the generic accessor of
:mod:`._table`, with what is particular to each table in one module per
table (:mod:`._patients`, :mod:`._visits`, :mod:`._photos`,
:mod:`._analyses`, :mod:`._treatments`), the file formats in
:mod:`._export` and :mod:`._backup`, and damage found by :mod:`._integrity`
before anything is written.

Every method is atomic: it validates its arguments before writing, runs its
writes in one ``BEGIN IMMEDIATE`` transaction (or a savepoint inside
:meth:`Store.transaction`), and an error leaves the database unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from lipsym import __version__
from lipsym.errors import ConfigurationError, ConflictError, NotFoundError, StoreError
from lipsym.visits.store import (
    _analyses as analyses,
    _backup as backup,
    _export as export,
    _patients as patients,
    _photos as photos,
    _schema as schema,
    _treatments as treatments,
    _validate as validate,
    _visits as visits,
)
from lipsym.visits.store._db import BUSY_TIMEOUT_S, connect, create_private_file, read_transaction, write_transaction
from lipsym.visits.store._integrity import (
    DamagedDatabaseError,
    check_pages,
    check_references,
    inspect_file,
    refuse_damaged,
)
from lipsym.visits.store._editing import Editing
from lipsym.visits.store._paths import resolve_db_path
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
    Visit,
    VisitTreatment,
)

PathLike = str | os.PathLike[str]

# Which measure conditions a single-photo analysis can produce.
_CONDITIONS_BY_SLOTS = {
    (True, False): {"rest"},
    (False, True): {"smile"},
    (True, True): {"rest", "smile", "dynamic", "pair"},
}


class Store(Editing):
    """The patient visit-record store (an SQLite file).

    Open with :meth:`Store.open`, preferably as a context manager::

        with Store.open() as store:
            patient = store.get_or_create_patient("P001")
            visit = store.add_visit(patient, "2024-05-02", "baseline")
            photo = store.add_photo(visit, "rest.jpg", "rest")

    A Store belongs to one thread (SQLite connections are not shared);
    several processes may open the same file and write at once.

    Parameters
    ----------
    conn : sqlite3.Connection
        Open, migrated connection (use :meth:`open` rather than this).
    path : Path
        The database file.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._connection: sqlite3.Connection | None = conn
        self._path = path

    # --- lifetime -----------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: PathLike | None = None,
        *,
        create: bool = True,
        migrate: bool = True,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        check: bool = True,
    ) -> Store:
        """Open (and by default create and migrate) a store.

        Parameters
        ----------
        path : path-like, optional
            Database file. Default: ``$LIPSYM_DB``, else the per-user data
            directory (see :mod:`lipsym.visits.store`).
        create : bool
            Create the file (and its directory, private to the user) if absent.
        migrate : bool
            Bring an older schema up to date. With False, an outdated
            database raises :class:`StoreError` (back it up first with
            :func:`lipsym.visits.store.backup_database`, then open with True).
        busy_timeout_s : float
            How long a statement waits for another process' lock.
        check : bool
            Look for damage first (file header and length, write-ahead log,
            ``PRAGMA quick_check`` of every page; see
            :mod:`lipsym.visits.store._integrity`) and refuse a damaged file.
            It costs about one read of the file (``benchmarks/store_open.py``).

        Returns
        -------
        Store

        Raises
        ------
        NotFoundError
            The file does not exist and ``create`` is False.
        DamagedDatabaseError
            The file is damaged (a :class:`StoreError`; the message names
            the first problem, ``lipsym db check`` lists them all).
        StoreError
            The file is not a lipsym database, is newer than this lipsym, or
            needs a migration that ``migrate=False`` forbids.
        """
        db_path = resolve_db_path(path)
        if db_path.is_dir():
            raise ConfigurationError(f"{db_path} is a directory; give the database file name")
        if not db_path.exists():
            if not create:
                raise NotFoundError(f"{db_path}: no such database")
            try:
                create_private_file(db_path)
            except OSError as error:
                raise StoreError(f"cannot create database {db_path}: {error.strerror or error}") from error
        if check:
            refuse_damaged(db_path, inspect_file(db_path))
        conn = connect(db_path, busy_timeout_s=busy_timeout_s)
        try:
            if check:
                refuse_damaged(db_path, check_pages(conn, db_path))
            cls._bring_up_to_date(conn, db_path, migrate)
        except sqlite3.DatabaseError as error:
            conn.close()
            if isinstance(error, DamagedDatabaseError):  # a damaged page that the check was told to skip
                raise DamagedDatabaseError(db_path, list(error.problems)) from error
            raise StoreError(f"cannot use database {db_path}: {' '.join(str(error).split())}") from error
        except BaseException:
            conn.close()
            raise
        return cls(conn, db_path)

    @staticmethod
    def _bring_up_to_date(conn: sqlite3.Connection, db_path: Path, migrate: bool) -> None:
        version = schema.schema_version(conn)
        if version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"{db_path} has schema version {version}, newer than this lipsym's "
                f"({schema.SCHEMA_VERSION}); upgrade lipsym"
            )
        if version < schema.SCHEMA_VERSION:
            if not migrate and version > 0:
                raise StoreError(
                    f"{db_path} has schema version {version} and needs migrating to "
                    f"{schema.SCHEMA_VERSION}; back it up, then open it with migrate=True"
                )
            schema.migrate(conn)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._connection is not None:
            if self._connection.in_transaction:
                self._connection.rollback()
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StoreError("the store is closed")
        return self._connection

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def schema_version(self) -> int:
        """The database's schema version."""
        return schema.schema_version(self._conn)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group several calls into one atomic write transaction.

        Inside the block each call still undoes its own changes when it
        fails (savepoints); an exception escaping the block undoes all of
        them. Keep the block short: it holds the database's write lock.
        """
        with write_transaction(self._conn):
            yield self

    # --- patients -----------------------------------------------------------

    def add_patient(
        self, identifier: str, *, birth_year: int | None = None, sex: str | None = None, notes: str | None = None
    ) -> Patient:
        """Add a patient.

        Parameters
        ----------
        identifier : str
            The user's pseudonymous code (e.g. ``"P001"``); never a name.
            Unique, case-insensitively.
        birth_year : int, optional
        sex : {"female", "male", "other"}, optional
        notes : str, optional

        Raises
        ------
        ConflictError
            A patient with this identifier exists.
        ConfigurationError
            An argument is invalid.
        """
        args = self._patient_args(identifier, birth_year, sex, notes)
        with write_transaction(self._conn) as conn:
            return patients.insert(conn, *args)

    def get_or_create_patient(
        self, identifier: str, *, birth_year: int | None = None, sex: str | None = None, notes: str | None = None
    ) -> Patient:
        """Return the patient, adding it if absent (idempotent import).

        Raises
        ------
        ConflictError
            The patient exists and a given optional field differs from the
            stored one (a sign of two people under one code).
        """
        args = self._patient_args(identifier, birth_year, sex, notes)
        with write_transaction(self._conn) as conn:
            return patients.get_or_insert(conn, *args)

    @staticmethod
    def _patient_args(identifier: Any, birth_year: Any, sex: Any, notes: Any) -> tuple:
        return (
            validate.identifier(identifier),
            validate.birth_year(birth_year),
            validate.sex(sex),
            validate.optional_text(notes, "patient notes"),
        )

    def get_patient(self, identifier: str) -> Patient:
        """Return the patient with this identifier (NotFoundError if none)."""
        return patients.require(self._conn, identifier)

    def list_patients(self) -> list[Patient]:
        """Return all patients, by identifier."""
        return patients.list_all(self._conn)

    # --- visits -------------------------------------------------------------

    def add_visit(
        self, patient: Patient | str, visit_date: _dt.date | str, kind: str, *, notes: str | None = None
    ) -> Visit:
        """Add a visit of a patient.

        Parameters
        ----------
        patient : Patient or str
            The patient or its identifier.
        visit_date : datetime.date or str
            ``YYYY-MM-DD``.
        kind : {"baseline", "treatment", "follow-up", "maintenance"}
        notes : str, optional

        Raises
        ------
        NotFoundError
            Unknown patient.
        ConflictError
            The patient already has a visit of this kind on this date (use
            :meth:`get_or_create_visit` for idempotent imports).
        """
        day, kind, notes = self._visit_args(visit_date, kind, notes)
        with write_transaction(self._conn) as conn:
            return visits.insert(conn, patients.require(conn, patient), day, kind, notes)

    def get_or_create_visit(
        self, patient: Patient | str, visit_date: _dt.date | str, kind: str, *, notes: str | None = None
    ) -> Visit:
        """Return the patient's visit of this kind on this date, adding it if absent.

        Raises
        ------
        ConflictError
            It exists with different notes.
        """
        day, kind, notes = self._visit_args(visit_date, kind, notes)
        with write_transaction(self._conn) as conn:
            return visits.get_or_insert(conn, patients.require(conn, patient), day, kind, notes)

    @staticmethod
    def _visit_args(visit_date: Any, kind: Any, notes: Any) -> tuple[_dt.date, str, str | None]:
        return (
            validate.iso_date(visit_date, "visit date"),
            validate.visit_kind(kind),
            validate.optional_text(notes, "visit notes"),
        )

    def get_visit(self, visit_id: int) -> Visit:
        """Return a visit by id (NotFoundError if none)."""
        return visits.require(self._conn, visit_id)

    def find_visit(self, patient: Patient | str, visit_date: _dt.date | str, kind: str) -> Visit | None:
        """Return the patient's visit of this kind on this date, or None."""
        day, kind, _ = self._visit_args(visit_date, kind, None)
        return visits.find(self._conn, patients.require(self._conn, patient), day, kind)

    def list_visits(self, patient: Patient | str) -> list[Visit]:
        """Return a patient's visits, by date (baseline before treatment on the same day)."""
        return visits.list_for_patient(self._conn, patients.require(self._conn, patient))

    # --- photos -------------------------------------------------------------

    def add_photo(
        self,
        visit: Visit | int,
        path: PathLike,
        expression: str,
        *,
        capture_date: _dt.date | str | None = None,
        width_px: int | None = None,
        height_px: int | None = None,
    ) -> Photo:
        """Record a photo of a visit (its path and SHA-256; never its pixels).

        The file is hashed by streaming it, before the write lock is taken.
        Missing size and capture date are read from the image header and
        EXIF when possible.

        Parameters
        ----------
        visit : Visit or int
        path : path-like
            Recorded absolute (relative paths are taken from the current
            directory).
        expression : {"rest", "smile", "other"}
        capture_date : datetime.date or str, optional
        width_px, height_px : int, optional
            Give both or neither.

        Returns
        -------
        Photo
            The new record, or the visit's existing record of the same
            content (idempotent: its path is left as first recorded).

        Raises
        ------
        NotFoundError
            Unknown visit.
        PhotoNotFoundError, UnreadablePhotoError
            The file is missing or unreadable.
        ConflictError
            The same content is recorded for the visit with another expression.
        """
        expression = validate.expression(expression)
        capture = validate.optional_date(capture_date, "capture date")
        width = validate.optional_positive_int(width_px, "width_px")
        height = validate.optional_positive_int(height_px, "height_px")
        if (width is None) != (height is None):
            raise ConfigurationError("give both width_px and height_px, or neither")
        visits.require(self._conn, visit)  # fail before reading a large file
        abs_path = photos.absolute_path(path)
        sha256, size_bytes = photos.hash_file(abs_path)
        if width is None or capture is None:
            probed_width, probed_height, probed_date = photos.probe_image(abs_path)
            if width is None:
                width, height = probed_width, probed_height
            if capture is None:
                capture = probed_date
        with write_transaction(self._conn) as conn:
            return photos.get_or_insert(
                conn, visits.require(conn, visit), abs_path, sha256, size_bytes, expression, capture, width, height
            )

    def get_photo(self, photo_id: int) -> Photo:
        """Return a photo by id (NotFoundError if none)."""
        return photos.require(self._conn, photo_id)

    def list_photos(self, visit: Visit | int) -> list[Photo]:
        """Return a visit's photos, in the order they were added."""
        return photos.list_for_visit(self._conn, visits.require(self._conn, visit))

    def find_photo_by_hash(self, sha256: str) -> list[Photo]:
        """Return every photo record with this content hash (any visit)."""
        return photos.find_by_hash(self._conn, validate.sha256_hex(sha256, "sha256"))

    def verify_photo(self, photo: Photo | int, *, search_dirs: Iterable[PathLike] = ()) -> PhotoStatus:
        """Check that a recorded photo is still at its path, unchanged.

        Parameters
        ----------
        photo : Photo or int
        search_dirs : iterable of path-like
            Searched recursively for the recorded content when the file is
            missing or changed (only same-size files are hashed).

        Returns
        -------
        PhotoStatus
            ``state`` is ``ok``, ``moved`` (see ``candidates``), ``modified``
            or ``missing``. Nothing is changed in the store; see
            :meth:`relocate_photo`.
        """
        return photos.verify(photos.require(self._conn, photo), search_dirs)

    def relocate_photo(self, photo: Photo | int, new_path: PathLike) -> Photo:
        """Record a new path for a photo whose file was moved.

        Raises
        ------
        ConflictError
            The file at ``new_path`` does not have the recorded content.
        """
        record = photos.require(self._conn, photo)
        abs_path = photos.absolute_path(new_path)
        sha256, _ = photos.hash_file(abs_path)
        if sha256 != record.sha256:
            raise ConflictError(f"{abs_path} is not photo {record.id}: its content differs")
        with write_transaction(self._conn) as conn:
            return photos.relocate(conn, photos.require(conn, record.id), abs_path)

    # --- analyses -----------------------------------------------------------

    def add_analysis(
        self,
        *,
        rest_photo: Photo | int | None = None,
        smile_photo: Photo | int | None = None,
        settings: Mapping[str, Any] | str,
        result: Any,
        measures: Iterable[MeasureSpec | Mapping[str, Any]] = (),
        model_sha256: str | None = None,
        lipsym_version: str | None = None,
        replace: bool = False,
    ) -> Analysis:
        """Record an analysis of a photo, or of a visit's rest/smile pair.

        Parameters
        ----------
        rest_photo, smile_photo : Photo or int, optional
            At least one; for a pair, both from the same visit.
        settings : dict or JSON text
            Stored canonically; its SHA-256 is the ``settings_hash``.
        result : JSON-serialisable object or JSON text
            The full result document (no NaN: use null).
        measures : iterable of MeasureSpec or dict
            Queryable copies of the measures. A single-photo analysis can
            only hold measures of its condition (``rest`` or ``smile``).
        model_sha256 : str, optional
        lipsym_version : str, optional
            Default: the running lipsym.
        replace : bool
            Replace an existing analysis of the same photos and settings
            (keeping its id).

        Returns
        -------
        Analysis
            The new record, or the identical existing one.

        Raises
        ------
        ConflictError
            The same photos and settings were analysed with a different
            outcome and ``replace`` is False.
        NotFoundError
            Unknown photo.
        ConfigurationError
            Invalid arguments.
        """
        settings_json, settings_hash = analyses.prepare_settings(settings)
        result_json = analyses.canonical_json(result, "result")
        specs = analyses.prepare_measures(measures)
        model = validate.optional_sha256_hex(model_sha256, "model_sha256")
        version = validate.required_text(__version__ if lipsym_version is None else lipsym_version, "lipsym version", 64)
        allowed = _CONDITIONS_BY_SLOTS.get((rest_photo is not None, smile_photo is not None), set())
        for spec in specs:
            if allowed and spec.condition not in allowed:
                raise ConfigurationError(
                    f"measure {spec.name!r} has condition {spec.condition!r}, impossible for an analysis of one photo"
                )
        with write_transaction(self._conn) as conn:
            rest = None if rest_photo is None else photos.require(conn, rest_photo)
            smile = None if smile_photo is None else photos.require(conn, smile_photo)
            visit_id = analyses.check_photos(rest, smile)
            return analyses.add(
                conn,
                visit_id,
                None if rest is None else rest.id,
                None if smile is None else smile.id,
                version,
                model,
                settings_json,
                settings_hash,
                result_json,
                specs,
                replace,
            )

    def find_analysis(
        self,
        *,
        rest_photo: Photo | int | None = None,
        smile_photo: Photo | int | None = None,
        settings: Mapping[str, Any] | str,
    ) -> Analysis | None:
        """Return the analysis of these photos with these settings, or None.

        Lets a batch run skip inputs already analysed before doing the work.
        """
        _, settings_hash = analyses.prepare_settings(settings)
        rest = None if rest_photo is None else photos.require(self._conn, rest_photo)
        smile = None if smile_photo is None else photos.require(self._conn, smile_photo)
        visit_id = analyses.check_photos(rest, smile)
        return analyses.find(
            self._conn, visit_id, None if rest is None else rest.id, None if smile is None else smile.id, settings_hash
        )

    def get_analysis(self, analysis_id: int) -> Analysis:
        """Return an analysis by id (NotFoundError if none)."""
        return analyses.require(self._conn, analysis_id)

    def list_analyses(self, visit: Visit | int) -> list[Analysis]:
        """Return a visit's analyses, in the order they were added."""
        return analyses.list_for_visit(self._conn, visits.require(self._conn, visit))

    def get_measures(self, analysis: Analysis | int) -> list[Measure]:
        """Return the measures of an analysis."""
        return analyses.measures_of(self._conn, analyses.require(self._conn, analysis).id)

    def measures_for_patient(
        self, patient: Patient | str, name: str | None = None, *, condition: str | None = None
    ) -> list[MeasureRow]:
        """Return a patient's measures with their visit, by visit date.

        Parameters
        ----------
        patient : Patient or str
        name : str, optional
            Only this measure (e.g. ``"commissure_height.asymmetry"``, see
            :func:`lipsym.formats.store_row_name`).
        condition : {"rest", "smile", "dynamic", "pair"}, optional
        """
        cond = None if condition is None else validate.condition(condition)
        name = None if name is None else validate.required_text(name, "measure name")
        with read_transaction(self._conn) as conn:
            return analyses.measures_for_patient(conn, patients.require(conn, patient), name, cond)

    # --- treatments ---------------------------------------------------------

    def add_treatment(
        self,
        visit: Visit | int,
        *,
        product_name: str,
        product_type: str,
        dose_value: float,
        dose_unit: str,
        sites: Iterable[SiteSpec | Mapping[str, Any]] = (),
        lot: str | None = None,
        technique: str | None = None,
        injector: str | None = None,
        notes: str | None = None,
    ) -> Treatment:
        """Record a product injected at a visit, with its injection sites.

        Parameters
        ----------
        visit : Visit or int
        product_name : str
        product_type : {"ha_filler", "neuromodulator", "other"}
        dose_value : float
            Total dose, > 0.
        dose_unit : {"mL", "U"}
            ``ml``, ``u``, ``units`` are accepted. Fillers are in mL,
            neuromodulators in U.
        sites : iterable of SiteSpec or dict
            ``region`` (upper_lip, lower_lip, vermilion_border, commissure,
            cupids_bow, philtrum, dao, mentalis, orbicularis_oris, other),
            ``side`` (the patient's right, left, or midline), optional
            ``dose_value`` in ``dose_unit``; site doses may not exceed the total.
        lot, technique, injector, notes : str, optional

        Returns
        -------
        Treatment
            The new record, or an identical one already recorded for the
            visit (repeated imports do not double doses).
        """
        spec = treatments.prepare(
            product_name=product_name,
            product_type=product_type,
            dose_value=dose_value,
            dose_unit=dose_unit,
            sites=sites,
            lot=lot,
            technique=technique,
            injector=injector,
            notes=notes,
        )
        with write_transaction(self._conn) as conn:
            return treatments.get_or_insert(conn, visits.require(conn, visit), spec)

    def list_treatments(self, visit: Visit | int) -> list[Treatment]:
        """Return a visit's treatments."""
        return treatments.list_for_visit(self._conn, visits.require(self._conn, visit))

    def treatments_for_patient(self, patient: Patient | str) -> list[VisitTreatment]:
        """Return a patient's treatments with their visits, by visit date."""
        with read_transaction(self._conn) as conn:
            return treatments.for_patient(conn, patients.require(conn, patient))

    # --- export and maintenance ----------------------------------------------

    def export_patient(self, patient: Patient | str) -> dict[str, Any]:
        """Return a patient's full record as a JSON-serialisable dict (one snapshot)."""
        with read_transaction(self._conn) as conn:
            return export.patient_document(conn, patients.require(conn, patient))

    def export_patient_json(self, patient: Patient | str, path: PathLike, *, overwrite: bool = False) -> Path:
        """Write a patient's full record (:meth:`export_patient`) to a JSON file, private to the user.

        Raises
        ------
        ConflictError
            ``path`` exists and ``overwrite`` is False.
        """
        with read_transaction(self._conn) as conn:
            return export.write_patient_json(conn, patients.require(conn, patient), path, overwrite)

    def export_patient_csv(
        self, patient: Patient | str, directory: PathLike, *, overwrite: bool = False
    ) -> dict[str, Path]:
        """Write a patient's record as one CSV per table into ``directory``.

        Returns
        -------
        dict
            Table name (``patients``, ``visits``, ``photos``, ``analyses``,
            ``measures``, ``treatments``, ``treatment_sites``) to file.

        Raises
        ------
        ConflictError
            A target file exists and ``overwrite`` is False (nothing written).
        """
        with read_transaction(self._conn) as conn:
            return export.write_patient_csv(conn, patients.require(conn, patient), directory, overwrite)

    def research_export(
        self, directory: PathLike, *, keep_dates: bool = False, overwrite: bool = False
    ) -> dict[str, Path]:
        """Write all patients, pseudonymised, as CSV files plus ``manifest.json``.

        This is pseudonymisation, not anonymisation: see
        :mod:`lipsym.visits.store` for what is replaced, dropped and kept.

        Parameters
        ----------
        directory : path-like
        keep_dates : bool
            Keep calendar dates instead of days since each patient's first visit.
        overwrite : bool

        Returns
        -------
        dict
            Table name (and ``manifest``) to file.
        """
        with read_transaction(self._conn) as conn:
            return export.research_export(conn, directory, keep_dates, overwrite)

    def pseudonym(self, patient: Patient | str) -> str:
        """Return the research-export pseudonym of a patient (for linking results back)."""
        with read_transaction(self._conn) as conn:
            return export.pseudonym(export.pseudonym_key(conn), patients.require(conn, patient).identifier)

    def backup(self, dest_path: PathLike, *, overwrite: bool = False) -> Path:
        """Write a consistent, self-contained copy of the database to ``dest_path``.

        Raises
        ------
        ConflictError
            ``dest_path`` exists and ``overwrite`` is False.
        """
        if self._conn.in_transaction:
            raise StoreError("cannot back up inside a transaction: the copy would miss its changes")
        return backup.backup_connection(self._conn, self._path, dest_path, overwrite=overwrite)

    def check_integrity(self) -> list[str]:
        """Run SQLite's integrity and foreign-key checks; return the problems (empty if none).

        To examine a database that :meth:`open` refuses, use
        :func:`lipsym.visits.store.diagnose`.
        """
        problems = check_pages(self._conn, self._path, full=True) + check_references(self._conn, self._path)
        return [str(p) for p in problems]
