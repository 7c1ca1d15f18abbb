"""Output formats: the measure registry drives the JSON, CSV and store rows; every JSON is versioned.

Real ``lipsym analyze`` output (the sample photo, the sample as its own
rest/smile pair, and a London pair when ../shared/data is present) is
validated against ``lipsym/formats/analysis.schema.json`` and compared, key by
key, with the measure registry: nothing unregistered is produced and nothing
registered is never produced.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import jsonschema
import pytest

from conftest import LONDON, REPO, SAMPLE
from lipsym.cli import main
from lipsym.formats._csv import to_csv
from lipsym.formats._envelope import ENVELOPE_FIELDS, SCHEMAS, envelope
from lipsym.formats._naming import (
    CSV_PREFIXES,
    CSV_SIDED_PARTS,
    SCALAR_PARTS,
    SIDED_PARTS,
    csv_column,
    json_path,
    naming_table,
    naming_table_markdown,
    parse_store_row_name,
    registry_table_markdown,
    store_row_name,
)
from lipsym.formats._store_rows import document_specs, sided_from_rows
from lipsym.measures._registry import (
    AGREEMENT_TIERS,
    COMPOSITE_KEY,
    KINDS,
    REGISTRY,
    MeasureInfo,
    agreement_tier,
    measures_of_kind,
)
from lipsym.report._format import SAME_ASYMMETRY_AS

DOCS = REPO / "docs" / "json-schema.md"
#: CSV columns that are not measures (identification, quality, scale, summary).
NON_MEASURE_COLUMNS = {"file", "expression", "status", "flags", "warnings", "yaw_deg", "pitch_deg", "roll_deg",
                       "ipd_mm", "mm_per_px", "scale_source", "scale_rel_uncertainty", "error"}


def _london_pair() -> tuple[Path, Path] | None:
    rests = sorted((LONDON / "neutral").glob("*_03.jpg")) if LONDON.is_dir() else []
    if not rests:
        return None
    rest = rests[0]
    return rest, LONDON / "smiling" / rest.name.replace("_03.jpg", "_08.jpg")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> list[tuple[dict, list[dict]]]:
    """``(document, CSV rows)`` of real analyses: the sample photo, the sample as a pair, a London pair."""
    tmp = tmp_path_factory.mktemp("formats")
    runs = [[str(SAMPLE), "--all-landmarks"], ["--rest", str(SAMPLE), "--smile", str(SAMPLE)]]
    if (pair := _london_pair()) is not None:
        runs.append(["--rest", str(pair[0]), "--smile", str(pair[1])])
    out = []
    for n, args in enumerate(runs):
        doc, table = tmp / f"{n}.json", tmp / f"{n}.csv"
        assert main(["analyze", *args, "-o", str(doc), "--csv", str(table)]) == 0
        out.append((json.loads(doc.read_text()), list(csv.DictReader(io.StringIO(table.read_text())))))
    return out


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("lipsym.formats").joinpath("analysis.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- the registry ---------------------------------------------------------------------------------


def test_registry_is_read_only_and_each_entry_is_complete():
    assert isinstance(REGISTRY, MappingProxyType)
    with pytest.raises(TypeError):
        REGISTRY["x"] = REGISTRY["commissure_height"]  # type: ignore[index]
    for key, info in REGISTRY.items():
        assert isinstance(info, MeasureInfo) and info.key == key and info.kind in KINDS
        assert info.unit in ("mm", "mm2", "deg", "1") and info.display_name and info.definition
        assert info.description.startswith(info.definition)
    assert [m.key for m in measures_of_kind("composite")] == [COMPOSITE_KEY]


def test_bands_are_reached_through_the_registry():
    from lipsym.measures._bands import BANDS, band_for

    for key, info in REGISTRY.items():
        band = band_for(key, 1.5, "rest")
        assert (band is None) == (info.band is None), key
        if info.band is not None:
            assert info.band in BANDS
    assert "lip-measures.md" not in band_for("commissure_height", 1.5, "rest").source


def test_every_sided_measure_has_an_agreement_tier_and_only_those_do():
    for key, info in REGISTRY.items():
        assert (info.agreement is not None) == (info.kind == "sided"), key
        assert info.agreement is None or info.agreement in AGREEMENT_TIERS, key


def test_agreement_tiers_bounds_and_what_they_allow():
    assert [agreement_tier(r) for r in (0.95, 0.9, 0.8999, 0.6, 0.5999, -0.2)] == \
        ["close", "close", "partial", "partial", "none", "none"]
    for info in measures_of_kind("sided"):
        # A reference range would lend a reading that does not follow the manual points a meaning.
        assert info.agreement != "none" or info.band is None, info.key
    # A measure whose asymmetry is another's (report tables leave it out) has that one's tier.
    for key, same in SAME_ASYMMETRY_AS.items():
        assert REGISTRY[key].agreement == REGISTRY[same].agreement


def test_the_schema_lists_the_agreement_tiers_of_the_registry():
    schema = json.loads(resources.files("lipsym.formats").joinpath("analysis.schema.json").read_text())
    assert schema["$defs"]["sided_measure"]["properties"]["agreement"]["enum"] == list(AGREEMENT_TIERS)


# --- the analysis document ------------------------------------------------------------------------


def test_real_documents_validate_against_the_schema(outputs, validator):
    for doc, _ in outputs:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, errors[:5]


def test_failed_photo_entry_validates(tmp_path, validator):
    out = tmp_path / "out.json"
    assert main(["analyze", str(SAMPLE), str(tmp_path / "missing.jpg"), "-o", str(out)]) == 1
    doc = json.loads(out.read_text())
    assert [r["status"] for r in doc["results"]] == ["ok", "error"]
    assert not list(validator.iter_errors(doc))


def test_schema_rejects_a_broken_document(outputs, validator):
    doc = json.loads(json.dumps(outputs[0][0]))
    del doc["results"][0]["measures"]["sided"]["commissure_height"]["unit"]
    assert not validator.is_valid(doc)
    doc = json.loads(json.dumps(outputs[0][0]))
    doc["schema_version"] = 2
    assert not validator.is_valid(doc)


def _produced(doc: dict) -> dict[str, dict[str, dict]]:
    """Kind → key → JSON entry of every measure in a document."""
    out: dict[str, dict[str, dict]] = {k: {} for k in KINDS}
    for r in doc["results"]:
        if r["status"] == "ok":
            out["sided"].update(r["measures"]["sided"])
            out["scalar"].update(r["measures"]["scalars"])
            out["composite"][COMPOSITE_KEY] = r["measures"]["composite"]
    for p in doc["pairs"]:
        out["dynamic"].update(p["dynamic"])
    return out


def test_registry_covers_every_measure_of_a_document_and_vice_versa(outputs):
    produced: dict[str, dict[str, dict]] = {k: {} for k in KINDS}
    for doc, _ in outputs:
        for kind, entries in _produced(doc).items():
            produced[kind].update(entries)
    for kind in KINDS:
        assert list(produced[kind]) == [m.key for m in measures_of_kind(kind)], kind
    for kind in ("sided", "dynamic", "scalar"):
        for key, entry in produced[kind].items():
            info = REGISTRY[key]
            assert entry["unit"] == info.unit and entry["description"] == info.description, key
            fields = SIDED_PARTS if info.is_sided else SCALAR_PARTS
            assert set(entry) - {"unit", "description", "band", "agreement"} == set(fields), key
            # The agreement tier is the registry's, present exactly when the registry has one.
            assert entry.get("agreement") == info.agreement, key


def test_optional_parts_follow_the_registry(outputs):
    for doc, _ in outputs:
        for kind in ("sided", "dynamic"):
            for key, entry in _produced(doc)[kind].items():
                info = REGISTRY[key]
                assert (entry["asymmetry_pct_ipd"] is not None) == info.has_pct_ipd, key
                moved = entry["right"] != 0 or entry["left"] != 0  # a ratio of two zeros is undefined
                assert (entry["ratio"] is not None) == (info.has_ratio and moved), key
        for r in doc["results"]:
            if r["status"] == "ok":
                bands = {k for k, m in r["measures"]["sided"].items() if "band" in m}
                assert bands == {m.key for m in measures_of_kind("sided") if m.band is not None}


# --- CSV ----------------------------------------------------------------------------------------------


def _expected_columns(doc: dict, prefix_of: dict[str, str]) -> set[str]:
    cols = set()
    for r in doc["results"]:
        prefix = prefix_of[r["expression"]]
        m = r["measures"]
        for key, entry in m["sided"].items():
            cols |= {prefix + csv_column(key, p) for p in CSV_SIDED_PARTS if entry[p] is not None}
        for key in [*m["scalars"], COMPOSITE_KEY]:
            cols |= {prefix + csv_column(key, p) for p in SCALAR_PARTS}
    for p in doc["pairs"]:
        for key, entry in p["dynamic"].items():
            cols |= {CSV_PREFIXES["dynamic"] + csv_column(key, part) for part in CSV_SIDED_PARTS
                     if entry[part] is not None}
    return cols


def test_csv_measure_columns_are_the_registry_naming_of_the_document(outputs):
    for doc, rows in outputs:
        prefixes = {"rest": "", "smile": "", "other": ""} if not doc["pairs"] else CSV_PREFIXES
        header = set(rows[0])
        measure_cols = {c for c in header if c.removeprefix("rest_").removeprefix("smile_") not in NON_MEASURE_COLUMNS
                        and not c.startswith("pattern_")}
        assert measure_cols == _expected_columns(doc, prefixes)


def test_csv_keeps_its_column_names():
    # Backwards compatibility: these names are in users' spreadsheets.
    assert csv_column("commissure_height", "asymmetry") == "commissure_height_asym_mm"
    assert csv_column("commissure_height", "standard_error") == "commissure_height_asym_se_mm"
    assert csv_column("upper_hemi_vermilion_area", "right") == "upper_hemi_vermilion_area_right_mm2"
    assert csv_column("smile_angle", "left") == "smile_angle_left_deg"
    assert csv_column("bow_width", "value") == "bow_width_mm"
    assert csv_column("lip_cant", "standard_error") == "lip_cant_se_deg"
    assert csv_column(COMPOSITE_KEY, "value") == "composite_score"
    assert csv_column("cheilion_movement", "ratio") == "cheilion_movement_ratio"
    assert to_csv([{"a": 0.1 + 0.2}]) == "a\n0.3\n"
    with pytest.raises(KeyError):
        csv_column("bow_width", "ratio")
    with pytest.raises(KeyError):
        csv_column("not_a_measure", "value")


# --- store rows -----------------------------------------------------------------------------------


def test_store_rows_are_the_registry_naming_and_read_back(outputs):
    doc = outputs[-1][0]  # a pair
    rows = document_specs(doc)
    names = {(r.condition, r.name) for r in rows}
    expected = set()
    for r in doc["results"]:
        m = r["measures"]
        for key in m["sided"]:
            expected |= {(r["expression"], store_row_name(key, p)) for p in ("asymmetry", "right", "left")}
        expected |= {(r["expression"], store_row_name(k)) for k in [*m["scalars"], COMPOSITE_KEY]}
    for key in doc["pairs"][0]["dynamic"]:
        expected |= {("dynamic", store_row_name(key, p)) for p in ("asymmetry", "right", "left")}
    assert names == expected and len(rows) == len(expected)
    for r in rows:
        key, part = parse_store_row_name(r.name)
        assert store_row_name(key, part) == r.name and r.unit == REGISTRY[key].unit
        assert (r.standard_error is not None) == (part in ("asymmetry", "value"))
    back = sided_from_rows(rows)
    rest = doc["results"][0]["measures"]["sided"]
    assert set(back["rest"]) == set(rest) and set(back["dynamic"]) == set(doc["pairs"][0]["dynamic"])
    for key, m in back["rest"].items():
        assert (m.right, m.left, m.asymmetry, m.standard_error) == tuple(
            rest[key][p] for p in ("right", "left", "asymmetry", "standard_error"))


def test_store_names_keep_their_form():
    assert store_row_name("commissure_height", "asymmetry") == "commissure_height.asymmetry"
    assert store_row_name("bow_width") == "bow_width" and store_row_name(COMPOSITE_KEY) == "composite"
    assert store_row_name("commissure_height", "ratio") is None
    assert parse_store_row_name("old_measure.left") == ("old_measure", "left")
    assert parse_store_row_name("some.dotted_name") == ("some.dotted_name", "value")


def test_formats_import_nothing_above_them():
    above = ("lipsym.pipeline", "lipsym.report", "lipsym.simulate", "lipsym.visits", "lipsym.batch", "lipsym.cli")
    for path in (REPO / "src" / "lipsym" / "formats").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(above), f"{path.name} imports {node.module}"


# --- documentation and envelopes -------------------------------------------------------------------


def test_docs_print_the_naming_table_and_every_schema():
    text = DOCS.read_text()
    assert naming_table_markdown() in text
    assert {row[0] for row in naming_table()} == set(KINDS)
    assert json_path("commissure_height", "asymmetry") == "results[i].measures.sided.commissure_height.asymmetry"
    for name, version in SCHEMAS.items():
        assert f"| `{name}` | {version} |" in text, name


def test_measures_doc_prints_the_registry():
    text = (REPO / "docs" / "measures.md").read_text()
    assert registry_table_markdown() in text and "lip-measures.md" not in text


def test_envelope_comes_first_and_is_not_overridden():
    doc = envelope("lipsym.patient", {"identifier": "P1"})
    assert tuple(doc)[:3] == ENVELOPE_FIELDS and doc["schema_version"] == SCHEMAS["lipsym.patient"]
    with pytest.raises(KeyError):
        envelope("lipsym.patient", {"schema": "x"})
    with pytest.raises(KeyError):
        envelope("lipsym.unknown", {})


def test_visit_record_commands_print_versioned_documents(tmp_path, capsys):
    d = ["--db", str(tmp_path / "r.sqlite3")]
    commands = {
        "lipsym.patient": ["patient", "add", "P1"],
        "lipsym.visit": ["visit", "add", "P1", "2024-05-02", "--kind", "baseline"],
        "lipsym.treatment": ["treatment", "add", "P1", "--visit", "baseline", "--product", "Botox", "--type",
                             "neuromodulator", "--dose", "4", "--unit", "units", "--site", "upper_lip:midline"],
        "lipsym.patients": ["patient", "list"],
        "lipsym.patient_history": ["patient", "show", "P1"],
        "lipsym.track": ["track", "P1"],
    }
    for schema, argv in commands.items():
        capsys.readouterr()
        assert main([*argv, "--json", *d]) == 0, argv
        doc = json.loads(capsys.readouterr().out)
        assert tuple(doc)[:3] == ENVELOPE_FIELDS, argv
        assert (doc["schema"], doc["schema_version"]) == (schema, SCHEMAS[schema])
        assert not any(isinstance(v, float) and math.isnan(v) for v in doc.values())


def test_photo_compare_prints_a_versioned_document(tmp_path, capsys):
    out = tmp_path / "c.png"
    assert main(["compare", str(SAMPLE), str(SAMPLE), "-o", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["schema"], doc["schema_version"]) == ("lipsym.photo_comparison", SCHEMAS["lipsym.photo_comparison"])
    assert doc["before"] == doc["after"] == [str(SAMPLE)] and doc["image"] == str(out)
    (changes,) = doc["changes"].values()
    assert changes and all(c["change"] == 0 for c in changes)
