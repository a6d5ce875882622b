"""``GET /adapters/{name}/feed``: the notices of a client's feed subscriptions, for systems
that poll instead of receiving webhooks. Each entry is decided again and rendered by the
client's adapter when it is read, exactly as the worker does before a send: a consent revoked
since withholds it (skipped) or narrows it, and one the adapter cannot render is dead.

The cursor is opaque to the system: base64url of ``txid.seq``, the position of the last entry
it was given (``gateway.outbox.feed`` says why no late commit is ever passed).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway.delivery.decide import recheck
from gateway.outbox import feed
from gateway.outbox.rendering import Undeliverable, render_for
from gateway.platform.db.models import DeliveryAttempt, OAuthClient, OutboxMessage, SubscriptionRow
from gateway.platform.db.types import utcnow
from gateway.platform.errors import BadRequest
from gateway.platform.logging import get_logger
from schemas import safe_name, shown

MAX_LIMIT, DEFAULT_LIMIT = 500, 100
PARAMETERS = ("after", "limit")
_POSITION = re.compile(r"(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})")
log = get_logger()


@dataclass(frozen=True)
class FeedQuery:
    after: feed.Position
    limit: int


def parse_query(items: Sequence[tuple[str, str]]) -> FeedQuery:
    """``after`` (a cursor this feed gave, or none: from the start) and ``limit`` (1..500),
    each at most once, or a 400 naming the parameter; a value is never echoed."""
    params = dict(items)
    if unknown := sorted(set(params) - set(PARAMETERS)):
        raise BadRequest(f"unknown parameter {shown(unknown[0])}; the feed takes "
                         f"{', '.join(PARAMETERS)}", expression=safe_name(unknown[0]))
    if len(params) < len(items):
        twice = next(name for name in PARAMETERS if [k for k, _ in items].count(name) > 1)
        raise BadRequest(f"{twice} may be given once", expression=twice)
    limit = params.get("limit", str(DEFAULT_LIMIT))
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}",
                         expression="limit")
    after = params.get("after")
    return FeedQuery(feed.START if after is None else decode_cursor(after), int(limit))


def encode_cursor(position: feed.Position) -> str:
    return base64.urlsafe_b64encode(f"{position.txid}.{position.seq}".encode()) \
        .decode().rstrip("=")


def decode_cursor(cursor: str) -> feed.Position:
    """The position a cursor names, or 400 (``after``) when it is not one of ours."""
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_",
                                validate=True).decode("ascii") \
            if cursor.isascii() and len(cursor) <= 64 else ""
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = _POSITION.fullmatch(text)
    if match is None or encode_cursor(feed.Position(int(match[1]), int(match[2]))) != cursor:
        raise BadRequest("after is not a cursor of this feed: send the 'next' of a previous "
                         "answer, or nothing to start from the beginning", expression="after")
    return feed.Position(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Page:
    entries: list[dict[str, Any]]
    next: str

    def json(self) -> dict[str, Any]:
        return {"entries": self.entries, "next": self.next}


def read_feed(session: Session, client_id: str, query: FeedQuery,
              enabled: Collection[str]) -> Page:
    """The entries after the cursor, oldest first, each decided again and rendered for the
    client; ``next`` moves past skipped ones too (withheld, dead, unsubscribed)."""
    if query.after != feed.START and not feed.is_position(session, client_id, query.after):
        raise BadRequest("after is not a cursor of this feed: send the 'next' of a previous "
                         "answer, or nothing to start from the beginning", expression="after")
    found = feed.entries_after(session, client_id, query.after, query.limit)
    client = session.get(OAuthClient, client_id)
    assert client is not None  # the caller's own client, checked by its token
    entries = [entry for _, outbox_id in found
               if (entry := _entry(session, client, outbox_id, enabled)) is not None]
    return Page(entries, encode_cursor(found[-1][0] if found else query.after))


def _entry(session: Session, client: OAuthClient, outbox_id: int,
           enabled: Collection[str]) -> dict[str, Any] | None:
    """One notice as the client's system takes it now, or None when it is not to be had."""
    message = session.get(OutboxMessage, outbox_id)
    assert message is not None  # entries reference their message
    subscription = session.get(SubscriptionRow, message.subscription_id)
    if message.status != feed.IN_FEED or subscription is None \
            or subscription.status not in ("active", "error"):
        return None  # withheld or dead since, or the subscription deleted or off
    payload = recheck(session, message)
    if payload is None:
        return None  # consent revoked since: withheld now, released again by a new consent
    try:
        rendered = render_for(client, message, payload, enabled)
    except Undeliverable as refused:
        _dead(session, message, refused.reason)
        return None
    document = rendered.document
    return {"id": f"msg_{message.id}", "event": message.event_type,
            "resource": f"{message.resource_type}/{message.resource_id}",
            "mediaType": rendered.media_type,
            "notice": document.decode() if isinstance(document, bytes) else document}


def _dead(session: Session, message: OutboxMessage, reason: str) -> None:
    """As the worker does with a message that cannot be rendered: dead at once, with why."""
    session.add(DeliveryAttempt(outbox_id=message.id, status_code=None, error=reason,
                                duration_ms=0, attempted_at=utcnow()))
    message.attempts += 1
    message.status = "dead"
    log.warning("feed_entry_dead", outbox_id=message.id, error_code=reason.split(":")[0])
