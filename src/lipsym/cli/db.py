"""``lipsym db backup|check|restore|verify|history``: look after the visit-record database.

``check``, ``backup`` and ``restore`` are the commands for a damaged
database, so they never open it as a store (which refuses damage): they
read it through :func:`lipsym.visits.store.diagnose` and
:func:`~lipsym.visits.store.salvage`, on a private copy.
"""

from __future__ import annotations

import sys

from lipsym.errors import ConfigurationError, NotFoundError
from lipsym.visits.store import (
    DamagedDatabaseError,
    diagnose,
    resolve_db_path,
    restore_database,
    salvage,
    to_json_dict,
)
from lipsym.formats._envelope import envelope
from lipsym.cli.store_common import add_db_option, add_json_option, jsonable, open_store, print_json, print_table

#: Exit code of a command that found the database damaged (that of every StoreError).
_DAMAGED = DamagedDatabaseError.exit_code


def register(sub) -> None:
    p = sub.add_parser("db", help="back up, check and restore the visit-record database")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    backup = actions.add_parser("backup", help="consistent copy with SQLite's backup API (safe while others write);"
                                               " of a damaged database, every row that can be read")
    backup.add_argument("dest", metavar="DEST", help="file to create")
    backup.add_argument("--force", action="store_true", help="replace an existing DEST")
    backup.set_defaults(run=run_backup)
    check = actions.add_parser("check", help="file header, length, write-ahead log, every page, references")
    check.set_defaults(run=run_check)
    restore = actions.add_parser("restore", help="replace the database with a verified backup (the replaced file"
                                                 " is kept beside it)")
    restore.add_argument("backup", metavar="BACKUP", help="backup file (from 'lipsym db backup')")
    restore.set_defaults(run=run_restore)
    verify = actions.add_parser("verify", help="are the recorded photos still there, unchanged (by sha256)?")
    verify.add_argument("--search", action="append", default=[], metavar="DIR",
                        help="look for missing or changed photos' content here (repeatable)")
    verify.add_argument("--relink", action="store_true",
                        help="with --search: record the new path of each moved photo found by its content"
                             " (only when exactly one file matches; kept in 'db history')")
    verify.set_defaults(run=run_verify)
    history = actions.add_parser("history", help="every change of the record: what, before, after, when (UTC)")
    history.add_argument("--table", metavar="TABLE", help="patients, visits, photos, treatments or analyses")
    history.add_argument("--id", type=int, metavar="N", help="only the changes of this row id (with --table)")
    history.set_defaults(run=run_history)
    for q in (backup, check, restore, verify, history):
        add_db_option(q)
        add_json_option(q)


def _existing_db(args):
    path = resolve_db_path(args.db)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such database")
    return path


def run_backup(args) -> int:
    path = _existing_db(args)
    try:
        with open_store(args) as store:
            dest = store.backup(args.dest, overwrite=args.force)
    except DamagedDatabaseError as damaged:
        return _salvage(args, damaged)
    if args.json:
        print_json({"database": str(path), "backup": str(dest)})
    else:
        print(f"backed up {path} to {dest}")
    return 0


def _salvage(args, damaged: DamagedDatabaseError) -> int:
    """Copy what can be read of a damaged database; exit 7 (the database IS damaged)."""
    report = salvage(damaged.path, args.dest, overwrite=args.force)
    if args.json:
        print_json({"database": str(damaged.path), "backup": str(report.dest),
                    "damage": [str(p) for p in damaged.problems], "rows_copied": report.rows_copied,
                    "not_copied": list(report.lost), "repaired": list(report.repaired)})
    else:
        print(f"copied {sum(report.rows_copied.values())} rows of {len(report.rows_copied)} tables"
              f" from {damaged.path} to {report.dest}")
    for problem in damaged.problems:
        print(f"lipsym: damaged: {problem}", file=sys.stderr)
    for line in report.repaired:
        print(f"lipsym: repaired in the copy: {line}", file=sys.stderr)
    for line in report.lost:
        print(f"lipsym: not copied: {line}", file=sys.stderr)
    if not report.lost:
        print("lipsym: every row could be read", file=sys.stderr)
    return _DAMAGED


def run_check(args) -> int:
    path = _existing_db(args)
    problems = diagnose(path)
    if args.json:
        print_json({"database": str(path), "problems": [str(p) for p in problems],
                    "kinds": sorted({p.kind for p in problems})})
    else:
        print("\n".join(map(str, problems)) if problems else f"{path}: ok")
    return _DAMAGED if problems else 0


def run_restore(args) -> int:
    path = resolve_db_path(args.db)
    kept = restore_database(args.backup, path)
    if args.json:
        print_json({"database": str(path), "restored_from": args.backup, "replaced_kept_as": kept and str(kept)})
    else:
        print(f"restored {path} from {args.backup}")
        if kept is not None:
            print(f"the replaced database is kept as {kept}")
    return 0


def run_verify(args) -> int:
    if args.relink and not args.search:
        raise ConfigurationError("--relink needs --search DIR: where to look for the moved photos")
    with open_store(args) as store:
        statuses = [store.verify_photo(photo, search_dirs=args.search)
                    for patient in store.list_patients() for visit in store.list_visits(patient)
                    for photo in store.list_photos(visit)]
        relinked = {}
        if args.relink:
            # Only an unambiguous find is recorded: two copies of the content
            # would make the choice of path a guess.
            for status in statuses:
                if status.state == "moved" and len(status.candidates) == 1:
                    relinked[status.photo.id] = store.relocate_photo(status.photo, status.candidates[0]).path
    if args.json:
        print_json([dict(to_json_dict(s), relinked_to=relinked.get(s.photo.id)) if args.relink else to_json_dict(s)
                    for s in statuses])
    else:
        print_table(("photo", "state", "path", "found at") + (("relinked",) if args.relink else ()),
                    [(s.photo.id, s.state, s.photo.path, ", ".join(s.candidates))
                     + (("yes" if s.photo.id in relinked else "",) if args.relink else ()) for s in statuses])
    # Not an error of lipsym, but scripts need to notice; a relinked photo is fixed.
    return 0 if all(s.ok or s.photo.id in relinked for s in statuses) else 1


def run_history(args) -> int:
    if args.id is not None and args.table is None:
        raise ConfigurationError("--id needs --table: row ids are per table")
    with open_store(args) as store:
        changes = store.history(args.table, args.id)
    if args.json:
        print_json(envelope("lipsym.history", {"changes": jsonable(changes)}))
    else:
        print_table(("change", "when (UTC)", "table", "id", "action", "what changed"),
                    [(c.id, c.changed_at, c.table_name, c.row_id, c.action, _what_changed(c)) for c in changes])
    return 0


def _what_changed(change) -> str:
    """The fields an edit changed (``field: before -> after``); nothing for the other actions."""
    if change.action != "edit":
        return ""
    before, after = change.before or {}, change.after or {}
    return "; ".join(f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in sorted(after) if before.get(k) != after.get(k))
