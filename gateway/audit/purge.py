"""Remove entries past their retention period; their leaves stay (copied into
``processing_log_leaves``), so the tree, its signed checkpoints and every proof in it survive.

Only a prefix of the log can go: entries are removed up to the first one still within its
retention, so what remains is contiguous. An entry with a long retention period therefore
keeps later ones, whatever theirs. Each entry is checked against its leaf before it goes (an
entry edited to look expired would otherwise take the evidence with it). The purge is logged,
its entry names how far it reached (verification accepts missing entries up to there only
once a signed checkpoint covers that entry), and the same commit signs a checkpoint.

On PostgreSQL the application's role may not delete log rows at all: it calls
``wijkgateway_purge_log``, a function owned by the schema owner that deletes only entries
whose retention has passed by the database's own clock, keeping their leaves (migration 0005).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gateway.audit.checkpoints import KIND_PURGE
from gateway.audit.log import record, request_checkpoint, timestamp
from gateway.audit.merkle import leaf_hash
from gateway.audit.verify import PURGED, line_sql
from gateway.platform.db.models import ProcessingLogEntry, ProcessingLogLeaf

_LOG, _LEAVES = ProcessingLogEntry.__table__, ProcessingLogLeaf.__table__


class PurgeRefused(RuntimeError):
    """An entry due for removal does not match its leaf: verify the log first."""


@dataclass(frozen=True)
class Purged:
    entries: int
    through_seq: int | None


def purge_expired(session: Session, now: datetime | None = None,
                  dry_run: bool = False) -> Purged:
    """``dry_run`` checks and counts what would go, and changes nothing."""
    now = now or datetime.now(UTC)
    connection = session.connection()
    rows = connection.execute(
        select(_LOG.c.seq, _LOG.c.recorded_at, _LOG.c.retention_years, _LOG.c.hash,
               line_sql()).order_by(_LOG.c.seq))
    last, count = None, 0
    for seq, recorded_at, years, leaf, entry_line in rows:
        if recorded_at >= timestamp(_years_before(now, years or 0)):
            break
        if leaf_hash(entry_line.encode()).hex() != leaf:
            raise PurgeRefused(f"entry {seq} does not match its leaf; run "
                               "`wijkgateway audit verify` before purging")
        last, count = seq, count + 1
    rows.close()
    if last is None or dry_run:
        return Purged(count, last)
    if connection.dialect.name == "postgresql":
        session.execute(text("SELECT wijkgateway_purge_log(:through)"), {"through": last})
    else:
        session.execute(_LEAVES.insert().from_select(
            ["seq", "hash"], select(_LOG.c.seq, _LOG.c.hash).where(_LOG.c.seq <= last)))
        session.execute(_LOG.delete().where(_LOG.c.seq <= last))
    record(session, kind="purge", action=PURGED, actor_type="system",
           details={"entries": count, "through_seq": last})
    request_checkpoint(session, KIND_PURGE)
    return Purged(count, last)


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February in a year without one
        return moment.replace(year=moment.year - years, day=28)
