"""Tests of the visit-record store (lipsym.visits.store): schema, tables, validation, exports."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
import os
import socket
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from lipsym.errors import (
    ConfigurationError,
    ConflictError,
    LipsymError,
    NotFoundError,
    PhotoNotFoundError,
    StoreError,
)
from lipsym.visits.store import (
    SCHEMA_VERSION,
    MeasureSpec,
    SiteSpec,
    Store,
    backup_database,
    default_data_dir,
    resolve_db_path,
)
from lipsym.visits.store import _analyses as analyses_module
from lipsym.visits.store import _schema as schema

TABLES = ("meta", "patients", "visits", "photos", "analyses", "measures", "treatments", "treatment_sites")
SETTINGS = {"calibration": "iris", "iris_diameter_mm": 11.7}
MODEL_SHA = "ab" * 32


# --- helpers -----------------------------------------------------------------


def write_file(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def dump(db_path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, via an independent connection."""
    conn = sqlite3.connect(str(db_path))
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() if t != "meta"
                else conn.execute("SELECT * FROM meta ORDER BY key").fetchall() for t in TABLES}
    finally:
        conn.close()


def measures(value: float = 1.25) -> list[MeasureSpec]:
    return [
        MeasureSpec("commissure_height_asymmetry_mm", value, "mm", "rest", standard_error=0.2),
        MeasureSpec("upper_vermilion_ratio", 0.97, "1", "rest"),
    ]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "lipsym.sqlite3"


@pytest.fixture
def store(db_path: Path):
    with Store.open(db_path) as opened:
        yield opened


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    return tmp_path / "photos"


@pytest.fixture
def record(store: Store, photo_dir: Path):
    """One patient, a baseline and a follow-up, photos, analyses, a treatment."""
    patient = store.add_patient("P001", birth_year=1985, sex="female", notes="allergic to lidocaine")
    baseline = store.add_visit(patient, "2024-03-01", "baseline", notes="first consult")
    treatment_visit = store.add_visit(patient, "2024-03-01", "treatment")
    follow_up = store.add_visit(patient, dt.date(2024, 3, 15), "follow-up")
    rest = store.add_photo(baseline, write_file(photo_dir / "base_rest.jpg", b"rest-0"), "rest")
    smile = store.add_photo(baseline, write_file(photo_dir / "base_smile.jpg", b"smile-0"), "smile")
    fu_rest = store.add_photo(follow_up, write_file(photo_dir / "fu_rest.jpg", b"rest-1"), "rest")
    pair = store.add_analysis(
        rest_photo=rest,
        smile_photo=smile,
        settings=SETTINGS,
        result={"measures": {"commissure_height_asymmetry_mm": 1.25}, "warnings": []},
        measures=measures(1.25) + [MeasureSpec("smile_excursion_asymmetry_mm", 0.8, "mm", "dynamic", 0.3)],
        model_sha256=MODEL_SHA,
    )
    single = store.add_analysis(rest_photo=fu_rest, settings=SETTINGS, result={"ok": True}, measures=measures(0.4))
    treatment = store.add_treatment(
        treatment_visit,
        product_name="Juvederm Volbella",
        product_type="ha_filler",
        dose_value=1.0,
        dose_unit="ml",
        lot="V1234A",
        technique="linear threading, 30G needle",
        injector="Dr Example",
        notes="no bruising",
        sites=[
            SiteSpec("upper_lip", "right", 0.3),
            {"region": "upper_lip", "side": "left", "dose_value": 0.3},
            SiteSpec("cupids_bow", "midline"),
        ],
    )
    return {
        "patient": patient, "baseline": baseline, "treatment_visit": treatment_visit, "follow_up": follow_up,
        "rest": rest, "smile": smile, "fu_rest": fu_rest, "pair": pair, "single": single, "treatment": treatment,
    }


# --- opening, paths, schema ----------------------------------------------------


