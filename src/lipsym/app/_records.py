"""Patients, visits and treatments: the same library calls and checks as ``lipsym patient|visit|treatment``.

Each handler validates with the visit record's own checks (the store refuses
what the CLI's store refuses) and the same plausibility checks
(:mod:`lipsym.visits._plausibility`), which ``force`` overrides as ``--force``
does on the command line.
"""

from __future__ import annotations

from typing import Any

from lipsym.comparison._compare import KEY_MEASURES
from lipsym.comparison._absolute_change import KEY_ABSOLUTE, SIZE_EFFECT_CAVEAT
from lipsym.errors import ConfigurationError, NotFoundError
from lipsym.formats._envelope import plain
from lipsym.visits._documents import (patient_document, patient_history, patient_history_document,
                                      patient_summaries, patients_document, track_document, treatment_document,
                                      visit_document)
from lipsym.visits._plausibility import dose_implausibility, patient_code_implausibility, visit_date_implausibility
from lipsym.visits._settling import follow_up_settling, treatment_effects
from lipsym.visits.store import SiteSpec
from lipsym.visits.store import _validate as validate
from lipsym.app._http import int_param
from lipsym.app._names import names_of
from lipsym.app._payloads import names
from lipsym.app._state import AppState, BadRequest, field_of


def refuse_implausible(problem: str | None, what: str, force: bool) -> None:
    """The CLI's refusal of an implausible value, unless the user confirmed it (``force``)."""
    if problem is not None and not force:
        raise ConfigurationError(f"{what}: {problem} (tick 'accept' if it is right)")


