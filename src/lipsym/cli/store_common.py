"""Options and output shared by the visit-record commands (``--db``, ``--json``, tables)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Sequence
from typing import Any

from lipsym.errors import ConfigurationError
from lipsym.formats._envelope import envelope, plain
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


# --- delete, restore, purge (patient, visit, treatment, photo) ------------------------------------


def add_removal_actions(actions, noun: str, table: str, add_target, locate, describe) -> None:
    """The ``delete`` and ``restore`` actions of a record command.

    Parameters
    ----------
    actions : argparse subparsers
    noun : str
        ``"patient"``, for help texts.
    table : str
        The store table of the rows.
    add_target : callable
        ``add_target(parser)`` adds the arguments naming the row.
    locate : callable
        ``locate(store, args)``: the row's record, deleted or not.
    describe : callable
        ``describe(record)``: how messages name the row.
    """
    delete = actions.add_parser(
        "delete", help=f"delete a {noun} (reversible with 'restore'; --purge removes it for good)",
        description=f"Delete a {noun} and what belongs to it. The rows are hidden, not removed: 'restore' brings"
                    " them back, and every change is kept in 'lipsym db history'. --purge removes them for good.")
    add_target(delete)
    delete.add_argument("--purge", action="store_true",
                        help="remove it and everything below it for good (asks for confirmation; the history keeps"
                             " what was removed)")
    delete.add_argument("--yes", action="store_true", help="with --purge: do not ask (needed when not on a terminal)")
    delete.set_defaults(run=functools.partial(run_removal, table=table, locate=locate, describe=describe))
    restore = actions.add_parser("restore", help=f"undelete a {noun} and what its delete hid")
    add_target(restore)
    restore.set_defaults(run=functools.partial(run_restoral, table=table, locate=locate, describe=describe))
    for q in (delete, restore):
        add_db_option(q)
        add_json_option(q)


def id_target(noun: str):
    """``add_target`` and ``locate`` of a row named by its id (treatments, photos)."""
    dest = f"{noun}_id"

    def add_target(p) -> None:
        p.add_argument(dest, type=int, metavar="ID", help=f"{noun} id ('lipsym patient show PATIENT --json')")

    def locate(store, args):
        return store.locate(f"{noun}s", getattr(args, dest))

    return add_target, locate


def confirm_purge(args, label: str) -> bool:
    """True if ``--purge`` may go ahead: ``--yes``, or a "y" typed on a terminal.

    Raises
    ------
    ConfigurationError
        Not on a terminal and no ``--yes`` (a script must say so explicitly).
    """
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise ConfigurationError(f"--purge removes {label} for good; add --yes to confirm (no terminal to ask on)")
    answer = input(f"Remove {label} and everything recorded under it for good? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def change_document(table: str, row_id: int, action: str, rows: int, **extra: Any) -> dict[str, Any]:
    """``lipsym.record_change``: what a delete, restore or photo edit did."""
    return envelope("lipsym.record_change", {"table": table, "id": row_id, "action": action, "rows": rows,
                                             **{k: plain(v) for k, v in extra.items()}})


def run_removal(args, *, table: str, locate, describe) -> int:
    """``delete [--purge [--yes]]`` of the row ``locate(store, args)`` gives (deleted or not).

    A row already deleted is only purged; with --purge the delete and the
    purge are one transaction. Declining the confirmation changes nothing
    and exits 1.
    """
    with open_store(args) as store:
        record = locate(store, args)
        name = describe(record)
        if args.purge and not confirm_purge(args, name):
            print("lipsym: not purged; nothing was changed", file=sys.stderr)
            return 1
        with store.transaction():
            deleted = 0 if (args.purge and store.is_deleted(table, record.id)) else store.delete_row(table, record.id)
            purged = store.purge_row(table, record.id) if args.purge else 0
    action, rows = ("purge", purged) if args.purge else ("delete", deleted)
    if args.json:
        print_json(change_document(table, record.id, action, rows))
    elif args.purge:
        print(f"removed {name} for good ({rows} row(s)); the history keeps what they were")
    else:
        print(f"deleted {name} ({rows} row(s) hidden); undo with 'restore'")
    return 0


def run_restoral(args, *, table: str, locate, describe) -> int:
    """``restore`` of the row ``locate(store, args)`` gives."""
    with open_store(args) as store:
        record = locate(store, args)
        rows = store.restore_row(table, record.id)
    if args.json:
        print_json(change_document(table, record.id, "restore", rows))
    else:
        print(f"restored {describe(record)} ({rows} row(s))")
    return 0


def add_edit_parser(actions, noun: str, add_target, run):
    """The ``edit`` action of a record command; the caller adds the fields a user may correct."""
    edit = actions.add_parser("edit", help=f"correct a {noun} (the change is kept in 'lipsym db history')",
                              description=f"Correct a {noun}. Give only the fields to change; an empty text"
                                          " (--notes '') clears an optional field.")
    add_target(edit)
    add_db_option(edit)
    add_json_option(edit)
    edit.set_defaults(run=run)
    return edit


def given(args, **names: str) -> dict[str, Any]:
    """Store keyword → value of the options the user gave (argparse default None = not given)."""
    return {field: getattr(args, dest) for field, dest in names.items() if getattr(args, dest) is not None}
