"""Which photos a batch analyses: the folder convention and the manifest CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lipsym.io._collection import CollectionError, Item, discover, read_manifest
from lipsym.errors import ConfigurationError


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not decoded by discovery")


def _by_name(collection):
    return {item.name: item for item in collection.items}


def test_folder_convention_pairs_visits_and_keeps_the_rest_alone(tmp_path):
    _touch(tmp_path, "P001/2024-05-02/rest.jpg", "P001/2024-05-02/Smile.JPEG", "P001/2024-05-02/profile.png",
           "P001/2024-09-30/REST.heic", "P002/2025-01-15/smile.tif", "loose/a.jpg", "loose/a.png",
           "loose/rest.webp", "top.bmp", "P001/2024-05-02/notes.txt", ".hidden/rest.jpg", "loose/.x.jpg")
    c = discover(tmp_path)
    items = _by_name(c)
    assert set(items) == {"P001/2024-05-02/pair", "P001/2024-05-02/profile.png", "P001/2024-09-30/REST.heic",
                          "P002/2025-01-15/smile.tif", "loose/a.jpg", "loose/a.png", "loose/rest.webp", "top.bmp"}
    pair = items["P001/2024-05-02/pair"]
    assert pair.is_pair and pair.patient == "P001" and pair.visit_date == dt.date(2024, 5, 2)
    assert pair.rest.name == "rest.jpg" and pair.smile.name == "Smile.JPEG" and pair.other is None
    other = items["P001/2024-05-02/profile.png"]
    assert other.photos == (("other", tmp_path / "P001/2024-05-02/profile.png"),) and other.patient == "P001"
    assert items["P001/2024-09-30/REST.heic"].rest is not None   # a rest without its smile: alone, as rest
    assert items["P002/2025-01-15/smile.tif"].smile is not None
    assert items["loose/a.jpg"].patient is None and items["loose/a.jpg"].visit_date is None
    assert items["loose/a.jpg"].other is not None
    assert items["loose/rest.webp"].rest is not None and items["loose/rest.webp"].patient is None
    assert c.problems == () and c.n_photos == 9
    assert [i.name for i in c.items] == sorted(items)            # stable order


def test_folder_problems_are_reported_not_fatal(tmp_path):
    _touch(tmp_path, "P001/2024-13-45/rest.jpg", "P001/2024-13-45/smile.jpg",
           "P002/2024-05-02/rest.jpg", "P002/2024-05-02/rest.png", "P002/2024-05-02/smile.jpg", "ok/a.jpg")
    c = discover(tmp_path)
    assert set(_by_name(c)) == {"P002/2024-05-02/smile.jpg", "ok/a.jpg"}
    reasons = {Path(p.file).relative_to(tmp_path).as_posix(): p.reason for p in c.problems}
    assert set(reasons) == {"P001/2024-13-45/rest.jpg", "P001/2024-13-45/smile.jpg",
                            "P002/2024-05-02/rest.jpg", "P002/2024-05-02/rest.png"}
    assert "not a valid date" in reasons["P001/2024-13-45/rest.jpg"]
    assert "several rest photos" in reasons["P002/2024-05-02/rest.png"]
    assert all("\n" not in r for r in reasons.values())


def test_the_input_folder_itself_can_be_a_patient(tmp_path):
    patient = tmp_path / "P007"
    _touch(patient, "2024-05-02/rest.jpg", "2024-05-02/smile.jpg")
    (item,) = discover(patient).items
    assert item.name == "2024-05-02/pair" and item.patient == "P007"


def test_manifest(tmp_path):
    _touch(tmp_path, "photos/r.jpg", "photos/s.jpg", "photos/x.png", "photos/lone.jpg", "elsewhere/o.jpg")
    manifest = tmp_path / "list.csv"
    manifest.write_text(
        "\ufeffPatient,date,expression,path,comment\n"
        "P001,2024-05-02,rest,photos/r.jpg,\n"
        "P001,2024-05-02,smile,photos/s.jpg,\n"
        "P001,2024-05-02,other,photos/x.png,profile\n"
        ",,rest,photos/lone.jpg,\n"
        f",,,{tmp_path / 'elsewhere/o.jpg'},\n"
        "P002,2024-02-30,rest,photos/r.jpg,\n"
        "P002,2024-03-01,grin,photos/s.jpg,\n"
        "P003,2024-03-01,rest,photos/missing.jpg,\n"
        "P004,,rest,photos/r.jpg,\n"
        "\n", encoding="utf-8")
    c = read_manifest(manifest)
    items = _by_name(c)
    assert set(items) == {"P001/2024-05-02/pair", "P001/2024-05-02/x.png", "photos/lone.jpg", "elsewhere/o.jpg"}
    assert items["P001/2024-05-02/pair"].rest == tmp_path / "photos/r.jpg"
    assert items["photos/lone.jpg"].rest is not None and items["elsewhere/o.jpg"].other is not None
    reasons = " | ".join(p.reason for p in c.problems)
    assert len(c.problems) == 4
    for fragment in ("list.csv:7", "not a valid date", "list.csv:8", "expression must be", "list.csv:9",
                     "no such photo file", "list.csv:10", "both patient and date"):
        assert fragment in reasons
    assert discover(manifest) == c


@pytest.mark.parametrize("text, fragment", [
    ("patient,date,path\nP1,2024-01-01,a.jpg\n", "missing column(s) expression"),
    ("", "empty manifest"),
])
def test_malformed_manifest_raises_a_configuration_error(tmp_path, text, fragment):
    manifest = tmp_path / "m.csv"
    manifest.write_text(text)
    with pytest.raises(CollectionError, match=r"m\.csv: .*" + fragment.replace("(", r"\(").replace(")", r"\)")):
        read_manifest(manifest)
    assert issubclass(CollectionError, ConfigurationError)


def test_bad_sources(tmp_path):
    with pytest.raises(CollectionError, match="no such folder or manifest"):
        discover(tmp_path / "absent")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(CollectionError, match="give a folder of photos or a manifest"):
        discover(tmp_path / "x.txt")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CollectionError, match="not a UTF-8 text file"):
        discover(tmp_path / "bin.csv")


def test_item_invariants():
    with pytest.raises(ConfigurationError):
        Item(name="a", rest=Path("r.jpg"), other=Path("o.jpg"))
    with pytest.raises(ConfigurationError):
        Item(name="../escape", other=Path("o.jpg"))
    with pytest.raises(ConfigurationError):
        Item(name="nothing")
    pair = Item(name="p", rest=Path("r.jpg"), smile=Path("s.jpg"))
    assert pair.photos == (("rest", Path("r.jpg")), ("smile", Path("s.jpg")))
