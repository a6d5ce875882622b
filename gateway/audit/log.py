"""Write the processing log: callers ``record`` entries in their transaction; the entries are
numbered, hashed into the log's Merkle tree and inserted right before that transaction commits,
so they exist exactly when what they describe does, and the log's lock is held only for the
moment of writing. A savepoint released writes nothing yet (an outer one may still roll back);
one rolled back takes the entries recorded inside it, and only those. Every
``checkpoint_every`` entries (and on request) the same commit signs a checkpoint of the tree
(``gateway.audit.checkpoints``).

Every sessionmaker that serves requests, the worker or the CLI is made with
:func:`audit_sessions`, which carries what entries need (register, pseudonym keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, SessionTransaction, object_session, sessionmaker

from consent import Register
from gateway.audit.chain import clean, entry_leaf
from gateway.audit.checkpoints import KIND_PERIODIC, make_checkpoints
from gateway.audit.keys import LogIdentity, log_identity
from gateway.audit.pseudonyms import Pseudonymiser
from gateway.platform.db.driver import DriverInsert
from gateway.platform.db.models import (
    Person,
    PersonIdentifier,
    ProcessingLogEntry,
    new_ordered_id,
)
from gateway.platform.settings import Settings
from schemas import Subject

CONTEXT, PENDING, SUBJECTS = "audit", "audit_pending", "audit_subjects"
MARKS = "audit_marks"  # savepoint -> how many entries were pending when it began
CHECKPOINT = "audit_checkpoint"  # session.info: sign a checkpoint at this commit, of this kind
LOCK_KEY = 0x77676C6F67  # pg_advisory_xact_lock key of the log ("wglog")
CONFIDENTIAL_CATEGORIES = frozenset({"safety-signals"})
ACTING = ("acting_person", "acting_role", "acting_unit")  # bound per request by auth
_INSERT = DriverInsert(ProcessingLogEntry.__table__)  # a dozen entries a message, 26 columns
# The tree's size, read on every commit that logs: plain SQL on the driver's cursor, which
# costs a fraction of a compiled statement's round through SQLAlchemy. After a purge of
# everything, the newest purged leaf's seq (``gateway.audit.leaves``).
_SIZES = ("SELECT seq FROM processing_log ORDER BY seq DESC LIMIT 1",
          "SELECT seq FROM processing_log_leaves ORDER BY seq DESC LIMIT 1")


@dataclass(frozen=True)
class AuditContext:
    register: Register
    pseudonymiser: Pseudonymiser
    identity: LogIdentity  # signs checkpoints
    checkpoint_every: int = 1000
    default_retention_years: int = 15  # for entries outside any activity (console, login)
    # activity id -> its entries' purpose, legal basis and retention (from ``register``)
    _activities: dict[str | None, tuple[str | None, str | None, int]] = field(
        default_factory=dict, init=False, compare=False, repr=False)

    def activity_fields(self, activity_id: str | None) -> tuple[str | None, str | None, int]:
        """(purpose, legal basis, retention years) of an entry under ``activity_id``: the
        register's, worked out once per activity (every entry carries them)."""
        if activity_id not in self._activities:
            activity = self.register.activity(activity_id) if activity_id else None
            self._activities[activity_id] = (
                (activity.purpose, " ".join(filter(None, (activity.legal_basis,
                                                         activity.health_ground))),
                 activity.retention_years) if activity
                else (None, None, self.default_retention_years))
        return self._activities[activity_id]


def audit_context(settings: Settings, register: Register) -> AuditContext:
    return AuditContext(register, Pseudonymiser(settings.pseudonym_key,
                                                tuple(settings.pseudonym_previous_keys)),
                        log_identity(settings), settings.audit_checkpoint_every)


def audit_sessions(engine: Engine, context: AuditContext) -> sessionmaker[Session]:
    """Sessions whose commits write the entries recorded in them."""
    sessions = sessionmaker(engine, expire_on_commit=False, info={CONTEXT: context})
    event.listen(sessions, "before_commit", _write_pending)
    event.listen(sessions, "after_transaction_create", _mark)
    event.listen(sessions, "after_soft_rollback", _drop_pending)
    return sessions


def record(session: Session, *, kind: str, action: str, outcome: str = "ok",
           activity_id: str | None = None, actor_type: str = "client",
           actor_id: str | None = None, sender: str | None = None,
           recipient: str | None = None, recipient_role: str | None = None,
           person_id: str | None = None, subject: str | None = None,
           categories: frozenset[str] | list[str] = frozenset(),
           details: dict[str, Any] | None = None) -> None:
    """Note one processing in this transaction. ``person_id`` (a known person) or ``subject``
    (``bsn:...``) names the data subject; both are stored only as a pseudonym."""
    context: AuditContext = session.info[CONTEXT]
    purpose, legal_basis, retention_years = context.activity_fields(activity_id)
    identifier = subject or (_identifier(session, person_id) if person_id else None)
    pseudonym, key = context.pseudonymiser.pseudonym(identifier) if identifier else (None, None)
    ids = structlog.contextvars.get_contextvars()
    confidential = kind == "override" or not CONFIDENTIAL_CATEGORIES.isdisjoint(categories)
    session.info.setdefault(PENDING, []).append({
        "id": new_ordered_id(), "recorded_at": _now_text(), "kind": kind,
        "action": action, "outcome": outcome, "activity_id": activity_id,
        "purpose": purpose, "legal_basis": legal_basis,
        "actor_type": actor_type, "actor_id": actor_id,
        **(_NOT_ACTING if ids.keys().isdisjoint(ACTING) else _acting(ids)),
        "sender": sender,
        "recipient": recipient, "recipient_role": recipient_role, "subject": pseudonym,
        "subject_key": key, "categories": " ".join(sorted(categories)) or None,
        "confidentiality": "confidential" if confidential else "normal",
        "retention_years": retention_years,
        "request_id": ids.get("request_id"), "trace_id": ids.get("trace_id"),
        "details": orjson.dumps(details, option=orjson.OPT_SORT_KEYS).decode()
        if details else None,
    })


