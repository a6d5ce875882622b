"""Searching the processing log: filters checked once, for the API, the exports and the console.

Every filter is validated before it reaches SQL (and reaches it only as a bound parameter):
a BSN must pass the elfproef, an activity must be in the register, a recipient is an id, a
period lies between 2000 and tomorrow. A subject is searched by its pseudonyms under every key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.audit.log import AuditContext, identifier_of, subject_identifier, timestamp
from gateway.identity.merges import person_ids
from gateway.platform.db.models import Person, ProcessingLogEntry, RelatedPersonRow
from gateway.platform.db.paging import page
from gateway.platform.errors import BadRequest
from schemas import is_valid_bsn, safe_name, shown

KINDS = frozenset({"read", "write", "disclosure", "denial", "override", "login", "view",
                   "review", "purge", "verify"})
OUTCOMES = frozenset({"ok", "denied", "error"})
FILTERS = ("subject", "household", "activity", "recipient", "kind", "outcome", "from", "to")
EARLIEST = date(2000, 1, 1)
MAX_COUNT, DEFAULT_COUNT, MAX_OFFSET = 200, 50, 100_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,254}$")


@dataclass(frozen=True)
class EntryFilter:
    pseudonyms: tuple[str, ...] = ()
    activity: str | None = None
    recipient: str | None = None
    kind: str | None = None
    outcome: str | None = None
    start: str | None = None  # ISO timestamps, as stored
    end: str | None = None


def parse_filter(params: dict[str, str], context: AuditContext,
                 session: Session) -> EntryFilter:
    """Query parameters -> a filter, or 400 naming the parameter."""
    if unknown := sorted(set(params) - set(FILTERS) - {"_count", "_offset"}):
        raise BadRequest(f"unknown parameter {shown(unknown[0])}; filters: "
                         f"{', '.join(FILTERS)}", expression=safe_name(unknown[0]))
    pseudonyms: tuple[str, ...] = ()
    if "subject" in params:
        if not is_valid_bsn(params["subject"]):
            raise BadRequest("subject is a BSN (9 digits passing the elfproef)",
                             expression="subject")
        pseudonyms = tuple(p for identifier in resident(session, params["subject"])
                           for p in context.pseudonymiser.every_pseudonym(identifier))
    if "household" in params:
        if not is_valid_bsn(params["household"]):
            raise BadRequest("household is the BSN of one of its members",
                             expression="household")
        pseudonyms += tuple(p for identifier in household(session, params["household"])
                            for p in context.pseudonymiser.every_pseudonym(identifier))
    activity = params.get("activity")
    if activity is not None and context.register.activity(activity) is None:
        raise BadRequest("unknown processing activity; see GET /processing-activities",
                         expression="activity")
    recipient = params.get("recipient")
    if recipient is not None and not _ID.match(recipient):
        raise BadRequest("recipient is an organisation or client id", expression="recipient")
    for name, allowed in (("kind", KINDS), ("outcome", OUTCOMES)):
        if name in params and params[name] not in allowed:
            raise BadRequest(f"{name} is one of: {', '.join(sorted(allowed))}", expression=name)
    start, end = _day(params.get("from"), "from"), _day(params.get("to"), "to")
    if start and end and end < start:
        raise BadRequest("the period ends before it starts", expression="to")
    return EntryFilter(
        pseudonyms, activity, recipient, params.get("kind"), params.get("outcome"),
        timestamp(datetime.combine(start, time(), UTC)) if start else None,
        timestamp(datetime.combine(end + timedelta(days=1), time(), UTC)) if end else None)


def resident(session: Session, bsn: str) -> list[str]:
    """The subject identifiers of the resident with this BSN: theirs, and those of the
    persons merged with theirs (a merge shows their entries under every pseudonym)."""
    person_id = session.scalar(select(Person.id).where(Person.bsn == bsn))
    merged = person_ids(session, person_id) if person_id else ()
    return sorted({subject_identifier(bsn)} | {
        identifier_of(person) for person in session.scalars(
            select(Person).where(Person.id.in_(merged)))})


def household(session: Session, bsn: str) -> list[str]:
    """The subject identifiers of a household as the gateway knows it: the person with this
    BSN, the parents and guardians registered for them, and the children they are registered
    for (RelatedPerson links)."""
    identifiers = {subject_identifier(bsn)}
    person_id = session.scalar(select(Person.id).where(Person.bsn == bsn))
    parents = select(RelatedPersonRow.bsn).where(RelatedPersonRow.person_id == person_id,
                                                 RelatedPersonRow.bsn.is_not(None))
    identifiers |= {subject_identifier(b) for b in session.scalars(parents)}
    children = select(Person).join(RelatedPersonRow, RelatedPersonRow.person_id == Person.id) \
        .where(RelatedPersonRow.bsn == bsn)
    identifiers |= {identifier_of(child) for child in session.scalars(children)}
    return sorted(identifiers)


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} is a date (YYYY-MM-DD)", expression=name) from None
    if not EARLIEST <= day <= date.today() + timedelta(days=1):
        raise BadRequest(f"{name} lies between {EARLIEST.isoformat()} and tomorrow",
                         expression=name)
    return day


def entries_query(where: EntryFilter) -> Select[tuple[ProcessingLogEntry]]:
    """Newest first."""
    log = ProcessingLogEntry
    query = select(log).order_by(log.seq.desc())
    if where.pseudonyms:
        query = query.where(log.subject.in_(where.pseudonyms))
    for column, value in ((log.activity_id, where.activity), (log.recipient, where.recipient),
                          (log.kind, where.kind), (log.outcome, where.outcome)):
        if value is not None:
            query = query.where(column == value)
    if where.start:
        query = query.where(log.recorded_at >= where.start)
    if where.end:
        query = query.where(log.recorded_at < where.end)
    return query


def entries_about(pseudonyms: tuple[str, ...]) -> Select[tuple[ProcessingLogEntry]]:
    """The entries about a data subject (any of their pseudonyms), in no order; none for
    no pseudonym."""
    return select(ProcessingLogEntry).where(ProcessingLogEntry.subject.in_(pseudonyms))


def search(session: Session, where: EntryFilter, count: int,
           offset: int) -> tuple[list[ProcessingLogEntry], int]:
    return page(session, entries_query(where), count, offset)


def entry_json(entry: ProcessingLogEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq, "id": entry.id, "recorded_at": entry.recorded_at,
        "kind": entry.kind, "action": entry.action, "outcome": entry.outcome,
        "activity": entry.activity_id, "purpose": entry.purpose,
        "legal_basis": entry.legal_basis,
        "actor": {"type": entry.actor_type, "id": entry.actor_id,
                  "person": entry.acting_person, "role": entry.acting_role,
                  "unit": entry.acting_unit},
        "sender": entry.sender, "recipient": entry.recipient,
        "recipient_role": entry.recipient_role, "subject": entry.subject,
        "categories": entry.categories.split() if entry.categories else [],
        "confidentiality": entry.confidentiality, "retention_years": entry.retention_years,
        "request_id": entry.request_id, "trace_id": entry.trace_id,
        "details": orjson.loads(entry.details) if entry.details else {},
        "hash": entry.hash,
    }
