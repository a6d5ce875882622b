"""``/fhir/RelatedPerson``: the parents and guardians who consent for a minor. Never changed
once registered, so every RelatedPerson is version 1."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request, Response

from gateway.api.callers import RelatedPersonWrite
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.auth.bearer import Caller
from gateway.fhir import history
from gateway.fhir.common import RawBody
from gateway.fhir.prefer import written
from gateway.involvements.access import require_involved_with
from gateway.persons import REGISTERED_VERSION, register_related_person, render_related_person
from gateway.pipeline.fhir_rest import receive_resource
from gateway.platform.db.models import RelatedPersonRow
from gateway.platform.errors import NotFound
from gateway.platform.fhir_json import FhirResponse, require_media_type
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["RelatedPerson"], route_class=UnitOfWorkRoute)


@router.post("/RelatedPerson", status_code=201, response_class=FhirResponse)
def create_related_person(request: Request, body: RawBody, caller: RelatedPersonWrite,
                          session: DbSession, runtime: RuntimeDep) -> Response:
    """``patient`` (``Patient/{id}`` or BSN), ``relationship`` (v3 RoleCode PRN, MTH, FTH or
    GUARD), optionally the parent's BSN. Reference it as a Consent's performer."""
    require_media_type(request)
    row = receive_resource("RelatedPerson", body, runtime.settings.max_json_depth,
                           partial(register_related_person, session, caller),
                           metrics=runtime.metrics)
    return written(request, render_related_person(row), REGISTERED_VERSION, 201,
                   history.version_url(request, "RelatedPerson", row.id,
                                       REGISTERED_VERSION))


@router.get("/RelatedPerson/{related_id}", response_class=FhirResponse)
def read_related_person(related_id: str, caller: RelatedPersonWrite,
                        session: DbSession) -> FhirResponse:
    return history.vread("RelatedPerson", str(REGISTERED_VERSION),
                         _versions(session, caller, related_id))


@router.get("/RelatedPerson/{related_id}/_history/{vid}", response_class=FhirResponse)
def vread_related_person(related_id: str, vid: str, caller: RelatedPersonWrite,
                         session: DbSession) -> FhirResponse:
    return history.vread("RelatedPerson", vid, _versions(session, caller, related_id))


@router.get("/RelatedPerson/{related_id}/_history", response_class=FhirResponse)
def related_person_history(related_id: str, request: Request, caller: RelatedPersonWrite,
                           session: DbSession) -> FhirResponse:
    return history.instance_history(request, "RelatedPerson", related_id,
                                    _versions(session, caller, related_id))


def _versions(session: DbSession, caller: Caller, related_id: str) -> list[history.Version]:
    """Registered by the caller or its team (else 404), about a person the caller's
    organisation helps now (else 403)."""
    row = session.get(RelatedPersonRow, related_id)
    if row is None or (row.client_id != caller.client_id
                       and (caller.team_id is None or row.team_id != caller.team_id)):
        raise NotFound("no such RelatedPerson", expression="RelatedPerson.id")
    require_involved_with(session, caller, row.person_id, "related_person.read_refused")
    return history.versions_of([render_related_person(row)], dict)
