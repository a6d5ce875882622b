"""``/fhir/Patient``: tell the gateway a resident's birth date, which consent rules need."""

from __future__ import annotations

from fastapi import APIRouter, Request

from gateway.auth.callers import PatientWrite
from gateway.fhir.common import RawBody
from gateway.fhir_json import FhirResponse, decode_json_object, require_media_type
from gateway.persons import register_patient, render_patient
from gateway.runtime import DbSession, RuntimeDep
from gateway.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["Patient"], route_class=UnitOfWorkRoute)


@router.post("/Patient", status_code=200, response_class=FhirResponse)
def create_patient(request: Request, body: RawBody, caller: PatientWrite, session: DbSession,
                   runtime: RuntimeDep) -> FhirResponse:
    """BSN identifier and birthDate of a resident your organisation helps (a referral or a
    registered involvement made them known): 200 with the Patient. Anyone else: 403, the
    same whether the gateway knows the person or not."""
    require_media_type(request)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    return FhirResponse(render_patient(register_patient(session, caller, document)))
