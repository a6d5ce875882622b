"""Register rest-hook subscriptions after checking the caller may read what it asks for."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.subscription import Subscription
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from adapters import DEFAULT_SYSTEM, UnknownAdapter, get_adapter
from adapters.fhir_validation import validate_resource
from gateway.auth.bearer import Caller
from gateway.auth.scopes import adapter_scope
from gateway.fhir.resource_versions import keep
from gateway.outbox import egress, headers
from gateway.outbox.subscribers import STYLE_FEED
from gateway.platform.db.models import OAuthClient, ServiceRequestRow, SubscriptionRow
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Unprocessable
from gateway.platform.fhir_json import fhir_version_ok, media_range, require_own_id
from gateway.platform.logging import get_logger
from gateway.referrals import repository

FHIR_JSON = "application/fhir+json"
STYLE_PUT, STYLE_EMPTY, STYLE_POST = "put-resource", "empty", "post-resource"
__all__ = ["STYLE_EMPTY", "STYLE_FEED", "STYLE_POST", "STYLE_PUT"]
STYLE_EXTENSION = "https://wijkgateway.nl/fhir/StructureDefinition/notification-style"
log = get_logger()


def create_subscription(session: Session, caller: Caller, document: dict[str, Any],
                        policy: egress.Policy) -> SubscriptionRow:
    row = SubscriptionRow(client_id=caller.client_id,
                          **_checked(session, caller, document, policy))
    session.add(row)
    session.flush()
    log.info("subscription_created", subscription_id=row.id, client_id=caller.client_id,
             resource_type=row.resource_type)
    return row


def replace_subscription(session: Session, caller: Caller, row: SubscriptionRow,
                         document: dict[str, Any], policy: egress.Policy) -> SubscriptionRow:
    """An update (PUT) checked as a create is. ``requested`` or ``active`` makes one in
    ``error`` active again and clears the reason; ``off`` stops it. A ``post-resource``
    Subscription PUT back as read (its style extension kept) keeps its POST: only leaving
    the extension out moves it to R4B notifications (docs/webhooks.md)."""
    require_own_id(document, row.id, "Subscription")
    fields = _checked(session, caller, document, policy)
    if row.notification_style == STYLE_POST and _keeps_post(document):
        fields["notification_style"] = STYLE_POST
    _new_version(session, row)
    for name, value in fields.items():
        setattr(row, name, value)
    row.error = None
    log.info("subscription_updated", subscription_id=row.id, client_id=caller.client_id,
             status=row.status)
    return row


def _checked(session: Session, caller: Caller, document: dict[str, Any],
             policy: egress.Policy) -> dict[str, Any]:
    """The row's fields from a Subscription a client sent, or the 4xx that names what is
    wrong. ``error`` is the gateway's to set: a client asks for ``requested`` (or ``active``)."""
    resource = validate_resource(Subscription, document)
    if resource.status == "error":
        raise Unprocessable("status 'error' is set by the gateway when deliveries fail; send "
                            "'requested' to start notifications, 'off' to stop them",
                            expression="Subscription.status")
    resource_type, focus_id = _criteria(session, caller, resource.criteria)
    channel = resource.channel
    fields = {"criteria": resource.criteria, "resource_type": resource_type,
              "focus_id": focus_id, "reason": resource.reason,
              "status": "off" if resource.status == "off" else "active"}
    if channel.type == "message":
        return {**fields, **_feed(session, caller, channel)}
    if channel.type != "rest-hook":
        raise Unprocessable("channel type must be 'rest-hook' (webhooks), or 'message' without "
                            "an endpoint (a feed the system polls)",
                            expression="Subscription.channel.type")
    return {**fields, "endpoint": _endpoint(channel.endpoint, policy),
            "headers": _headers(channel.header or []),
            "notification_style": _style(channel.payload)}


