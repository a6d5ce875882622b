"""``/fhir/RelatedPerson``: the parents and guardians who consent for a minor."""

from __future__ import annotations

from fastapi import APIRouter, Request

from gateway.auth.callers import RelatedPersonWrite
from gateway.db.models import RelatedPersonRow
from gateway.errors import NotFound
from gateway.fhir.common import RawBody
from gateway.fhir_json import FhirResponse, decode_json_object, require_media_type
from gateway.involvements.access import require_involved_with
from gateway.persons import register_related_person, render_related_person
from gateway.runtime import DbSession, RuntimeDep
from gateway.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["RelatedPerson"], route_class=UnitOfWorkRoute)


@router.post("/RelatedPerson", status_code=201, response_class=FhirResponse)
def create_related_person(request: Request, body: RawBody, caller: RelatedPersonWrite,
                          session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    """``patient`` (``Patient/{id}`` or BSN), ``relationship`` (v3 RoleCode PRN, MTH, FTH or
    GUARD), optionally the parent's BSN. Reference it as a Consent's performer."""
    require_media_type(request)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    row = register_related_person(session, caller, document)
    return FhirResponse(render_related_person(row), status_code=201)


@router.get("/RelatedPerson/{related_id}", response_class=FhirResponse)
def read_related_person(related_id: str, caller: RelatedPersonWrite,
                        session: DbSession) -> FhirResponse:
    row = session.get(RelatedPersonRow, related_id)
    if row is None or (row.client_id != caller.client_id
                       and (caller.team_id is None or row.team_id != caller.team_id)):
        raise NotFound("no such RelatedPerson", expression="RelatedPerson.id")
    require_involved_with(session, caller, row.person_id, "related_person.read_refused")
    return FhirResponse(render_related_person(row))
