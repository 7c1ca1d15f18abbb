"""``lipsym visit add|edit|delete|restore``: the visits of a patient."""

from __future__ import annotations

import re

from lipsym.errors import NotFoundError
from lipsym.visits._documents import visit_document
from lipsym.visits._plausibility import visit_date_implausibility
from lipsym.visits._timeline import load_timeline
from lipsym.cli.common import add_force_option, refuse_implausible
from lipsym.cli.store_common import (
    add_db_option,
    add_edit_parser,
    add_json_option,
    add_removal_actions,
    given,
    open_store,
    print_json,
)

_VISIT_ID = re.compile(r"^#?(\d+)$")


def register(sub) -> None:
    p = sub.add_parser("visit", help="add, correct and delete the visits of a patient")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a visit", description="Add a visit (the patient must exist).")
    add.add_argument("patient", metavar="PATIENT")
    add.add_argument("date", metavar="YYYY-MM-DD")
    add.add_argument("--kind", required=True, metavar="KIND", help="baseline, treatment, follow-up or maintenance")
    add.add_argument("--notes")
    add_force_option(add, "accept a date in the future")
    add_db_option(add)
    add_json_option(add)
    add.set_defaults(run=run_add)
    edit = add_edit_parser(actions, "visit", _target, run_edit)
    edit.add_argument("--date", metavar="YYYY-MM-DD", help="corrected date")
    edit.add_argument("--kind", metavar="KIND", help="baseline, treatment, follow-up or maintenance")
    edit.add_argument("--notes")
    add_force_option(edit, "accept a date in the future")
    add_removal_actions(actions, "visit", "visits", _target, _locate,
                        lambda visit: f"visit {visit.id} ({visit.visit_date.isoformat()} {visit.kind})")


def _target(p) -> None:
    p.add_argument("patient", metavar="PATIENT")
    p.add_argument("visit", metavar="VISIT", help="visit id, YYYY-MM-DD, YYYY-MM-DD:KIND, a kind the patient has once,"
                                                  " first or last (a deleted visit: its id, YYYY-MM-DD or YYYY-MM-DD:KIND)")


def run_add(args) -> int:
    refuse_implausible(visit_date_implausibility(args.date), args.patient, args.force)
    with open_store(args) as store:
        visit = store.add_visit(args.patient, args.date, args.kind, notes=args.notes)
    if args.json:
        print_json(visit_document(visit))
    else:
        print(f"added {visit.kind} visit {visit.id} of {args.patient} on {visit.visit_date.isoformat()}")
    return 0


def run_edit(args) -> int:
    changes = given(args, visit_date="date", kind="kind", notes="notes")
    if "visit_date" in changes:
        refuse_implausible(visit_date_implausibility(changes["visit_date"]), args.patient, args.force)
    with open_store(args) as store:
        visit = store.edit_visit(_locate(store, args), **changes)
    if args.json:
        print_json(visit_document(visit))
    else:
        print(f"visit {visit.id} of {args.patient} is now: {visit.visit_date.isoformat()} {visit.kind},"
              f" notes {visit.notes!r}")
    return 0


def _locate(store, args):
    """The visit PATIENT VISIT names: a live one by any reference, a deleted one by its id."""
    try:
        return load_timeline(store, args.patient).find(args.visit).visit
    except NotFoundError as missing:
        match = _VISIT_ID.match(args.visit.strip())
        if match is None:
            return _deleted_by_date(store, args.patient, args.visit.strip(), missing)
    visit = store.locate("visits", int(match.group(1)))
    if visit.patient_id != store.locate_patient(args.patient).id:
        raise NotFoundError(f"visit {visit.id} is not a visit of {args.patient}")
    return visit


def _deleted_by_date(store, patient: str, ref: str, missing: NotFoundError):
    """A deleted visit named by YYYY-MM-DD or YYYY-MM-DD:KIND (restore and purge take it as a live one)."""
    day, _, kind = ref.partition(":")
    deleted = store.deleted_visits(patient)
    found = [v for v in deleted if v.visit_date.isoformat() == day and (not kind or v.kind == kind)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise NotFoundError(f"{patient}: {len(found)} deleted visits on {day} "
                            f"({', '.join(f'id {v.id} {v.kind}' for v in found)}): give DATE:KIND or the id")
    if deleted:
        raise NotFoundError(f"{missing}; no deleted visit {ref} either (deleted: "
                            f"{', '.join(f'{v.visit_date.isoformat()}:{v.kind}' for v in deleted)})")
    raise missing
