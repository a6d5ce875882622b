"""Feed entries: the notices of feed subscriptions, written when a message becomes
deliverable and read by the system with a cursor instead of being pushed to it.

A cursor must never pass a row that commits late. On PostgreSQL every entry carries the id of
the transaction that wrote it (``txid``, a server default) and a read returns only entries of
transactions older than the reading snapshot's xmin, ordered by (txid, seq): a transaction
still in flight has an id >= xmin, and one that starts later a larger id still, so nothing can
later appear before the cursor. A long transaction anywhere on the server delays the feed; it
never makes it skip. On SQLite one transaction writes at a time, so ``seq`` alone is in commit
order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, literal_column, select, tuple_
from sqlalchemy.orm import Session

from gateway.platform.db.models import FeedEntry, OutboxMessage
from gateway.platform.db.types import utcnow

IN_FEED = "feed"  # OutboxMessage.status: waiting in its client's feed, never pushed
_ENTRIES = FeedEntry.__table__
# The oldest transaction still in flight when the statement's snapshot was taken.
_XMIN = literal_column("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")


@dataclass(frozen=True, order=True)
class Position:
    """Where a reader stands: the last entry it was given (``txid`` 0 on SQLite), or (0, 0)."""

    txid: int
    seq: int


START = Position(0, 0)


def status_for(feed_client: str | None) -> str:
    """The status of a permitted message: in a feed, or due for the worker."""
    return IN_FEED if feed_client is not None else "pending"


def add_entries(session: Session, messages: list[tuple[OutboxMessage, str]]) -> None:
    """Make each (message, client) visible in that client's feed from now on. Core, so the
    server fills ``txid`` with this transaction's id."""
    if not messages:
        return
    session.flush()  # the messages' ids
    now = utcnow()
    session.execute(insert(FeedEntry), [
        {"outbox_id": message.id, "client_id": client_id, "created_at": now}
        for message, client_id in messages])


def release_to_feed(session: Session, message: OutboxMessage, client_id: str) -> None:
    """A withheld message that consent now permits: in the feed from this moment."""
    message.status, message.lease_until = IN_FEED, None
    add_entries(session, [(message, client_id)])


def entries_after(session: Session, client_id: str, after: Position,
                  limit: int) -> list[tuple[Position, int]]:
    """Up to ``limit`` of the client's entries after ``after``, oldest first, as (position,
    outbox id); on PostgreSQL only those no transaction in flight can come before."""
    c = _ENTRIES.c
    query = select(c.txid, c.seq, c.outbox_id).where(c.client_id == client_id).limit(limit)
    if _postgres(session):
        query = query.where(c.txid < _XMIN,
                            tuple_(c.txid, c.seq) > tuple_(after.txid, after.seq)) \
            .order_by(c.txid, c.seq)
    else:
        query = query.where(c.seq > after.seq).order_by(c.seq)
    return [(Position(txid or 0, seq), outbox_id)
            for txid, seq, outbox_id in session.execute(query)]


def is_position(session: Session, client_id: str, position: Position) -> bool:
    """Whether ``position`` is one this client's feed handed out (an entry of its own)."""
    c = _ENTRIES.c
    found = session.scalar(select(func.count()).select_from(_ENTRIES).where(
        c.client_id == client_id, c.seq == position.seq,
        c.txid == position.txid if _postgres(session) else c.txid.is_(None)))
    return bool(found)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