def list_patients(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    query = str(params.get("q", "")).strip().lower()
    with state.store() as store:
        summaries = [s for s in patient_summaries(store) if query in s.patient.identifier.lower()]
    return patients_document(summaries)


def add_patient(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    code = field_of(body, "identifier", required=True)
    refuse_implausible(patient_code_implausibility(code), code, bool(body.get("force")))
    with state.store() as store:
        patient = store.add_patient(code, birth_year=field_of(body, "birth_year", int), sex=field_of(body, "sex"),
                                    notes=field_of(body, "notes"))
    return patient_document(patient)


def edit_patient(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "identifier" in body:
        changes["identifier"] = field_of(body, "identifier", required=True)
        refuse_implausible(patient_code_implausibility(changes["identifier"]), changes["identifier"],
                           bool(body.get("force")))
    if "birth_year" in body:
        changes["birth_year"] = field_of(body, "birth_year", int)
    for name in ("sex", "notes"):
        if name in body:
            changes[name] = field_of(body, name)
    with state.store() as store:
        patient = store.edit_patient(params["code"], **changes)
    return patient_document(patient)


def show_patient(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    """The patient page: visits with photos and treatments, key measures over time, settling."""
    with state.store() as store:
        history = patient_history(store, params["code"])
    timeline = history.timeline
    track = track_document(timeline, KEY_MEASURES, follow_up_settling(timeline), effects=treatment_effects(timeline))
    return {"history": patient_history_document(history), "track": track,
            "names": names((*KEY_MEASURES, *KEY_ABSOLUTE)), "mixed_settings": timeline.mixed_settings,
            "size_effect_caveat": SIZE_EFFECT_CAVEAT}


def add_visit(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    date = field_of(body, "date", required=True)
    refuse_implausible(visit_date_implausibility(date), params["code"], bool(body.get("force")))
    with state.store() as store:
        visit = store.add_visit(params["code"], date, field_of(body, "kind", required=True),
                                notes=field_of(body, "notes"))
    return visit_document(visit)


def _visit_and_patient(store, visit_id: int):
    visit = store.get_visit(visit_id)
    patient = next((p for p in store.list_patients() if p.id == visit.patient_id), None)
    if patient is None:
        raise NotFoundError(f"visit {visit_id} has no live patient")
    return visit, patient


def show_visit(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    """A visit with its patient, photos, analyses (automatic and manual) and treatments."""
    visit_id = int_param(params, "visit_id")
    with state.store() as store:
        visit, patient = _visit_and_patient(store, visit_id)
        photos = store.list_photos(visit)
        analyses = store.list_analyses(visit)
        treatments = store.list_treatments(visit)
        visits = store.list_visits(patient)
    shown = names_of(state.config.photo_dir, photos)
    return {
        "visit": plain(visit), "patient": plain(patient),
        "visits": [{"id": v.id, "visit_date": v.visit_date.isoformat(), "kind": v.kind} for v in visits],
        # The path stays on the server; the name shown is the dropped file's or the recorded file's base name.
        "photos": [{**plain(p), "path": None, "name": shown[p.id]} for p in photos],
        "analyses": [analysis_summary(a) for a in analyses],
        "treatments": plain(treatments),
        # The injection sites the visit record accepts (sides are the patient's), for the treatment forms.
        "site_choices": {"regions": list(validate.REGIONS), "sides": list(validate.SIDES)},
    }


def analysis_summary(a) -> dict[str, Any]:
    """An analysis as the visit page lists it: its photos and how it was made."""
    settings = a.settings
    provenance = settings.get("provenance") or (a.result.get("provenance") if isinstance(a.result, dict) else None)
    return {"id": a.id, "rest_photo_id": a.rest_photo_id, "smile_photo_id": a.smile_photo_id,
            "created_at": a.created_at, "provenance": provenance or "automatic", "settings_hash": a.settings_hash}


def edit_visit(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "date" in body:
        changes["visit_date"] = field_of(body, "date", required=True)
        with state.store() as store:
            visit, patient = _visit_and_patient(store, int_param(params, "visit_id"))
        refuse_implausible(visit_date_implausibility(changes["visit_date"]), patient.identifier,
                           bool(body.get("force")))
    if "kind" in body:
        changes["kind"] = field_of(body, "kind", required=True)
    if "notes" in body:
        changes["notes"] = field_of(body, "notes")
    with state.store() as store:
        visit = store.edit_visit(int_param(params, "visit_id"), **changes)
    return visit_document(visit)


def delete_visit(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    with state.store() as store:
        removed = store.delete_visit(int_param(params, "visit_id"))
    return {"deleted": removed}


def _sites(body: dict) -> list[SiteSpec]:
    sites = body.get("sites") or []
    if not isinstance(sites, list):
        raise BadRequest("sites: expected a list")
    out = []
    for s in sites:
        if not isinstance(s, dict):
            raise BadRequest("sites: each site is an object with region, side and an optional dose")
        out.append(SiteSpec(region=field_of(s, "region", required=True), side=field_of(s, "side", required=True),
                            dose_value=field_of(s, "dose_value", float)))
    return out


def _check_doses(product_type: str, unit: str, doses: list, what: str, force: bool) -> None:
    """The CLI's dose plausibility check (before the store validates the rest)."""
    try:
        kind, unit = validate.product_type(product_type), validate.dose_unit(unit)
    except ConfigurationError:
        return  # the store refuses invalid spellings with its own message
    for dose in doses:
        if dose is not None:
            refuse_implausible(dose_implausibility(kind, dose, unit), what, force)


def add_treatment(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    sites = _sites(body)
    details = dict(product_name=field_of(body, "product_name", required=True),
                   product_type=field_of(body, "product_type", required=True),
                   dose_value=field_of(body, "dose_value", float, required=True),
                   dose_unit=field_of(body, "dose_unit", required=True), sites=sites,
                   lot=field_of(body, "lot"), technique=field_of(body, "technique"),
                   injector=field_of(body, "injector"), notes=field_of(body, "notes"))
    _check_doses(details["product_type"], details["dose_unit"],
                 [details["dose_value"], *(s.dose_value for s in sites)], "treatment", bool(body.get("force")))
    with state.store() as store:
        treatment = store.add_treatment(int_param(params, "visit_id"), **details)
    return treatment_document(treatment)


def edit_treatment(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("product_name", "product_type", "dose_unit", "lot", "technique", "injector", "notes"):
        if name in body:
            changes[name] = field_of(body, name, required=name in ("product_name", "product_type", "dose_unit"))
    if "dose_value" in body:
        changes["dose_value"] = field_of(body, "dose_value", float, required=True)
    if "sites" in body:
        changes["sites"] = _sites(body)
    with state.store() as store:
        current = store.get_treatment(int_param(params, "treatment_id"))
        _check_doses(changes.get("product_type", current.product_type), changes.get("dose_unit", current.dose_unit),
                     [changes.get("dose_value", current.dose_value),
                      *(s.dose_value for s in changes.get("sites", current.sites))],
                     f"treatment {current.id}", bool(body.get("force")))
        treatment = store.edit_treatment(current, **changes)
    return treatment_document(treatment)


def delete_treatment(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    with state.store() as store:
        removed = store.delete_treatment(int_param(params, "treatment_id"))
    return {"deleted": removed}