_NOT_ACTING: dict[str, None] = dict.fromkeys(ACTING)  # no person acting (a system's request)


def _acting(ids: dict[str, Any]) -> dict[str, str | None]:
    return {name: clean(None if ids.get(name) is None else str(ids[name]), 255)
            for name in ACTING}


def request_checkpoint(session: Session, kind: str) -> None:
    """Sign a checkpoint of the tree as this transaction leaves it, when it commits."""
    session.info[CHECKPOINT] = kind


def record_now(sessions: sessionmaker[Session], **entry: Any) -> None:
    """Record in a transaction of its own: for refusals, whose request rolls back."""
    with sessions.begin() as session:
        record(session, **entry)


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so entries sort and compare as strings on every database."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now_text() -> str:
    """``timestamp`` of now (in UTC already), without strftime: every entry takes one."""
    now = datetime.now(UTC)
    text = now.isoformat()  # ...T01:02:03.456789+00:00, without the fraction at .000000
    return f"{text[:26]}Z" if now.microsecond else f"{text[:19]}.000000Z"


def subject_identifier(bsn: str) -> str:
    return f"bsn:{bsn}"


def remember_subject(session: Session, person_id: str, subject: Subject) -> None:
    """What the caller already knows about a person, so entries about them in this
    transaction need no lookup (a referral carries its subject)."""
    if subject.bsn:
        session.info.setdefault(SUBJECTS, {})[person_id] = subject_identifier(subject.bsn)
    elif subject.local_id:
        session.info.setdefault(SUBJECTS, {})[person_id] = (
            f"local:{subject.local_id.system}|{subject.local_id.value}")


def remember_bsn(session: Session, person_id: str, bsn: str) -> None:
    """``remember_subject`` for a BSN read from the database (already valid)."""
    session.info.setdefault(SUBJECTS, {})[person_id] = subject_identifier(bsn)


def identifier_of(person: Person) -> str:
    """``bsn:...``, else ``local:system|value`` of the person's first local identifier (the
    one they were registered with), else ``person:{id}``."""
    if person.bsn:
        return subject_identifier(person.bsn)
    session = object_session(person)
    local = session.execute(select(PersonIdentifier.system, PersonIdentifier.value).where(
        PersonIdentifier.person_id == person.id).order_by(
        PersonIdentifier.created_at, PersonIdentifier.id).limit(1)).first() if session else None
    return f"local:{local[0]}|{local[1]}" if local else f"person:{person.id}"


def _identifier(session: Session, person_id: str) -> str:
    """The person's identifier, cached per transaction."""
    cache: dict[str, str] = session.info.setdefault(SUBJECTS, {})
    if person_id not in cache:
        person = session.get(Person, person_id)
        cache[person_id] = identifier_of(person) if person else f"person:{person_id}"
    return cache[person_id]


def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's release: the commit writes them
        return
    session.info.pop(MARKS, None)
    pending = session.info.pop(PENDING, None) or []
    session.info.pop(SUBJECTS, None)
    forced = session.info.pop(CHECKPOINT, None)
    if not pending and not forced:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    size = _size(connection.connection.cursor())
    context: AuditContext = session.info[CONTEXT]
    due = []
    for values in pending:
        size += 1
        values["seq"] = size
        values["hash"] = entry_leaf(values).hex()
        if size % context.checkpoint_every == 0:
            due.append((size, KIND_PERIODIC))
    if pending:
        _INSERT.run(connection, pending)
    if forced:
        due = [d for d in due if d[0] != size] + [(size, forced)]
    if due:
        make_checkpoints(connection, context.identity, due)


def _size(cursor: Any) -> int:
    """The number of leaves in the tree (the newest entry's seq, purged or not)."""
    try:
        for statement in _SIZES:
            cursor.execute(statement)
            if row := cursor.fetchone():
                return row[0]
        return 0
    finally:
        cursor.close()


def _mark(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.setdefault(MARKS, {})[transaction] = len(session.info.get(PENDING) or ())


def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    """A rollback drops what was recorded in what it rolled back: a savepoint's entries, or
    the whole transaction's."""
    session.info.pop(SUBJECTS, None)
    mark = (session.info.get(MARKS) or {}).pop(previous, None) if previous.nested else None
    if mark is None:
        session.info.pop(PENDING, None)
        session.info.pop(MARKS, None)
    elif PENDING in session.info:
        del session.info[PENDING][mark:]