def test_open_creates_schema_with_wal_foreign_keys_and_timeout(store: Store, db_path: Path):
    conn = store._conn
    assert store.schema_version == SCHEMA_VERSION == len(schema.MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert set(TABLES) <= names
    key = conn.execute("SELECT value FROM meta WHERE key = 'pseudonym_key'").fetchone()[0]
    assert len(bytes.fromhex(key)) == 32
    assert store.check_integrity() == []
    if os.name == "posix":
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_default_path_follows_platform_conventions(tmp_path: Path):
    home = tmp_path / "home"
    assert default_data_dir(env={}, platform="linux", home=home) == home / ".local/share/lipsym"
    assert default_data_dir(env={"XDG_DATA_HOME": "/xdg"}, platform="linux", home=home) == Path("/xdg/lipsym")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    assert default_data_dir(env={"XDG_DATA_HOME": "rel"}, platform="linux", home=home) == home / ".local/share/lipsym"
    assert default_data_dir(env={}, platform="darwin", home=home) == home / "Library/Application Support/lipsym"
    assert default_data_dir(env={"APPDATA": "C:/Users/u/AppData/Roaming"}, platform="win32", home=home) == Path(
        "C:/Users/u/AppData/Roaming/lipsym"
    )
    assert resolve_db_path(env={}, platform="linux", home=home) == home / ".local/share/lipsym/lipsym.sqlite3"
    env = {"LIPSYM_DB": str(tmp_path / "env.sqlite3"), "XDG_DATA_HOME": "/xdg"}
    assert resolve_db_path(env=env) == tmp_path / "env.sqlite3"
    assert resolve_db_path(tmp_path / "explicit.sqlite3", env=env) == tmp_path / "explicit.sqlite3"


def test_open_without_path_uses_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "from_env" / "x.sqlite3"
    monkeypatch.setenv("LIPSYM_DB", str(target))
    with Store.open() as opened:
        assert opened.path == target
    assert target.is_file()


def test_open_refuses_missing_file_without_create(tmp_path: Path):
    with pytest.raises(NotFoundError):
        Store.open(tmp_path / "absent.sqlite3", create=False)
    assert not (tmp_path / "absent.sqlite3").exists()


def test_open_refuses_non_database_and_foreign_database(tmp_path: Path):
    junk = write_file(tmp_path / "junk.sqlite3", b"this is not a database, just text" * 100)
    with pytest.raises(StoreError, match="not a lipsym database"):
        Store.open(junk)
    assert junk.read_bytes() == b"this is not a database, just text" * 100
    foreign = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a lipsym store"):
        Store.open(foreign)
    conn = sqlite3.connect(foreign)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["invoices"]
    conn.close()


def test_open_refuses_newer_schema(db_path: Path):
    Store.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store.open(db_path)


def test_closed_store_raises_store_error(db_path: Path):
    opened = Store.open(db_path)
    opened.close()
    opened.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        opened.list_patients()


def test_data_survives_reopen(db_path: Path):
    with Store.open(db_path) as first:
        first.add_patient("P001")
    with Store.open(db_path) as second:
        assert [p.identifier for p in second.list_patients()] == ["P001"]


# --- round trips -----------------------------------------------------------------


def test_patient_round_trip_and_case_insensitive_identifier(store: Store):
    added = store.add_patient("  P001 ", birth_year=1985, sex="F", notes="note")
    assert added.identifier == "P001" and added.sex == "female" and added.birth_year == 1985 and added.notes == "note"
    assert store.get_patient("p001") == added
    store.add_patient("A002")
    assert [p.identifier for p in store.list_patients()] == ["A002", "P001"]
    with pytest.raises(ConflictError):
        store.add_patient("p001")
    with pytest.raises(NotFoundError):
        store.get_patient("P999")


def test_get_or_create_patient_is_idempotent_but_refuses_contradictions(store: Store):
    first = store.get_or_create_patient("P001", birth_year=1985)
    assert store.get_or_create_patient("P001") == first
    assert store.get_or_create_patient("P001", birth_year=1985) == first
    with pytest.raises(ConflictError, match="birth_year"):
        store.get_or_create_patient("P001", birth_year=1990)
    assert len(store.list_patients()) == 1


def test_visit_round_trip_order_and_conflict(store: Store):
    store.add_patient("P001")
    follow = store.add_visit("P001", "2024-03-15", "follow-up")
    treat = store.add_visit("P001", "2024-03-01", "treatment")
    base = store.add_visit("P001", dt.date(2024, 3, 1), "Baseline", notes="n")
    assert base.visit_date == dt.date(2024, 3, 1) and base.kind == "baseline" and base.notes == "n"
    # Same day: the baseline (photos before injection) comes first.
    assert store.list_visits("P001") == [base, treat, follow]
    assert store.get_visit(base.id) == base
    assert store.find_visit("P001", "2024-03-01", "treatment") == treat
    assert store.find_visit("P001", "2024-03-02", "treatment") is None
    with pytest.raises(ConflictError):
        store.add_visit("P001", "2024-03-01", "baseline")
    assert store.get_or_create_visit("P001", "2024-03-01", "baseline") == base
    assert store.get_or_create_visit("P001", "2024-03-01", "follow_up").kind == "follow-up"
    with pytest.raises(ConflictError):
        store.get_or_create_visit("P001", "2024-03-01", "baseline", notes="other")
    with pytest.raises(NotFoundError):
        store.get_visit(999)


def test_photo_round_trip_hash_and_idempotency(store: Store, photo_dir: Path):
    store.add_patient("P001")
    visit = store.add_visit("P001", "2024-03-01", "baseline")
    other_visit = store.add_visit("P001", "2024-03-15", "follow-up")
    content = os.urandom(3 * (1 << 20) + 17)  # several hashing chunks
    path = write_file(photo_dir / "rest.jpg", content)
    photo = store.add_photo(visit, path, "rest", capture_date="2024-03-01", width_px=4000, height_px=3000)
    assert photo.sha256 == hashlib.sha256(content).hexdigest()
    assert photo.size_bytes == len(content) and photo.path == str(path)
    assert (photo.expression, photo.capture_date, photo.width_px, photo.height_px) == (
        "rest", dt.date(2024, 3, 1), 4000, 3000)
    assert store.get_photo(photo.id) == photo
    # Same content again, even from another folder: the existing record.
    copy = write_file(photo_dir / "copy" / "renamed.jpg", content)
    assert store.add_photo(visit, path, "rest") == photo
    assert store.add_photo(visit.id, copy, "rest") == photo
    with pytest.raises(ConflictError, match="as 'rest'"):
        store.add_photo(visit, path, "smile")
    assert store.list_photos(visit) == [photo]
    # The same file recorded at another visit is another record (a mistake
    # the hash lookup exposes).
    again = store.add_photo(other_visit, path, "rest")
    assert again.id != photo.id
    assert store.find_photo_by_hash(photo.sha256.upper()) == [photo, again]
    assert store.find_photo_by_hash("0" * 64) == []


def test_photo_size_and_capture_date_from_image_header(store: Store, photo_dir: Path):
    Image = pytest.importorskip("PIL.Image")
    store.add_patient("P001")
    visit = store.add_visit("P001", "2024-03-01", "baseline")
    image = Image.new("RGB", (40, 30), (200, 150, 120))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees for display: width and height swap
    exif.get_ifd(0x8769)[0x9003] = "2024:03:01 10:11:12"
    path = photo_dir / "exif.jpg"
    photo_dir.mkdir(parents=True, exist_ok=True)
    image.save(path, exif=exif)
    photo = store.add_photo(visit, path, "rest")
    assert (photo.width_px, photo.height_px, photo.capture_date) == (30, 40, dt.date(2024, 3, 1))
    plain = write_file(photo_dir / "not_an_image.jpg", b"no header")
    assert store.add_photo(visit, plain, "other").width_px is None


def test_analysis_round_trip_idempotency_settings_and_replace(store: Store, record):
    pair = record["pair"]
    assert store.get_analysis(pair.id) == pair
    assert (pair.rest_photo_id, pair.smile_photo_id, pair.visit_id) == (
        record["rest"].id, record["smile"].id, record["baseline"].id)
    assert pair.settings == SETTINGS and pair.model_sha256 == MODEL_SHA
    assert pair.result["measures"]["commissure_height_asymmetry_mm"] == 1.25
    assert pair.settings_hash == hashlib.sha256(pair.settings_json.encode()).hexdigest()
    got = {(m.name, m.condition): m for m in store.get_measures(pair)}
    assert got["commissure_height_asymmetry_mm", "rest"].value == 1.25
    assert got["commissure_height_asymmetry_mm", "rest"].standard_error == 0.2
    assert got["smile_excursion_asymmetry_mm", "dynamic"].unit == "mm"
    n_measures = len(got)

    def again(**overrides):
        kwargs = dict(
            rest_photo=record["rest"], smile_photo=record["smile"], settings=dict(reversed(SETTINGS.items())),
            result={"warnings": [], "measures": {"commissure_height_asymmetry_mm": 1.25}},
            measures=measures(1.25) + [MeasureSpec("smile_excursion_asymmetry_mm", 0.8, "mm", "dynamic", 0.3)],
            model_sha256=MODEL_SHA.upper(),
        )
        kwargs.update(overrides)
        return store.add_analysis(**kwargs)

    # Same input and outcome (keys in another order): nothing new.
    assert again() == pair
    assert len(store.list_analyses(record["baseline"])) == 1
    assert len(store.get_measures(pair)) == n_measures
    # Same settings, different outcome: refused unless replace=True.
    with pytest.raises(ConflictError, match="replace=True"):
        again(result={"measures": {}}, measures=measures(2.0))
    replaced = again(result={"measures": {}}, measures=measures(2.0), replace=True)
    assert replaced.id == pair.id and replaced.result == {"measures": {}}
    assert sorted(m.value for m in store.get_measures(pair)) == [0.97, 2.0]
    # Different settings: a second analysis next to the first.
    other = again(settings={**SETTINGS, "calibration": "ruler"})
    assert other.id != pair.id
    assert len(store.list_analyses(record["baseline"])) == 2
    assert store.find_analysis(rest_photo=record["rest"].id, smile_photo=record["smile"], settings=SETTINGS) == replaced
    assert store.find_analysis(rest_photo=record["rest"], settings=SETTINGS) is None


def test_measures_for_patient_across_visits(store: Store, record):
    rows = store.measures_for_patient("P001", "commissure_height_asymmetry_mm")
    assert [(r.visit_date, r.visit_kind, r.value, r.condition) for r in rows] == [
        (dt.date(2024, 3, 1), "baseline", 1.25, "rest"),
        (dt.date(2024, 3, 15), "follow-up", 0.4, "rest"),
    ]
    assert rows[0].analysis_id == record["pair"].id and rows[0].unit == "mm"
    assert len(store.measures_for_patient("P001")) == 5
    assert [r.name for r in store.measures_for_patient(record["patient"], condition="dynamic")] == [
        "smile_excursion_asymmetry_mm"]
    assert store.measures_for_patient("P001", "no_such_measure") == []
    with pytest.raises(NotFoundError):
        store.measures_for_patient("P404")


def test_treatment_round_trip_units_and_sites(store: Store, record):
    treatment = record["treatment"]
    assert (treatment.product_type, treatment.dose_value, treatment.dose_unit, treatment.lot) == (
        "ha_filler", 1.0, "mL", "V1234A")
    assert [(s.position, s.region, s.side, s.dose_value) for s in treatment.sites] == [
        (0, "upper_lip", "right", 0.3), (1, "upper_lip", "left", 0.3), (2, "cupids_bow", "midline", None)]
    assert store.list_treatments(record["treatment_visit"]) == [treatment]
    toxin = store.add_treatment(
        record["follow_up"], product_name="Botox", product_type="neuromodulator", dose_value=4, dose_unit="units",
        sites=[SiteSpec("DAO", "right", 2), SiteSpec("dao", "left", 2)],
    )
    assert toxin.dose_unit == "U" and [s.region for s in toxin.sites] == ["dao", "dao"]
    assert store.add_treatment(
        record["follow_up"], product_name="Botox", product_type="neuromodulator", dose_value=4.0, dose_unit="u",
        sites=[SiteSpec("dao", "right", 2), SiteSpec("dao", "left", 2)],
    ) == toxin  # identical re-import: no doubled dose
    history = store.treatments_for_patient("P001")
    assert [(h.visit.kind, h.treatment.product_name) for h in history] == [
        ("treatment", "Juvederm Volbella"), ("follow-up", "Botox")]


# --- validation: typed one-line errors, nothing changed ---------------------------


def _bad_calls(record, photo_dir):
    visit = record["baseline"]
    rest, smile = record["rest"], record["smile"]
    ok_treatment = dict(product_name="X", product_type="ha_filler", dose_value=1.0, dose_unit="mL")
    return {
        "empty identifier": (ConfigurationError, lambda s: s.add_patient("   ")),
        "control char identifier": (ConfigurationError, lambda s: s.add_patient("P\n1")),
        "birth year": (ConfigurationError, lambda s: s.add_patient("P9", birth_year=1800)),
        "sex": (ConfigurationError, lambda s: s.add_patient("P9", sex="yes")),
        "duplicate patient": (ConflictError, lambda s: s.add_patient("P001")),
        "unknown patient": (NotFoundError, lambda s: s.add_visit("P404", "2024-01-01", "baseline")),
        "month 13": (ConfigurationError, lambda s: s.add_visit("P001", "2024-13-01", "baseline")),
        "30 February": (ConfigurationError, lambda s: s.add_visit("P001", "2024-02-30", "baseline")),
        "basic date format": (ConfigurationError, lambda s: s.add_visit("P001", "20240201", "baseline")),
        "datetime": (ConfigurationError, lambda s: s.add_visit("P001", dt.datetime(2024, 2, 1), "baseline")),
        "visit kind": (ConfigurationError, lambda s: s.add_visit("P001", "2024-02-01", "checkup")),
        "duplicate visit": (ConflictError, lambda s: s.add_visit("P001", "2024-03-01", "baseline")),
        "missing photo file": (PhotoNotFoundError, lambda s: s.add_photo(visit, photo_dir / "nope.jpg", "rest")),
        "expression": (ConfigurationError, lambda s: s.add_photo(visit, photo_dir / "base_rest.jpg", "frown")),
        "unknown visit": (NotFoundError, lambda s: s.add_photo(999, photo_dir / "base_rest.jpg", "rest")),
        "half size": (ConfigurationError, lambda s: s.add_photo(visit, photo_dir / "base_rest.jpg", "rest", width_px=10)),
        "zero dose": (ConfigurationError, lambda s: s.add_treatment(visit, **{**ok_treatment, "dose_value": 0})),
        "negative dose": (ConfigurationError, lambda s: s.add_treatment(visit, **{**ok_treatment, "dose_value": -0.5})),
        "nan dose": (ConfigurationError, lambda s: s.add_treatment(visit, **{**ok_treatment, "dose_value": math.nan})),
        "bool dose": (ConfigurationError, lambda s: s.add_treatment(visit, **{**ok_treatment, "dose_value": True})),
        "text dose": (ConfigurationError, lambda s: s.add_treatment(visit, **{**ok_treatment, "dose_value": "1"})),
        "dose unit": (ConfigurationError, lambda s: s.add_treatment(visit, **{**ok_treatment, "dose_unit": "cc"})),
        "product type": (ConfigurationError, lambda s: s.add_treatment(visit, **{**ok_treatment, "product_type": "laser"})),
        "filler in units": (ConfigurationError, lambda s: s.add_treatment(visit, **{**ok_treatment, "dose_unit": "U"})),
        "side": (ConfigurationError, lambda s: s.add_treatment(visit, **ok_treatment, sites=[SiteSpec("upper_lip", "both")])),
        "region": (ConfigurationError, lambda s: s.add_treatment(visit, **ok_treatment, sites=[SiteSpec("nose", "left")])),
        "site doses exceed total": (ConfigurationError, lambda s: s.add_treatment(
            visit, **ok_treatment, sites=[SiteSpec("upper_lip", "left", 0.6), SiteSpec("upper_lip", "right", 0.6)])),
        "treatment unknown visit": (NotFoundError, lambda s: s.add_treatment(999, **ok_treatment)),
        "no photos": (ConfigurationError, lambda s: s.add_analysis(settings={}, result={})),
        "swapped pair": (ConfigurationError, lambda s: s.add_analysis(rest_photo=smile, smile_photo=rest, settings={}, result={})),
        "nan in result": (ConfigurationError, lambda s: s.add_analysis(rest_photo=rest, settings={}, result={"x": math.nan})),
        "settings not object": (ConfigurationError, lambda s: s.add_analysis(rest_photo=rest, settings=[1], result={})),
        "nan measure": (ConfigurationError, lambda s: s.add_analysis(
            rest_photo=rest, settings={}, result={}, measures=[MeasureSpec("m", math.nan, "mm", "rest")])),
        "duplicate measure": (ConfigurationError, lambda s: s.add_analysis(
            rest_photo=rest, settings={}, result={}, measures=measures() + measures())),
        "dynamic measure of one photo": (ConfigurationError, lambda s: s.add_analysis(
            rest_photo=rest, settings={}, result={}, measures=[MeasureSpec("m", 1.0, "mm", "dynamic")])),
        "measure condition": (ConfigurationError, lambda s: s.add_analysis(
            rest_photo=rest, smile_photo=smile, settings={}, result={}, measures=[MeasureSpec("m", 1.0, "mm", "sleep")])),
        "model hash": (ConfigurationError, lambda s: s.add_analysis(rest_photo=rest, settings={}, result={}, model_sha256="xyz")),
        "unknown photo": (NotFoundError, lambda s: s.add_analysis(rest_photo=999, settings={}, result={})),
    }


def test_invalid_calls_raise_typed_one_line_errors_and_change_nothing(store: Store, record, photo_dir, db_path):
    before = dump(db_path)
    for label, (error_type, call) in _bad_calls(record, photo_dir).items():
        with pytest.raises(error_type) as caught:
            call(store)
        assert isinstance(caught.value, LipsymError), label
        message = str(caught.value)
        assert message and "\n" not in message, label
        assert dump(db_path) == before, f"{label} changed the database"


def test_failure_midway_through_a_write_rolls_everything_back(store: Store, record, db_path, monkeypatch):
    before = dump(db_path)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    # The analysis row is inserted, then writing its measures fails.
    monkeypatch.setattr(analyses_module, "_insert_measures", broken)
    with pytest.raises(RuntimeError):
        store.add_analysis(rest_photo=record["fu_rest"], settings={"new": 1}, result={},
                           measures=measures())
    assert dump(db_path) == before


def test_schema_constraints_back_up_validation_with_typed_errors(store: Store, record, db_path, monkeypatch):
    from lipsym.visits.store import _validate as validate

    before = dump(db_path)
    # If a validation were ever missed, the schema's CHECK still refuses the
    # row, and the caller still gets a typed one-line error.
    monkeypatch.setattr(validate, "expression", lambda value: "frown")
    with pytest.raises(StoreError, match="CHECK constraint failed"):
        store.add_photo(record["baseline"], write_file(Path(record["rest"].path).parent / "new.jpg", b"new"), "rest")
    monkeypatch.setattr(validate, "dose_unit", lambda value: "cc")
    monkeypatch.setattr(validate, "product_type", lambda value: "other")
    with pytest.raises(StoreError, match="CHECK constraint failed"):
        store.add_treatment(record["baseline"], product_name="X", product_type="x", dose_value=1, dose_unit="cc")
    assert dump(db_path) == before


def test_transaction_groups_calls_and_failed_call_inside_undoes_only_itself(store: Store, db_path):
    with store.transaction():
        store.add_patient("A1")
        with pytest.raises(ConflictError):
            store.add_patient("a1")
        store.add_patient("A2")
    assert [p.identifier for p in store.list_patients()] == ["A1", "A2"]
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.add_patient("A3")
            raise RuntimeError("abort the batch")
    assert [p.identifier for p in store.list_patients()] == ["A1", "A2"]


def test_importing_twice_adds_nothing(store: Store, photo_dir: Path, db_path: Path):
    files = [write_file(photo_dir / f"img{i}.jpg", f"photo {i}".encode()) for i in range(4)]

    def import_session():
        patient = store.get_or_create_patient("P001", birth_year=1990)
        visit = store.get_or_create_visit(patient, "2024-04-01", "baseline")
        rest = store.add_photo(visit, files[0], "rest")
        smile = store.add_photo(visit, files[1], "smile")
        for extra in files[2:]:
            store.add_photo(visit, extra, "other")
        store.add_analysis(rest_photo=rest, smile_photo=smile, settings=SETTINGS, result={"a": 1}, measures=measures())
        store.add_treatment(visit, product_name="Botox", product_type="neuromodulator", dose_value=4, dose_unit="U",
                            sites=[SiteSpec("dao", "left", 2), SiteSpec("dao", "right", 2)])

    import_session()
    first = dump(db_path)
    import_session()
    assert dump(db_path) == first


# --- verify_photo ---------------------------------------------------------------


def test_verify_photo_detects_ok_modified_moved_missing(store: Store, record, photo_dir: Path, tmp_path: Path):
    photo = record["rest"]
    assert store.verify_photo(photo).state == "ok" and store.verify_photo(photo.id).ok
    original = Path(photo.path).read_bytes()

    Path(photo.path).write_bytes(b"edited in an image editor")
    status = store.verify_photo(photo)
    assert status.state == "modified"
    assert status.current_sha256 == hashlib.sha256(b"edited in an image editor").hexdigest()

    archive = tmp_path / "archive" / "2024" / "renamed.jpg"
    write_file(archive, original)
    # The old path holds other content; the recorded content is elsewhere.
    assert store.verify_photo(photo, search_dirs=[tmp_path / "archive"]).candidates == (str(archive),)
    Path(photo.path).unlink()
    assert store.verify_photo(photo).state == "missing"
    moved = store.verify_photo(photo, search_dirs=[tmp_path / "archive", photo_dir])
    assert (moved.state, moved.candidates, moved.current_sha256) == ("moved", (str(archive),), None)
    write_file(tmp_path / "elsewhere" / "x.jpg", b"unrelated")
    assert store.verify_photo(photo, search_dirs=[tmp_path / "elsewhere"]).state == "missing"
    with pytest.raises(ConfigurationError):
        store.verify_photo(photo, search_dirs=[tmp_path / "no_such_dir"])

    with pytest.raises(ConflictError):
        store.relocate_photo(photo, tmp_path / "elsewhere" / "x.jpg")
    relocated = store.relocate_photo(photo, archive)
    assert relocated.path == str(archive) and relocated.sha256 == photo.sha256
    assert store.verify_photo(photo).state == "ok"


# --- backup -------------------------------------------------------------------------


def test_backup_is_a_usable_self_contained_copy_and_refuses_overwrite(store: Store, record, tmp_path: Path, db_path):
    dest = tmp_path / "backups" / "copy.sqlite3"
    dest.parent.mkdir()
    assert store.backup(dest) == dest
    assert not Path(f"{dest}-wal").exists()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["copy.sqlite3"]  # no temporary left
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    original = dump(db_path)
    assert dump(dest) == original
    with Store.open(dest) as copy:
        assert copy.export_patient("P001")["visits"] == store.export_patient("P001")["visits"]
        copy.add_patient("ONLY-IN-COPY")
    assert [p.identifier for p in store.list_patients()] == ["P001"]

    size_before = dest.stat().st_size
    content_before = dest.read_bytes()
    with pytest.raises(ConflictError, match="--force"):
        store.backup(dest)
    assert dest.read_bytes() == content_before and dest.stat().st_size == size_before
    store.add_patient("P002")
    store.backup(dest, overwrite=True)
    assert [p[1] for p in dump(dest)["patients"]] == ["P001", "P002"]
    with pytest.raises(ConfigurationError):
        store.backup(db_path, overwrite=True)


def test_backup_database_copies_without_migrating(tmp_path: Path):
    old = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    schema.migrate(conn, target=1)
    conn.execute("INSERT INTO patients (identifier, created_at) VALUES ('P001', 'x')")
    conn.close()
    copy = backup_database(old, tmp_path / "old-backup.sqlite3")
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT identifier FROM patients").fetchall() == [("P001",)]
    conn.close()
    with pytest.raises(ConflictError):
        backup_database(old, copy)


# --- exports ------------------------------------------------------------------------


def test_export_patient_json_round_trip(store: Store, record):
    document = store.export_patient("P001")
    assert json.loads(json.dumps(document)) == document  # JSON-serialisable, loses nothing
    assert document["format"] == "lipsym-patient-record" and document["schema_version"] == SCHEMA_VERSION
    assert document["patient"]["identifier"] == "P001" and document["patient"]["notes"] == "allergic to lidocaine"
    visits = document["visits"]
    assert [(v["visit_date"], v["kind"]) for v in visits] == [
        ("2024-03-01", "baseline"), ("2024-03-01", "treatment"), ("2024-03-15", "follow-up")]
    baseline = visits[0]
    assert [p["sha256"] for p in baseline["photos"]] == [record["rest"].sha256, record["smile"].sha256]
    (analysis,) = baseline["analyses"]
    assert analysis["settings"] == SETTINGS
    assert analysis["result"] == record["pair"].result
    assert {m["name"] for m in analysis["measures"]} == {
        "commissure_height_asymmetry_mm", "upper_vermilion_ratio", "smile_excursion_asymmetry_mm"}
    (treatment,) = visits[1]["treatments"]
    assert treatment["dose_value"] == 1.0 and treatment["dose_unit"] == "mL"
    assert [s["side"] for s in treatment["sites"]] == ["right", "left", "midline"]
    with pytest.raises(NotFoundError):
        store.export_patient("P404")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_export_patient_csv_round_trip(store: Store, record, tmp_path: Path):
    out = tmp_path / "export"
    files = store.export_patient_csv("P001", out)
    assert set(files) == {"patients", "visits", "photos", "analyses", "measures", "treatments", "treatment_sites"}
    assert all(p.parent == out for p in files.values())
    assert _read_csv(files["patients"]) == [{
        "id": str(record["patient"].id), "identifier": "P001", "birth_year": "1985", "sex": "female",
        "notes": "allergic to lidocaine", "created_at": record["patient"].created_at}]
    visits = _read_csv(files["visits"])
    assert [v["visit_date"] for v in visits] == ["2024-03-01", "2024-03-01", "2024-03-15"]
    assert visits[0]["notes"] == "first consult" and visits[1]["notes"] == ""
    photos = _read_csv(files["photos"])
    assert [(p["path"], p["sha256"]) for p in photos] == [
        (record[k].path, record[k].sha256) for k in ("rest", "smile", "fu_rest")]
    analyses = _read_csv(files["analyses"])
    assert [json.loads(a["result_json"]) for a in analyses] == [record["pair"].result, record["single"].result]
    stored = {(m.analysis_id, m.name, m.condition): m for a in ("pair", "single") for m in store.get_measures(record[a])}
    for row in _read_csv(files["measures"]):
        m = stored.pop((int(row["analysis_id"]), row["name"], row["condition"]))
        assert float(row["value"]) == m.value
        assert (float(row["standard_error"]) if row["standard_error"] else None) == m.standard_error
    assert not stored
    (treatment,) = _read_csv(files["treatments"])
    assert (treatment["product_name"], float(treatment["dose_value"]), treatment["dose_unit"]) == (
        "Juvederm Volbella", 1.0, "mL")
    assert [(s["region"], s["side"], s["dose_value"]) for s in _read_csv(files["treatment_sites"])] == [
        ("upper_lip", "right", "0.3"), ("upper_lip", "left", "0.3"), ("cupids_bow", "midline", "")]
    if os.name == "posix":
        assert stat.S_IMODE(files["patients"].stat().st_mode) == 0o600
    with pytest.raises(ConflictError):
        store.export_patient_csv("P001", out)
    store.export_patient_csv("P001", out, overwrite=True)


def _research_patients(store: Store, photo_dir: Path) -> None:
    for number, identifier in enumerate(("Smith-0042", "Jones-0043")):
        patient = store.get_or_create_patient(identifier, birth_year=1970 + number, notes=f"secret note {identifier}")
        base = store.get_or_create_visit(patient, "2024-01-10", "baseline", notes="confidential visit note")
        follow = store.get_or_create_visit(patient, "2024-01-24", "follow-up")
        for visit in (base, follow):
            photo = store.add_photo(
                visit, write_file(photo_dir / identifier / f"{visit.kind}.jpg", f"{identifier}{visit.id}".encode()),
                "rest", capture_date=visit.visit_date)
            store.add_analysis(rest_photo=photo, settings=SETTINGS, result={"who": identifier}, measures=measures())
        store.add_treatment(base, product_name="Restylane Kysse", product_type="ha_filler", dose_value=0.5,
                            dose_unit="mL", injector="Nurse Ratched", technique="bolus", notes="private",
                            sites=[SiteSpec("lower_lip", "left", 0.25)])


def test_research_export_pseudonymises_consistently(tmp_path: Path):
    outputs = {}
    for db_name in ("clinic_a", "clinic_b"):
        with Store.open(tmp_path / f"{db_name}.sqlite3") as opened:
            _research_patients(opened, tmp_path / "photos")
            first = opened.research_export(tmp_path / db_name / "1")
            second = opened.research_export(tmp_path / db_name / "2")
            pseudonyms = {row["pseudonym"] for row in _read_csv(first["patients"])}
            assert pseudonyms == {opened.pseudonym("Smith-0042"), opened.pseudonym("Jones-0043")}
            for name in first:
                if name != "manifest":
                    assert first[name].read_bytes() == second[name].read_bytes(), name  # stable within a DB
            outputs[db_name] = (first, pseudonyms)
            with pytest.raises(ConflictError):
                opened.research_export(tmp_path / db_name / "1")
    # Same patient codes, different databases: unrelated pseudonyms.
    assert not outputs["clinic_a"][1] & outputs["clinic_b"][1]

    files, pseudonyms = outputs["clinic_a"]
    everything = "".join(p.read_text(encoding="utf-8") for p in files.values())
    for secret in ("Smith", "Jones", "0042", "secret note", "confidential", "Nurse Ratched", "private",
                   str(tmp_path), "photos", "2024-01-10", "2024-01-24", "lidocaine"):
        assert secret not in everything, secret
    visits = _read_csv(files["visits"])
    assert sorted(v["visit_day"] for v in visits) == ["0", "0", "14", "14"]
    rows = _read_csv(files["measures"])
    assert len(rows) == 8 and {r["pseudonym"] for r in rows} == pseudonyms
    assert {r["name"] for r in rows} == {"commissure_height_asymmetry_mm", "upper_vermilion_ratio"}
    assert sorted(r["capture_day"] for r in _read_csv(files["photos"])) == ["0", "0", "14", "14"]
    assert [r["dose_value"] for r in _read_csv(files["treatments"])] == ["0.5", "0.5"]
    manifest = json.loads(files["manifest"].read_text())
    assert "NOT anonymised" in manifest["pseudonymisation"] and manifest["patients"] == 2


def test_research_export_can_keep_dates(store: Store, photo_dir: Path, tmp_path: Path):
    _research_patients(store, photo_dir)
    files = store.research_export(tmp_path / "dated", keep_dates=True)
    assert sorted({v["visit_day"] for v in _read_csv(files["visits"])}) == ["2024-01-10", "2024-01-24"]


# --- privacy -----------------------------------------------------------------------


def test_store_writes_only_its_database_and_uses_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def no_network(*_args, **_kwargs):
        raise AssertionError("the store tried to open a network socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.chdir(tmp_path)
    db_dir = tmp_path / "private"
    photo_dir = tmp_path / "photos"
    _ = write_file(photo_dir / "keep.jpg", b"x")
    with Store.open(db_dir / "lipsym.sqlite3") as opened:
        _research_patients(opened, photo_dir)
        opened.export_patient("Smith-0042")
        opened.measures_for_patient("Smith-0042")
        opened.verify_photo(1, search_dirs=[photo_dir])
        names = sorted(p.name for p in db_dir.iterdir())
        assert set(names) <= {"lipsym.sqlite3", "lipsym.sqlite3-wal", "lipsym.sqlite3-shm"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos", "private"]
    assert sorted(p.name for p in db_dir.iterdir()) == ["lipsym.sqlite3"]  # WAL folded back on close


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_new_database_directory_and_file_are_private(tmp_path: Path):
    with Store.open(tmp_path / "deep" / "er" / "db.sqlite3") as opened:
        opened.add_patient("P001")
    assert stat.S_IMODE((tmp_path / "deep" / "er" / "db.sqlite3").stat().st_mode) == 0o600
    wal = tmp_path / "deep" / "er" / "db.sqlite3-wal"
    assert not wal.exists() or stat.S_IMODE(wal.stat().st_mode) == 0o600
