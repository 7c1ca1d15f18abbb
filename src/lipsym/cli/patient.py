"""``lipsym patient add|list|show|edit|delete|restore``: the patients of the visit record.

``--json`` prints the ``lipsym.patient``, ``lipsym.patients`` and
``lipsym.patient_history`` documents (:mod:`lipsym.visits._documents`).
"""

from __future__ import annotations

from lipsym.visits._documents import (
    patient_document,
    patient_history,
    patient_history_document,
    patient_summaries,
    patients_document,
)
from lipsym.visits._plausibility import patient_code_implausibility
from lipsym.cli.common import add_force_option, refuse_implausible
from lipsym.cli.store_common import (
    add_db_option,
    add_edit_parser,
    add_json_option,
    add_removal_actions,
    given,
    open_store,
    print_json,
    print_table,
)


def register(sub) -> None:
    p = sub.add_parser("patient", help="add, list and show patients of the visit record",
                       description="Patients are known by a pseudonymous code you choose (e.g. P001), never a name.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a patient")
    add.add_argument("identifier", metavar="PATIENT", help="pseudonymous code, e.g. P001 (not a name)")
    add.add_argument("--birth-year", type=int, metavar="YYYY")
    add.add_argument("--sex", metavar="SEX", help="female, male or other")
    add.add_argument("--notes")
    add_force_option(add, "accept a code that looks like a person's name")
    add.set_defaults(run=run_add)
    ls = actions.add_parser("list", help="list patients")
    ls.set_defaults(run=run_list)
    show = actions.add_parser("show", help="a patient's visits, photos, analyses and treatments")
    show.add_argument("identifier", metavar="PATIENT")
    show.set_defaults(run=run_show)
    for q in (add, ls, show):
        add_db_option(q)
        add_json_option(q)
    edit = add_edit_parser(actions, "patient", _target, run_edit)
    edit.add_argument("--code", metavar="NEW", help="new pseudonymous code")
    edit.add_argument("--birth-year", type=int, metavar="YYYY")
    edit.add_argument("--sex", metavar="SEX", help="female, male or other ('' clears it)")
    edit.add_argument("--notes")
    add_force_option(edit, "accept a code that looks like a person's name")
    add_removal_actions(actions, "patient", "patients", _target, _locate,
                        lambda patient: f"patient {patient.identifier}")


def _target(p) -> None:
    p.add_argument("identifier", metavar="PATIENT")


def run_edit(args) -> int:
    changes = given(args, identifier="code", birth_year="birth_year", sex="sex", notes="notes")
    if "identifier" in changes:
        refuse_implausible(patient_code_implausibility(changes["identifier"]), changes["identifier"], args.force)
    if changes.get("sex") == "":
        changes["sex"] = None
    with open_store(args) as store:
        patient = store.edit_patient(args.identifier, **changes)
    if args.json:
        print_json(patient_document(patient))
    else:
        print(f"patient {patient.identifier} is now: birth year {patient.birth_year}, sex {patient.sex},"
              f" notes {patient.notes!r}")
    return 0


def _locate(store, args):
    return store.locate_patient(args.identifier)


def run_add(args) -> int:
    refuse_implausible(patient_code_implausibility(args.identifier), args.identifier, args.force)
    with open_store(args, create=True) as store:
        patient = store.add_patient(args.identifier, birth_year=args.birth_year, sex=args.sex, notes=args.notes)
    if args.json:
        print_json(patient_document(patient))
    else:
        print(f"added patient {patient.identifier}")
    return 0


def run_list(args) -> int:
    with open_store(args) as store:
        summaries = patient_summaries(store)
    if args.json:
        print_json(patients_document(summaries))
    else:
        print_table(("patient", "birth year", "sex", "visits", "last visit"),
                    [(s.patient.identifier, s.patient.birth_year, s.patient.sex, s.visits,
                      s.last_visit.isoformat() if s.last_visit else None) for s in summaries])
    return 0


def run_show(args) -> int:
    with open_store(args) as store:
        history = patient_history(store, args.identifier)
    if args.json:
        print_json(patient_history_document(history))
        return 0
    p, visits = history.timeline.patient, history.timeline.visits
    extra = ", ".join(f"{k} {v}" for k, v in (("born", p.birth_year), ("sex", p.sex)) if v is not None)
    print(f"patient {p.identifier}" + (f" ({extra})" if extra else "") + (f": {p.notes}" if p.notes else ""))
    print_table(("visit", "date", "kind", "photos", "analyses", "treatments", "notes"), [
        (vm.visit.id, vm.visit.visit_date.isoformat(), vm.visit.kind,
         ", ".join(x.expression for x in history.photos[vm.visit.id]) or "-", history.analyses[vm.visit.id],
         "; ".join(f"{t.product_name} {t.dose_value:g} {t.dose_unit}" for t in vm.treatments) or "-",
         vm.visit.notes or "")
        for vm in visits])
    return 0
