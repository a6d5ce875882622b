"""``/fhir/Group``: households. Members are Patients with a role (extension
household-member-role) and a period; a person may be in several households. Registering a
household another system registered already answers that one (docs/households.md)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from gateway.api.callers import GroupRead, GroupWrite
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.auth.bearer import Caller
from gateway.fhir import history
from gateway.fhir.common import RawBody, check_if_match, if_match, versioned
from gateway.fhir.prefer import written
from gateway.fhir.resource_versions import kept
from gateway.fhir.search import (
    SearchSpec,
    bundle_response,
    parse_search,
    reference_ids,
    token_clause,
)
from gateway.households import merging, service
from gateway.platform.db.models import HouseholdIdentifier, HouseholdRow
from gateway.platform.fhir_json import (
    FhirResponse,
    decode_json_object,
    require_media_type,
    require_own_id,
)
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["Group"], route_class=UnitOfWorkRoute)
SEARCH = SearchSpec("Group", frozenset({"member", "identifier"}), HouseholdRow.updated_at)


def _readable(group_id: str, caller: GroupRead, session: DbSession) -> HouseholdRow:
    return merging.live_household(session, caller, group_id)


def _writable(group_id: str, caller: GroupWrite, session: DbSession) -> HouseholdRow:
    return merging.live_household(session, caller, group_id, to_change=True)


Readable = Annotated[HouseholdRow, Depends(_readable)]
Writable = Annotated[HouseholdRow, Depends(_writable)]


@router.post("/Group", status_code=201, response_class=FhirResponse)
def create_group(request: Request, body: RawBody, caller: GroupWrite, session: DbSession,
                 runtime: RuntimeDep) -> Response:
    """A household: ``type`` person, ``actual`` true, your system's id for it in
    ``identifier``, each ``member.entity`` a ``Patient/{id}`` your organisation helps or an
    identifier (BSN, or your system's own id), its role in the extension, its ``period``.
    201 with a new household; 200 with the one the gateway had (same id, or same adults)."""
    require_media_type(request)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    registered = service.register_group(session, caller, document)
    row = registered.household
    return written(request, service.group_of(session, row), row.version_id,
                   201 if registered.created else 200,
                   history.version_url(request, "Group", row.id, row.version_id))


@router.get("/Group/{group_id}", response_class=FhirResponse)
def read_group(household: Readable, caller: GroupRead, session: DbSession) -> FhirResponse:
    """Each read is logged for every member it shows."""
    return versioned(service.shown(session, caller, service.group_of(session, household)),
                     household.version_id)


@router.get("/Group/{group_id}/_history/{vid}", response_class=FhirResponse)
def vread_group(household: Readable, vid: str, caller: GroupRead,
                session: DbSession) -> FhirResponse:
    return history.vread("Group", vid, _versions(session, caller, household))


@router.get("/Group/{group_id}/_history", response_class=FhirResponse)
def group_history(household: Readable, request: Request, caller: GroupRead,
                  session: DbSession) -> FhirResponse:
    return history.instance_history(request, "Group", household.id,
                                    _versions(session, caller, household))


def _versions(session: DbSession, caller: Caller, household: HouseholdRow
              ) -> list[history.Version]:
    return history.versions_of([service.group_of(session, household),
                                *kept(session, "Group", household.id)],
                               partial(service.shown, session, caller))


@router.put("/Group/{group_id}", response_class=FhirResponse)
def replace_group(household: Writable, request: Request, body: RawBody, caller: GroupWrite,
                  session: DbSession, runtime: RuntimeDep) -> Response:
    """The members, roles and periods as given (``If-Match`` checked when sent)."""
    require_media_type(request)
    check_if_match(if_match(request, runtime.settings.require_if_match), household.version_id)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    require_own_id(document, household.id, "Group")
    row = service.replace_group(session, caller, household, document)
    return written(request, service.group_of(session, row), row.version_id)


@router.get("/Group", response_class=FhirResponse)
def search_groups(request: Request, caller: GroupRead, session: DbSession) -> FhirResponse:
    """By ``member`` (``Patient/{id}``: every household they are or were in), ``identifier``
    (a source system's household id, ``system|value``) and ``_lastUpdated``."""
    search = parse_search(request, SEARCH)
    member, identifier = search.params.get("member"), search.params.get("identifier")
    query = service.search_query(
        session, caller, reference_ids(request, "member", member, "Patient") if member else None,
        token_clause(identifier, HouseholdIdentifier.system, HouseholdIdentifier.value)
        if identifier else None)
    rows, total = search.rows(session, query, HouseholdRow.created_at, HouseholdRow.id)
    return bundle_response(request, search, [service.shown(session, caller,
                                                          service.group_of(session, r))
                                             for r in rows], total)
