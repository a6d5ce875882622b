"""``/fhir/Organization``: the teams a GP can refer to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement, false, or_, select

from gateway.api.callers import OrganizationRead
from gateway.api.runtime import DbSession
from gateway.fhir.render import fhir_identifier
from gateway.fhir.search import SearchSpec, bundle_response, parse_search
from gateway.platform.db.models import Organization, TeamIdentifier
from gateway.platform.errors import NotFound
from gateway.platform.fhir_json import FhirResponse, split_token
from gateway.platform.unit_of_work import UnitOfWorkRoute
from gateway.referrals.teams import TEAM_IDENTIFIER_KINDS, identifiers_of
from schemas import IDENTIFIER_KINDS, kind_of_system

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
    query = select(Organization)
    if "identifier" in search.params:
        query = query.where(_with_identifier(search.params["identifier"]))
    rows, total = search.rows(session, query, Organization.id)
    identifiers = identifiers_of(session, [r.id for r in rows])
    return bundle_response(request, search,
                           [render_organization(r, identifiers[r.id]) for r in rows], total)


def _with_identifier(value: str) -> ColumnElement[bool]:
    """Token values (comma for OR) against the stored ``ura:12345678``: an AGB or URA system
    (http or OID form) names its kind, ``system|`` any value of it; no system, any kind;
    another system matches nothing."""
    clauses = []
    for system, code in map(split_token, value.split(",")):
        kinds = [IDENTIFIER_KINDS[k] for k in TEAM_IDENTIFIER_KINDS] if system is None \
            else [kind] if (kind := kind_of_system(system)) else []
        column = TeamIdentifier.identifier
        clauses += [column == f"{k.prefix}:{code}" if code else column.startswith(f"{k.prefix}:")
                    for k in kinds]
    return Organization.id.in_(select(TeamIdentifier.organization_id).where(or_(false(),
                                                                              *clauses)))
