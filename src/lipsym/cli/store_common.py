"""Options and output shared by the visit-record commands (``--db``, ``--json``, tables)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from lipsym.formats._envelope import plain
from lipsym.visits.store import ENV_VAR, SCHEMA_VERSION, Store, backup_before_migration, resolve_db_path


def add_db_option(p) -> None:
    p.add_argument("--db", metavar="PATH",
                   help=f"visit-record database (default: ${ENV_VAR}, else the per-user data folder)")


def add_json_option(p) -> None:
    p.add_argument("--json", action="store_true", help="print JSON (for scripts) instead of tables")


def open_store(args, *, create: bool = False) -> Store:
    """The store named by ``--db``; read-only commands do not create one.

    A database from an older lipsym is copied aside before it is migrated,
    so that the user can go back to the older version.
    """
    path = resolve_db_path(args.db)
    kept = backup_before_migration(path)
    if kept is not None:
        print(f"lipsym: {path} is upgraded to schema {SCHEMA_VERSION}; the previous version is kept in {kept}",
              file=sys.stderr)
    return Store.open(path, create=create)


#: Dataclasses, dates, mappings and tuples as plain JSON values.
jsonable = plain


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(doc), indent=2, ensure_ascii=False) + "\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain-text table: columns padded, numbers right-aligned."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in cells if r[i]) and any(r[i] for r in cells)
               for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _is_number(text: str) -> bool:
    head = text.split()[0] if text.split() else text
    try:
        float(head)
        return True
    except ValueError:
        return False


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    if title:
        print(title)
    print(format_table(headers, rows) if rows else "  (none)")


def warn_mixed_settings(timeline) -> None:
    """One line on stderr when a patient's visits were analysed with different settings."""
    if timeline.mixed_settings:
        print(f"lipsym: warning: the visits of {timeline.patient.identifier} were analysed with different settings "
              "(e.g. scale calibration); changes between them include the change of settings", file=sys.stderr)
