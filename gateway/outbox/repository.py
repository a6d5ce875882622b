"""Outbox queries: claim due messages (FIFO per subscriber and person), record outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from gateway.platform.db.models import DeliveryAttempt, OutboxMessage

IN_FLIGHT = ("pending", "delivering")


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Lease up to ``limit`` due messages that are first in line for their (subscription,
    person). ``SKIP LOCKED`` lets several workers share the queue on PostgreSQL."""
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.subscription_id == OutboxMessage.subscription_id,
        earlier.ordering_key == OutboxMessage.ordering_key,
        earlier.id < OutboxMessage.id,
        earlier.status.in_(IN_FLIGHT),
    )
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "delivering", OutboxMessage.lease_until < now),
    )
    rows = list(session.scalars(
        select(OutboxMessage).where(due, ~blocked).order_by(OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)))
    for row in rows:
        row.status, row.lease_until = "delivering", now + lease
    return [row.id for row in rows]


def give_back(session: Session, ids: list[int], now: datetime) -> None:
    """Messages claimed but not tried (the worker is stopping): due again at once, for any
    worker, instead of after their lease; only those this worker still holds."""
    for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.id.in_(ids), OutboxMessage.status == "delivering",
            OutboxMessage.lease_until > now)):
        make_due(row, now)


def make_due(row: OutboxMessage, at: datetime) -> None:
    """The one path back into the queue, for automatic retry and for manual replay."""
    row.status, row.next_attempt_at, row.lease_until = "pending", at, None


def counts(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    by_status = dict(session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    ok = DeliveryAttempt.error.is_(None)
    attempts = {
        "success": session.scalar(select(func.count()).where(ok)) or 0,
        "failure": session.scalar(select(func.count()).where(~ok)) or 0,
    }
    return by_status, attempts


def list_messages(session: Session, status: str | None, limit: int) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))


def already_told(session: Session, subscription_ids: list[str], person_id: str,
                 resource_id: str, event_type: str) -> set[str]:
    """Which of these subscriptions have a message of this event about this resource already
    (sent, waiting or withheld): a change told again would be news that is not."""
    if not subscription_ids:
        return set()
    return set(session.scalars(select(OutboxMessage.subscription_id).where(
        OutboxMessage.subscription_id.in_(subscription_ids),
        OutboxMessage.ordering_key == person_id, OutboxMessage.resource_id == resource_id,
        OutboxMessage.event_type == event_type)))
