"""``/fhir/Patient``: tell the gateway a resident's birth date, which consent rules need, and
read back the residents that Consent.patient and RelatedPerson.patient reference.

Persons are not versioned: a birth date is recorded once and never changed (another one is an
identity conflict for a person to resolve), so every Patient is version 1."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request, Response

from gateway.api.callers import PatientRead, PatientWrite
from gateway.api.runtime import DbSession, Runtime, RuntimeDep
from gateway.auth.bearer import Caller
from gateway.disclosure.service import patient_as_seen_by
from gateway.fhir import history
from gateway.fhir.common import RawBody
from gateway.fhir.prefer import written
from gateway.persons import (
    PATIENT_PREFIX,
    REGISTERED_VERSION,
    involved_person,
    register_patient,
    render_patient,
)
from gateway.pipeline.fhir_rest import receive_resource
from gateway.platform.fhir_json import FhirResponse, require_media_type
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["Patient"], route_class=UnitOfWorkRoute)


@router.post("/Patient", status_code=200, response_class=FhirResponse)
def create_patient(request: Request, body: RawBody, caller: PatientWrite, session: DbSession,
                   runtime: RuntimeDep) -> Response:
    """BSN identifier and birthDate of a resident your organisation helps (a referral or a
    registered involvement made them known): 200 with the Patient. Anyone else: 403, the
    same whether the gateway knows the person or not. It never creates one, so never 201,
    ``If-None-Exist`` or not (a conditional create's 200 or 201 would be an oracle)."""
    require_media_type(request)
    person = receive_resource("Patient", body, runtime.settings.max_json_depth,
                              partial(register_patient, session, caller), metrics=runtime.metrics)
    return written(request, render_patient(person), REGISTERED_VERSION, 200,
                   history.version_url(request, "Patient", person.id, REGISTERED_VERSION))


@router.get("/Patient/{patient_id}", response_class=FhirResponse)
def read_patient(patient_id: str, caller: PatientRead, session: DbSession,
                 runtime: RuntimeDep) -> FhirResponse:
    """A resident your organisation helps now, as the consent decision lets you see them
    (the id only without it). Anyone else: 403, the same whether known or not."""
    return history.vread("Patient", str(REGISTERED_VERSION),
                         _versions(session, caller, runtime, patient_id))


@router.get("/Patient/{patient_id}/_history/{vid}", response_class=FhirResponse)
def vread_patient(patient_id: str, vid: str, caller: PatientRead, session: DbSession,
                  runtime: RuntimeDep) -> FhirResponse:
    return history.vread("Patient", vid, _versions(session, caller, runtime, patient_id))


@router.get("/Patient/{patient_id}/_history", response_class=FhirResponse)
def patient_history(patient_id: str, request: Request, caller: PatientRead,
                    session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    return history.instance_history(request, "Patient", patient_id,
                                    _versions(session, caller, runtime, patient_id))


def _versions(session: DbSession, caller: Caller, runtime: Runtime,
              patient_id: str) -> list[history.Version]:
    person = involved_person(session, caller, f"{PATIENT_PREFIX}{patient_id}",
                             "person.read_refused")
    return [history.Version(REGISTERED_VERSION, "POST", person.created_at.isoformat(),
                            lambda: patient_as_seen_by(session, runtime.register, caller,
                                                       person))]
