"""What the console pages show and do, read from the processing log and the tables it
describes. Never commits: the request's session does, once, with the page's own log entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import log as audit
from gateway.audit.log import AuditContext
from gateway.audit.verify import Verification, record_verification, verify_database
from gateway.identity.merges import person_ids
from gateway.identity.repository import person_by_bsn
from gateway.oversight.queries import resident
from gateway.platform.db.models import (
    ConsentRow,
    OverrideRow,
    Person,
    ProcessingLogCheckpoint,
    ProcessingLogEntry,
)
from gateway.platform.db.types import utcnow
from gateway.platform.errors import BadRequest, Conflict, NotFound

TIMELINE_LIMIT = 1000  # log entries on one timeline, newest kept
OVERRIDES_LIMIT = 200
CHART_WEEKS = 12
MAX_COMMENT_LENGTH = 4000
_LOG = ProcessingLogEntry


@dataclass(frozen=True)
class TimelineEvent:
    when: str  # ISO 8601 UTC, as the log stores it, so all sources sort together
    kind: str  # consent, objection, revocation, override, or the log entry's kind
    what: str
    activity: str | None = None
    actor: str | None = None
    recipient: str | None = None
    categories: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Timeline:
    person_known: bool
    events: list[TimelineEvent]
    truncated: bool  # more log entries than TIMELINE_LIMIT: the oldest are left out


def timeline(session: Session, context: AuditContext, bsn: str) -> Timeline:
    """Consents (every version), overrides and every log entry about one person (and the
    persons merged with them), oldest first."""
    pseudonyms = [p for identifier in resident(session, bsn)
                  for p in context.pseudonymiser.every_pseudonym(identifier)]
    entries = list(session.scalars(select(_LOG).where(_LOG.subject.in_(pseudonyms))
                                   .order_by(_LOG.seq.desc()).limit(TIMELINE_LIMIT + 1)))
    events = [_entry_event(e) for e in entries[:TIMELINE_LIMIT]]
    person = person_by_bsn(session, bsn)
    if person is not None:
        merged = person_ids(session, person.id)
        events += [_consent_event(row) for row in session.scalars(
            select(ConsentRow).where(ConsentRow.person_id.in_(merged)))]
        events += [_override_event(row) for row in session.scalars(
            select(OverrideRow).where(OverrideRow.person_id.in_(merged)))]
    events.sort(key=lambda event: event.when)
    return Timeline(person is not None, events, len(entries) > TIMELINE_LIMIT)


def _entry_event(entry: ProcessingLogEntry) -> TimelineEvent:
    return TimelineEvent(entry.recorded_at, entry.kind, entry.action, entry.activity_id,
                         entry.actor_id or entry.actor_type, entry.recipient,
                         entry.categories, entry.outcome)


def _consent_event(row: ConsentRow) -> TimelineEvent:
    kind = ("revocation" if not row.active else
            "consent" if row.verdict == "permit" else "objection")
    return TimelineEvent(audit.timestamp(row.recorded_at), kind,
                         f"Consent/{row.consent_id} version {row.version}", row.activity_id,
                         row.worker or row.client_id,
                         row.recipient_organization or row.recipient_role,
                         row.categories or None, "active" if row.active else "inactive")


def _override_event(row: OverrideRow) -> TimelineEvent:
    return TimelineEvent(audit.timestamp(row.created_at), "override",
                         f"meldcode step {row.meldcode_step}", row.activity_id, row.client_id,
                         outcome=row.review_status)


def pending_overrides(session: Session) -> list[tuple[OverrideRow, str | None]]:
    """Overrides awaiting review, oldest first, each with the person's BSN (if known)."""
    return [(row, bsn) for row, bsn in session.execute(
        select(OverrideRow, Person.bsn).join(Person, Person.id == OverrideRow.person_id)
        .where(OverrideRow.review_status == "pending")
        .order_by(OverrideRow.created_at, OverrideRow.id).limit(OVERRIDES_LIMIT))]


def approve_override(session: Session, override_id: str, officer: str,
                     comment: str) -> OverrideRow:
    """Approve with the officer's comment; the review is itself logged."""
    comment = comment.strip()
    if not comment or len(comment) > MAX_COMMENT_LENGTH:
        raise BadRequest(f"comment: say why the override is approved (at most "
                         f"{MAX_COMMENT_LENGTH} characters)", expression="comment")
    row = session.get(OverrideRow, override_id, with_for_update=True)
    if row is None:
        raise NotFound("no such override", expression="override")
    if row.review_status != "pending":
        raise Conflict(f"this override was {row.review_status} already", expression="override")
    row.review_status, row.reviewed_by, row.reviewed_at = "approved", officer, utcnow()
    row.review_comment = comment
    audit.record(session, kind="review", action="override.approved", activity_id=row.activity_id,
                 actor_type="officer", actor_id=officer, person_id=row.person_id,
                 details={"override": row.id, "meldcode_step": row.meldcode_step})
    return row


@dataclass(frozen=True)
class ChainStatus:
    entries: int
    head: ProcessingLogEntry | None
    last_verification: ProcessingLogEntry | None
    verification_details: dict[str, Any]
    last_checkpoint: ProcessingLogCheckpoint | None


def chain_status(session: Session) -> ChainStatus:
    verified = session.scalar(select(_LOG).where(_LOG.kind == "verify")
                              .order_by(_LOG.seq.desc()).limit(1))
    return ChainStatus(
        session.scalar(select(func.count()).select_from(_LOG)) or 0,
        session.scalar(select(_LOG).order_by(_LOG.seq.desc()).limit(1)), verified,
        orjson.loads(verified.details) if verified and verified.details else {},
        session.scalar(select(ProcessingLogCheckpoint)
                       .order_by(ProcessingLogCheckpoint.seq.desc()).limit(1)))


def verify_now(sessions: sessionmaker[Session], database_url: str, officer: str) -> Verification:
    """Check the whole chain, then log the check as ``wijkgateway audit verify`` does: the
    reading holds no write transaction open, and the entry is written in one of its own. One
    process: the server does not fork (the CLI checks side by side)."""
    result = verify_database(database_url, sessions.kw["info"][audit.CONTEXT])
    with sessions.begin() as session:
        record_verification(session, result, "officer", officer)
    return result


@dataclass(frozen=True)
class WeeklyDisclosures:
    weeks: list[date]  # the Mondays, oldest first
    counts: dict[str, list[int]]  # activity -> disclosures per week


def weekly_disclosures(session: Session, today: date | None = None) -> WeeklyDisclosures:
    """Disclosures per activity per ISO week over the last CHART_WEEKS weeks, this one
    included. Counted per day in SQL (times are stored as text), then summed per week."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=today.weekday(), weeks=CHART_WEEKS - 1)
    day = func.substr(_LOG.recorded_at, 1, 10)
    rows = session.execute(
        select(_LOG.activity_id, day, func.count()).where(
            _LOG.kind == "disclosure",
            _LOG.recorded_at >= audit.timestamp(datetime.combine(first, time(), UTC)))
        .group_by(_LOG.activity_id, day))
    counts: dict[str, list[int]] = {}
    for activity, day_text, count in rows:
        week = (date.fromisoformat(day_text) - first).days // 7
        if week < CHART_WEEKS:
            counts.setdefault(activity or "(none)", [0] * CHART_WEEKS)[week] += count
    return WeeklyDisclosures([first + timedelta(weeks=w) for w in range(CHART_WEEKS)],
                             dict(sorted(counts.items())))
