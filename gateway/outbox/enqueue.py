"""Write outbox messages in the caller's transaction: durable exactly when the change is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway.outbox.feed import add_entries, status_for
from gateway.platform.db.models import OutboxMessage


@dataclass(frozen=True)
class Delivery:
    """What one subscriber gets: a (minimised) payload, or None when it is withheld; and the
    decision that said so, kept on the row for the processing log."""

    subscription_id: str
    payload: dict[str, Any] | None
    decision: dict[str, Any]
    feed_client: str | None = None  # kept in this client's feed, never pushed


def enqueue(session: Session, deliveries: list[Delivery], event_type: str, ordering_key: str,
            resource_type: str, resource_id: str) -> list[OutboxMessage]:
    """One row per subscriber. ``ordering_key`` (the person) keeps delivery FIFO per key;
    withheld rows are never sent. A permitted message to a feed is in its client's feed now."""
    messages = [
        OutboxMessage(subscription_id=d.subscription_id, event_type=event_type,
                      ordering_key=ordering_key, resource_type=resource_type,
                      resource_id=resource_id, payload=d.payload or {}, decision=d.decision,
                      status=status_for(d.feed_client) if d.payload is not None else "withheld")
        for d in deliveries
    ]
    session.add_all(messages)
    add_entries(session, [(m, d.feed_client) for m, d in zip(messages, deliveries, strict=True)
                          if d.feed_client is not None and d.payload is not None])
    return messages
