"""Remove entries past their retention period, leaving a checkpoint to verify from.

Only a prefix of the chain can go: entries are removed up to the first one still within its
retention, so the chain that remains is whole and starts from the purge checkpoint's hash.
An entry with a long retention period therefore keeps later ones, whatever theirs. The purge
itself is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gateway.audit.log import record, timestamp
from gateway.db.models import ProcessingLogCheckpoint, ProcessingLogEntry

_LOG = ProcessingLogEntry.__table__


@dataclass(frozen=True)
class Purged:
    entries: int
    through_seq: int | None
    checkpoint_hash: str | None


def purge_expired(session: Session, now: datetime | None = None) -> Purged:
    now = now or datetime.now(UTC)
    last: tuple[int, str] | None = None
    count = 0
    rows = session.connection().execute(
        select(_LOG.c.seq, _LOG.c.hash, _LOG.c.recorded_at, _LOG.c.retention_years)
        .order_by(_LOG.c.seq))
    for seq, entry_hash, recorded_at, years in rows:
        if recorded_at >= timestamp(_years_before(now, years or 0)):
            break
        last, count = (seq, entry_hash), count + 1
    if last is None:
        return Purged(0, None, None)
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SET LOCAL wijkgateway.purge = 'on'"))
    session.execute(_LOG.delete().where(_LOG.c.seq <= last[0]))
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SET LOCAL wijkgateway.purge = 'off'"))
    session.execute(ProcessingLogCheckpoint.__table__.insert(), {
        "seq": last[0], "hash": last[1], "kind": "purge", "created_at": now})
    record(session, kind="purge", action="processing_log.purged", actor_type="system",
           details={"entries": count, "through_seq": last[0], "checkpoint_hash": last[1]})
    return Purged(count, last[0], last[1])


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February in a year without one
        return moment.replace(year=moment.year - years, day=28)
