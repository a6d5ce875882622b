"""Which consents a search shows the caller: current versions recorded by it or its team's
systems, about residents its organisation helps, narrowed by the search's parameters (already
read from the request by the route)."""

from __future__ import annotations

from sqlalchemy import Select, case

from gateway.auth.bearer import Caller
from gateway.consents import repository
from gateway.fhir.search import code_clause
from gateway.involvements.repository import involved_in
from gateway.platform.db.models import ConsentRow

STATUSES = frozenset({"active", "inactive"})  # the two states stored: active, revoked
STATUS_SYSTEM = "http://hl7.org/fhir/consent-state-codes"


def consents_found(caller: Caller, *, status: str | None, organizations: list[str] | None,
                   roles: list[str] | None, activities: list[str] | None,
                   person_id: str | None) -> Select[tuple[ConsentRow]]:
    """The search's query; ``status`` is the token as given, the others parsed values."""
    query = repository.visible_consents(caller).where(
        involved_in(caller.organization, ConsentRow.person_id))
    if status is not None:
        query = query.where(code_clause(status, "status", STATUS_SYSTEM,
                                        case((ConsentRow.active, "active"), else_="inactive"),
                                        STATUSES))
    if organizations is not None:
        query = query.where(ConsentRow.recipient_organization.in_(organizations))
    if roles is not None:
        query = query.where(ConsentRow.recipient_role.in_(roles))
    if activities is not None:
        query = query.where(ConsentRow.activity_id.in_(activities))
    if person_id is not None:
        query = query.where(ConsentRow.person_id == person_id)
    return query
