"""``/fhir/Organization``: the teams a GP can refer to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.api.callers import OrganizationRead
from gateway.api.runtime import DbSession
from gateway.fhir.render import fhir_identifier
from gateway.fhir.search import SearchSpec, bundle_response, parse_search
from gateway.platform.db.models import Organization
from gateway.platform.errors import NotFound
from gateway.platform.fhir_json import FhirResponse
from gateway.platform.unit_of_work import UnitOfWorkRoute
from gateway.referrals.teams import identifiers_of, teams_found

router = APIRouter(prefix="/fhir", tags=["Organization"], route_class=UnitOfWorkRoute)
SEARCH = SearchSpec("Organization", frozenset({"identifier"}))


def render_organization(row: Organization, identifiers: list[str]) -> dict[str, Any]:
    """A team, with the AGB and URA (nl systems) a referral may name it by."""
    resource: dict[str, Any] = {"resourceType": "Organization", "id": row.id}
    if identifiers:
        resource["identifier"] = [fhir_identifier(token) for token in identifiers]
    return {**resource, "active": True, "name": row.name, "type": [{"text": "wijkteam"}]}


@router.get("/Organization/{organization_id}", response_class=FhirResponse)
def read_organization(organization_id: str, caller: OrganizationRead,
                      session: DbSession) -> FhirResponse:
    row = session.get(Organization, organization_id)
    if row is None:
        raise NotFound("no such Organization", expression="Organization.id")
    return FhirResponse(render_organization(row, identifiers_of(session, [row.id])[row.id]))


@router.get("/Organization", response_class=FhirResponse)
def list_organizations(request: Request, caller: OrganizationRead,
                       session: DbSession) -> FhirResponse:
    """All teams, or those with an ``identifier`` (the AGB or URA of the team's
    organisation, e.g. ``http://fhir.nl/fhir/NamingSystem/ura|12345678``)."""
    search = parse_search(request, SEARCH)
    query = teams_found(search.params.get("identifier"))
    rows, total = search.rows(session, query, Organization.id)
    identifiers = identifiers_of(session, [r.id for r in rows])
    return bundle_response(request, search,
                           [render_organization(r, identifiers[r.id]) for r in rows], total)
