"""``/fhir/Subscription``: rest-hooks that tell a client of each change it may read."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.api.callers import SubscriptionRead, SubscriptionWrite
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.auth.bearer import Caller
from gateway.fhir import history
from gateway.fhir.common import RawBody, check_if_match, if_match, versioned
from gateway.fhir.prefer import written
from gateway.fhir.resource_versions import kept
from gateway.fhir.search import SearchSpec, bundle_response, parse_search
from gateway.platform.db.models import SubscriptionRow
from gateway.platform.errors import Gone, NotFound
from gateway.platform.fhir_json import FhirResponse, decode_json_object, require_media_type
from gateway.platform.unit_of_work import UnitOfWorkRoute
from gateway.subscriptions import service as subscriptions
from gateway.subscriptions.service import create_subscription, render_subscription

router = APIRouter(prefix="/fhir", tags=["Subscription"], route_class=UnitOfWorkRoute)
SEARCH = SearchSpec("Subscription")


def _own_or_404(session: DbSession, subscription_id: str, caller: Caller) -> SubscriptionRow:
    """The caller's own Subscription, deleted or not (one posted ``status: off`` is read
    like any other); anyone else's is 404, as an unknown id."""
    row = session.get(SubscriptionRow, subscription_id)
    if row is None or row.client_id != caller.client_id:
        raise NotFound("no such Subscription", expression="Subscription.id")
    return row


def _current_or_410(session: DbSession, subscription_id: str,
                    caller: Caller) -> SubscriptionRow:
    row = _own_or_404(session, subscription_id, caller)
    if row.deleted_at is not None:
        raise Gone("this Subscription was deleted; its versions stay readable at _history",
                   expression="Subscription.id")
    return row


@router.post("/Subscription", status_code=201, response_class=FhirResponse)
def subscribe(request: Request, body: RawBody, caller: SubscriptionWrite, session: DbSession,
              runtime: RuntimeDep) -> Response:
    """Register a rest-hook, or a feed (``channel.type`` ``message`` without an endpoint)
    read at ``GET /adapters/{name}/feed``. Deliveries are signed per the Standard Webhooks
    scheme; the endpoint must pass the egress policy (docs/webhooks.md)."""
    require_media_type(request)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    row = create_subscription(session, caller, document, runtime.egress)
    return written(request, render_subscription(row), row.version_id, 201,
                   history.version_url(request, "Subscription", row.id, row.version_id))


@router.get("/Subscription/{subscription_id}", response_class=FhirResponse)
def read_subscription(subscription_id: str, caller: SubscriptionRead,
                      session: DbSession) -> FhirResponse:
    """Your Subscription, active, off or in error; 410 once DELETEd."""
    row = _current_or_410(session, subscription_id, caller)
    return versioned(render_subscription(row), row.version_id)


@router.put("/Subscription/{subscription_id}", response_class=FhirResponse)
def replace_subscription(subscription_id: str, request: Request, body: RawBody,
                         caller: SubscriptionWrite, session: DbSession,
                         runtime: RuntimeDep) -> Response:
    """Change your Subscription, checked as a create is; ``status: requested`` starts one in
    ``error`` again (docs/webhooks.md). ``If-Match`` is checked when sent (412 if stale)."""
    require_media_type(request)
    row = _current_or_410(session, subscription_id, caller)
    session.refresh(row, with_for_update=True)  # a worker's status change waits, or this does
    check_if_match(if_match(request, runtime.settings.require_if_match), row.version_id)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    row = subscriptions.replace_subscription(session, caller, row, document, runtime.egress)
    return written(request, render_subscription(row), row.version_id)


@router.get("/Subscription/{subscription_id}/_history/{vid}", response_class=FhirResponse)
def vread_subscription(subscription_id: str, vid: str, caller: SubscriptionRead,
                       session: DbSession) -> FhirResponse:
    return history.vread("Subscription", vid, _versions(session, caller, subscription_id))


@router.get("/Subscription/{subscription_id}/_history", response_class=FhirResponse)
def subscription_history(subscription_id: str, request: Request, caller: SubscriptionRead,
                         session: DbSession) -> FhirResponse:
    return history.instance_history(request, "Subscription", subscription_id,
                                    _versions(session, caller, subscription_id))


def _versions(session: DbSession, caller: Caller,
              subscription_id: str) -> list[history.Version]:
    """A client's own Subscriptions carry no resident data: every version shown whole. A
    deletion is a version without a resource."""
    row = _own_or_404(session, subscription_id, caller)
    older = kept(session, "Subscription", row.id)
    if row.deleted_at is None:
        return history.versions_of([render_subscription(row), *older], dict)
    deletion = history.Version(row.version_id, "DELETE", row.deleted_at.isoformat(), None)
    return [deletion, *history.versions_of(older, dict)]


@router.get("/Subscription", response_class=FhirResponse)
def list_subscriptions(request: Request, caller: SubscriptionRead, session: DbSession,
                       runtime: RuntimeDep) -> FhirResponse:
    search = parse_search(request, SEARCH)
    query = subscriptions.subscriptions_of(caller)
    rows, total = search.rows(session, query, SubscriptionRow.created_at, SubscriptionRow.id)
    return bundle_response(request, search, [render_subscription(r) for r in rows], total)


@router.delete("/Subscription/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: str, caller: SubscriptionWrite, session: DbSession) -> Response:
    """Stop notifications. Messages not yet delivered are not sent. The deletion is a new
    version: a read answers 410 from now on, ``_history`` still lists what it was. Deleting
    it again changes nothing."""
    row = _own_or_404(session, subscription_id, caller)
    session.refresh(row, with_for_update=True)  # a concurrent DELETE waits, then sees this one
    subscriptions.delete_subscription(session, row)
    return Response(status_code=204)