def _feed(session: Session, caller: Caller, channel: Any) -> dict[str, Any]:
    """``message`` without an endpoint: the notices wait in the client's feed
    (``GET /adapters/{name}/feed``), rendered by its system's adapter when it reads them. Only
    a client that can read that feed (its system has an endpoint, it holds the scope) gets one:
    otherwise its notices would wait for nobody."""
    client = session.get(OAuthClient, caller.client_id)
    system = (client.system if client else None) or DEFAULT_SYSTEM
    try:
        readable = get_adapter(system).descriptor.endpoint
    except UnknownAdapter:
        readable = False
    if not readable or adapter_scope(system) not in caller.scopes:
        raise Unprocessable(f"a feed is read at GET /adapters/{{name}}/feed with the scope "
                            f"adapter/{{name}}.write of the client's own system ({system}); "
                            "this client cannot read one: use a 'rest-hook'",
                            expression="Subscription.channel.type")
    for element in ("endpoint", "payload", "header"):
        if getattr(channel, element):
            raise Unprocessable(f"a feed (channel type 'message') has no {element}: the system "
                                "reads its notices with GET /adapters/{name}/feed",
                                expression=f"Subscription.channel.{element}")
    return {"endpoint": "", "headers": {}, "notification_style": STYLE_FEED}


def _keeps_post(document: dict[str, Any]) -> bool:
    """The body still carries the ``post-resource`` extension its read showed."""
    channel = document.get("channel")
    extensions = channel.get("extension") if isinstance(channel, dict) else None
    return isinstance(extensions, list) and {"url": STYLE_EXTENSION,
                                             "valueCode": STYLE_POST} in extensions


def _style(payload: str | None) -> str:
    """R4B rest-hook: with a payload the resource is PUT to ``[endpoint]/{type}/{id}``;
    without one, a POST without a body tells the receiver to come and read."""
    if payload is None:
        return STYLE_EMPTY
    kind, params = media_range(payload)
    if kind != FHIR_JSON or not fhir_version_ok(params):
        raise Unprocessable(f"channel.payload must be {FHIR_JSON} (the resource is PUT to "
                            "[endpoint]/{type}/{id}), or absent (a POST without a body)",
                            expression="Subscription.channel.payload")
    return STYLE_PUT


def _criteria(session: Session, caller: Caller, criteria: str) -> tuple[str, str | None]:
    expr = "Subscription.criteria"
    if criteria == "Task":
        return "Task", None
    if criteria == "ServiceRequest":
        if caller.team_id is None:
            raise Unprocessable("only a team's system can subscribe to new referrals",
                                expression=expr)
        return "ServiceRequest", None
    if criteria in ("EpisodeOfCare", "CarePlan"):
        if caller.team_id is None:
            raise Unprocessable("only a team's system can subscribe to the trajectories and "
                                "plans of the households its team helps", expression=expr)
        return criteria, None
    if criteria.startswith("Task?focus=ServiceRequest/"):
        focus = criteria.removeprefix("Task?focus=ServiceRequest/")
        if repository.get_visible(session, ServiceRequestRow, focus, caller) is None:
            raise Unprocessable("unknown reference: no such ServiceRequest for this client",
                                expression=expr)
        return "Task", focus
    raise Unprocessable("supported criteria: 'Task', 'Task?focus=ServiceRequest/{id}', "
                        "'ServiceRequest', 'EpisodeOfCare', 'CarePlan'", expression=expr)


def _endpoint(endpoint: str | None, policy: egress.Policy) -> str:
    """The endpoint, if the egress policy lets it be reached; the refusal never quotes it."""
    try:
        egress.destination(endpoint or "", policy)
    except egress.EgressRefused as refused:
        log.info("subscription_endpoint_refused", error_type=type(refused).__name__)
        raise Unprocessable(refused.reason, expression="Subscription.channel.endpoint") \
            from refused
    return endpoint or ""


