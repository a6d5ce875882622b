"""Write outbox messages in the caller's transaction: durable exactly when the change is."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.db.models import OutboxMessage


def enqueue(session: Session, subscription_ids: list[str], event_type: str,
            ordering_key: str, resource: dict[str, Any]) -> list[OutboxMessage]:
    """One message per subscriber. ``ordering_key`` (the person) keeps delivery FIFO per key."""
    messages = [
        OutboxMessage(subscription_id=sub_id, event_type=event_type, ordering_key=ordering_key,
                      resource_type=resource["resourceType"], resource_id=resource["id"],
                      payload=resource)
        for sub_id in subscription_ids
    ]
    session.add_all(messages)
    return messages
