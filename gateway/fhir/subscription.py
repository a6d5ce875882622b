"""``/fhir/Subscription``: rest-hooks that tell a client of each change it may read."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from gateway.auth.bearer import Caller
from gateway.auth.callers import SubscriptionRead, SubscriptionWrite
from gateway.db.models import SubscriptionRow
from gateway.db.paging import page
from gateway.errors import NotFound
from gateway.fhir.base_url import public_base
from gateway.fhir.common import RawBody, bundle_response, parse_search, versioned
from gateway.fhir_json import FhirResponse, decode_json_object, require_media_type
from gateway.runtime import DbSession, RuntimeDep
from gateway.subscriptions.service import create_subscription, render_subscription
from gateway.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["Subscription"], route_class=UnitOfWorkRoute)


def _own_or_404(session: DbSession, subscription_id: str, caller: Caller) -> SubscriptionRow:
    row = session.get(SubscriptionRow, subscription_id)
    if row is None or row.client_id != caller.client_id or row.status == "off":
        raise NotFound("no such Subscription", expression="Subscription.id")
    return row


@router.post("/Subscription", status_code=201, response_class=FhirResponse)
def subscribe(request: Request, body: RawBody, caller: SubscriptionWrite, session: DbSession,
              runtime: RuntimeDep) -> FhirResponse:
    """Register a rest-hook. Deliveries are signed per the Standard Webhooks scheme; the
    endpoint must pass the egress policy (docs/webhooks.md)."""
    require_media_type(request)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    row = create_subscription(session, caller, document, runtime.egress)
    location = f"{public_base(request)}/fhir/Subscription/{row.id}"
    return versioned(render_subscription(row), row.version_id, 201, location)


@router.get("/Subscription/{subscription_id}", response_class=FhirResponse)
def read_subscription(subscription_id: str, caller: SubscriptionRead,
                      session: DbSession) -> FhirResponse:
    row = _own_or_404(session, subscription_id, caller)
    return versioned(render_subscription(row), row.version_id)


@router.get("/Subscription", response_class=FhirResponse)
def list_subscriptions(request: Request, caller: SubscriptionRead, session: DbSession,
                       runtime: RuntimeDep) -> FhirResponse:
    search = parse_search(request, frozenset())
    query = select(SubscriptionRow).where(SubscriptionRow.client_id == caller.client_id,
                                          SubscriptionRow.status == "active")
    rows, total = page(session, query.order_by(SubscriptionRow.created_at), search.count,
                       search.offset)
    return bundle_response(request, public_base(request), search,
                           [render_subscription(r) for r in rows], total)


@router.delete("/Subscription/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: str, caller: SubscriptionWrite, session: DbSession) -> Response:
    """Stop notifications. Messages not yet delivered are not sent."""
    row = _own_or_404(session, subscription_id, caller)
    row.status = "off"
    return Response(status_code=204)
