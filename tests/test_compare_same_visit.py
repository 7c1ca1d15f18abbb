"""``compare PATIENT --from first --to last`` on a one-visit patient is a one-line error, not a table of zeros."""

from __future__ import annotations

from lipsym.cli import main


def test_comparing_a_visit_with_itself_is_refused(tmp_path, capsys):
    db = ["--db", str(tmp_path / "r.sqlite3")]
    assert main(["patient", "add", "P001", *db]) == 0
    assert main(["visit", "add", "P001", "2024-05-02", "--kind", "baseline", *db]) == 0
    capsys.readouterr()
    assert main(["compare", "P001", "--from", "first", "--to", "last", *db]) == 7
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("lipsym: P001: --from first and --to last are the same visit, 2024-05-02")
    assert "only visit" in err[0]
    assert main(["visit", "add", "P001", "2024-05-20", "--kind", "follow-up", *db]) == 0
    capsys.readouterr()
    assert main(["compare", "P001", "--from", "2024-05-20", "--to", "last", *db]) == 7
    err = capsys.readouterr().err
    assert "same visit" in err and "only visit" not in err
    # Two different visits get past this check (to the next one: nothing analysed yet).
    assert main(["compare", "P001", "--from", "first", "--to", "last", *db]) != 0
    assert "same visit" not in capsys.readouterr().err