def _headers(lines: list[str]) -> dict[str, str]:
    """Checked ``Name: value`` lines, each name once; errors name the line, never its value."""
    parsed: dict[str, str] = {}
    seen: set[str] = set()
    for i, line in enumerate(lines):
        try:
            if i >= headers.MAX_HEADERS:
                raise headers.InvalidHeader(f"at most {headers.MAX_HEADERS} headers")
            name, value = headers.parse_line(line)
            if name.lower() in seen:
                raise headers.InvalidHeader("each header name may appear once")
        except headers.InvalidHeader as invalid:
            raise Unprocessable(invalid.reason,
                                expression=f"Subscription.channel.header[{i}]") from invalid
        seen.add(name.lower())
        parsed[name] = value
    return parsed


def subscriptions_of(caller: Caller) -> Select[tuple[SubscriptionRow]]:
    """The caller's subscriptions that are not deleted ('off' ones too)."""
    return select(SubscriptionRow).where(SubscriptionRow.client_id == caller.client_id,
                                         SubscriptionRow.deleted_at.is_(None))


def render_subscription(row: SubscriptionRow, headers_masked: bool = False) -> dict[str, Any]:
    """The Subscription as FHIR. ``headers_masked``: header values (often a receiver's
    secret) as ``***``, for the versions kept after a change, so a rotated secret is gone."""
    channel: dict[str, Any] = {"type": "rest-hook", "endpoint": row.endpoint}
    if row.notification_style == STYLE_FEED:
        channel = {"type": "message"}
    elif row.notification_style == STYLE_POST:  # stored before R4B notifications: says so
        channel["extension"] = [{"url": STYLE_EXTENSION, "valueCode": STYLE_POST}]
    if row.notification_style not in (STYLE_EMPTY, STYLE_FEED):
        channel["payload"] = FHIR_JSON
    if row.headers:
        channel["header"] = [f"{k}: {'***' if headers_masked else v}"
                             for k, v in row.headers.items()]
    return {
        "resourceType": "Subscription",
        "id": row.id,
        "meta": {"versionId": str(row.version_id),
                 "lastUpdated": (row.updated_at or row.created_at).isoformat()},
        "status": row.status,
        "reason": row.reason or "referral status feedback",
        "criteria": row.criteria,
        **({"error": row.error} if row.error else {}),
        "channel": channel,
    }


def delete_subscription(session: Session, row: SubscriptionRow) -> None:
    """A DELETE is a version without a resource: reads answer 410 from now on, ``_history``
    still lists what it was; deleting again changes nothing."""
    if row.deleted_at is not None:
        return
    _new_version(session, row)
    row.status, row.deleted_at = "off", utcnow()
    log.info("subscription_deleted", subscription_id=row.id, client_id=row.client_id)


def mark_error(session: Session, subscription_id: str, reason: str) -> None:
    """A delivery failed for good: an active Subscription moves to ``error`` (R4B: it gets no
    new notifications) with ``reason``, a fixed text without personal data."""
    row = session.get(SubscriptionRow, subscription_id, with_for_update=True)
    if row is None or row.status not in ("active", "error") or row.error == reason:
        return
    _new_version(session, row)
    row.status, row.error = "error", reason
    log.warning("subscription_error", subscription_id=row.id, client_id=row.client_id)


def mark_active(session: Session, subscription_id: str) -> None:
    """A delivery succeeded (a retry, a replay): a Subscription in ``error`` is active again."""
    row = session.get(SubscriptionRow, subscription_id)
    if row is None or row.status != "error":
        return  # the common case, without a lock
    session.refresh(row, with_for_update=True)  # a client's PUT or DELETE waits, or this does
    if row.status != "error":
        return
    _new_version(session, row)
    row.status, row.error = "active", None
    log.info("subscription_recovered", subscription_id=row.id, client_id=row.client_id)


def _new_version(session: Session, row: SubscriptionRow) -> None:
    """Keep the version a status change replaces, for vread and ``_history``."""
    keep(session, render_subscription(row, headers_masked=True))
    row.version_id += 1
    row.updated_at = utcnow()
