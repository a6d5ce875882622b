"""Tables. The FHIR resource a client sent is stored as JSON next to the columns we query."""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.platform.db.types import JsonDocument, UTCDateTime, utcnow


def new_id() -> str:
    """A random (version 4) UUID's text, as ``str(uuid.uuid4())`` gives it, at a third of the
    cost (every processing-log entry takes one)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return _uuid_text(raw)


def new_ordered_id() -> str:
    """A time-ordered (version 7) UUID's text: the milliseconds since 1970, then random bits.
    For rows written in their thousands (processing-log entries): their ids arrive in order,
    so the unique index on them grows at its end, where a random id lands on a page of its
    own every time (about 13 pages more written per youth-dossier message)."""
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    raw[6] = raw[6] & 0x0F | 0x70  # version 7
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return _uuid_text(raw)


def _uuid_text(raw: bytearray) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JsonDocument}


class Organization(Base):
    """A receiving neighbourhood team (or other organisation) referenced by referrals."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthClient(Base):
    """A connected system or GP practice. Secrets are stored as SHA-256 digests only."""

    __tablename__ = "oauth_clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    public_jwks: Mapped[dict[str, Any] | None] = mapped_column()
    scopes: Mapped[str] = mapped_column(Text)
    team_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(64))  # recipient role, as the register names them
    # a GP practice's AGB or URA (``agb:01234567``); a team's system is its team
    organization: Mapped[str | None] = mapped_column(String(64))
    # the adapter that renders what this client receives (None: gp-referral, FHIR R4B)
    system: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Person(Base):
    """A resident, linked by BSN or, without one, by each source system's local identifier
    (``person_identifiers``). No names or addresses: only what matching needs."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    bsn: Mapped[str | None] = mapped_column(String(9), unique=True)
    birth_date: Mapped[date | None] = mapped_column()  # decides who may consent (minors)
    # SHA-256 of name key, birth date and postcode: finds probable matches, reveals no name
    match_key: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonIdentifier(Base):
    """A source system's own identifier for a person: one per system and value, so the same
    local id always names the same person; a person may have one in every system."""

    __tablename__ = "person_identifiers"
    __table_args__ = (UniqueConstraint("system", "value"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    system: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RelatedPersonRow(Base):
    """A parent or guardian of a person: who may consent for a minor."""

    __tablename__ = "related_persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    # v3 RoleCode, e.g. MTH, GUARD; none for a representation outside the family (a mentor)
    relationship: Mapped[str | None] = mapped_column(String(16))
    bsn: Mapped[str | None] = mapped_column(String(9))
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))  # the source
    team_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the legal representation it holds (consent.RepresentationKind), from period_start
    # until, not including, period_end; a certified institution is ``organization``
    representation: Mapped[str | None] = mapped_column(String(32))
    organization: Mapped[str | None] = mapped_column(String(64))  # e.g. ura:12345678
    period_start: Mapped[datetime | None] = mapped_column()
    period_end: Mapped[datetime | None] = mapped_column()


class ConsentRow(Base):
    """One version of a consent or objection. Append-only: revoking inserts a new version."""

    __tablename__ = "consent_records"
    __table_args__ = (
        UniqueConstraint("consent_id", "version"),
        Index("ix_consent_records_person_activity", "person_id", "activity_id"),
        Index("ix_consent_records_submission", "client_id", "content_hash"),
    )

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consent_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    activity_id: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(8))  # permit | deny
    active: Mapped[bool] = mapped_column(Boolean)
    by_self: Mapped[bool] = mapped_column(Boolean)
    by_representative: Mapped[bool] = mapped_column(Boolean)
    # "self" and representatives' ids, space-separated; empty before migration 0012
    grantors: Mapped[str | None] = mapped_column(Text)
    recipient_organization: Mapped[str | None] = mapped_column(String(64))
    recipient_role: Mapped[str | None] = mapped_column(String(64))
    categories: Mapped[str] = mapped_column(Text)  # space-separated; empty: all categories
    period_start: Mapped[datetime | None] = mapped_column()
    period_end: Mapped[datetime | None] = mapped_column()
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))  # source system
    team_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    worker: Mapped[str | None] = mapped_column(String(255))  # who recorded it, in that system
    # the client whose referral carried it (every version): it counts for its referrals only
    referral_sender: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    resource: Mapped[dict[str, Any]] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class OverrideRow(Base):
    """A disclosure under the meldrecht without consent, waiting for a privacy officer."""

    __tablename__ = "consent_overrides"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    activity_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))
    decision: Mapped[dict[str, Any]] = mapped_column()  # recipients, categories, rules
    justification: Mapped[str] = mapped_column(Text)
    meldcode_step: Mapped[int] = mapped_column(Integer)
    review_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    review_comment: Mapped[str | None] = mapped_column(Text)


class Involvement(Base):
    """An organisation helps a person: who may speak for a resident and ask about them."""

    __tablename__ = "involvements"
    __table_args__ = (  # covers "involved?" and who-else-helps without reading the rows
        Index("ix_involvements_person_helpers", "person_id", "organization", "started_at",
              "ended_at", "sensitivity"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization: Mapped[str] = mapped_column(String(64))  # a team id, or agb:/ura:/client:
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    source: Mapped[str] = mapped_column(String(32))  # referral-sent, referral-received, ...
    source_ref: Mapped[str | None] = mapped_column(String(100))  # e.g. ServiceRequest/{id}
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    registered_by: Mapped[str] = mapped_column(String(64))  # the client that registered it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # none | veilig-thuis | sensitive-care: who-else-helps reveals the last two only on a basis
    sensitivity: Mapped[str] = mapped_column(String(16), default="none")
    # the case director (casusregisseur), as the source system names them: its worker id
    # (never a name) and their organisation; who-else-helps never shows it
    director_worker: Mapped[str | None] = mapped_column(String(64))
    director_organization: Mapped[str | None] = mapped_column(String(64))
    # the life domains the case works on (schemas.messages.LifeDomain), space-separated
    domains: Mapped[str | None] = mapped_column(String(400))


class IdentityReview(Base):
    """Identity facts that disagree, kept for a person to resolve instead of keeping one."""

    __tablename__ = "identity_reviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # conflict | probable-match
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    # probable-match: the known person the new one may be
    candidate_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    fact: Mapped[str] = mapped_column(String(32))  # birth_date; person (probable-match)
    known_value: Mapped[str | None] = mapped_column(String(64))
    claimed_value: Mapped[str | None] = mapped_column(String(64))
    source_ref: Mapped[str | None] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    resolution: Mapped[str | None] = mapped_column(String(32))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonMerge(Base):
    """Two person records found to be one resident: ``merged`` acts as ``survivor`` until the
    merge is undone. Rows are never deleted, so a merge and its undoing stay on record."""

    __tablename__ = "person_merges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    survivor_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    merged_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    review_id: Mapped[str | None] = mapped_column(ForeignKey("identity_reviews.id"))
    merged_by: Mapped[str] = mapped_column(String(64))
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)  # why (a review's is on the review)
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column()
    undo_comment: Mapped[str | None] = mapped_column(Text)


class ClientActor(Base):
    """A person (worker) and role a connected system may say it acts for."""

    __tablename__ = "client_actors"

    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceRequestRow(Base):
    """A referral as received, with the columns that searches and access checks need."""

    __tablename__ = "service_requests"
    __table_args__ = (
        UniqueConstraint("client_id", "identifier_system", "identifier_value",
                         name="uq_service_requests_identifier"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"), index=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    # who referred, as sent (``agb:01234567``, ``uzi:123456789``) and for which practice
    # (``agb:``/``ura:``); at least one is set (docs/referral-shapes.md)
    requester: Mapped[str | None] = mapped_column(String(64))
    requester_organization: Mapped[str | None] = mapped_column(String(64))
    identifier_system: Mapped[str | None] = mapped_column(String(255))
    identifier_value: Mapped[str | None] = mapped_column(String(255))
    resource: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskRow(Base):
    """The feedback channel of one referral: its status as the team moves it along."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    service_request_id: Mapped[str] = mapped_column(
        ForeignKey("service_requests.id"), unique=True
    )
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"), index=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    requester: Mapped[str | None] = mapped_column(String(64))  # as on the referral
    requester_organization: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # statusReason, note, ...
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubscriptionRow(Base):
    """A rest-hook: where to POST when a matching resource changes."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"), index=True)
    criteria: Mapped[str] = mapped_column(String(300))
    resource_type: Mapped[str] = mapped_column(String(40))
    focus_id: Mapped[str | None] = mapped_column(String(36))
    endpoint: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # put-resource (R4B, payload set), empty (R4B, no payload), post-resource (before 0009)
    notification_style: Mapped[str] = mapped_column(String(16), default="put-resource")
    error: Mapped[str | None] = mapped_column(Text)  # why status is 'error'; no personal data
    deleted_at: Mapped[datetime | None] = mapped_column()  # DELETEd: reads answer 410
    updated_at: Mapped[datetime | None] = mapped_column()  # the current version's; None: created


class FeedEntry(Base):
    """An outbox message of a feed subscription, visible in its client's feed from the moment
    it became deliverable (queued permitted, or released by a consent). ``txid``: the writing
    transaction's id on PostgreSQL (a server default), so a reader can wait for transactions
    still in flight instead of skipping their rows; NULL on SQLite (one writer at a time)."""

    __tablename__ = "feed_entries"
    __table_args__ = (Index("ix_feed_entries_client", "client_id", "txid", "seq"),
                      {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())


class IdempotencyKey(Base):
    """The first answer to an ``Idempotency-Key``, replayed for any retry of the same request."""

    __tablename__ = "idempotency_keys"

    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """One message for one subscriber, written in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_order", "subscription_id", "ordering_key", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    event_type: Mapped[str] = mapped_column(String(100))
    ordering_key: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[dict[str, Any]] = mapped_column()  # minimised; empty when withheld
    decision: Mapped[dict[str, Any] | None] = mapped_column()  # the consent decision for it
    status: Mapped[str] = mapped_column(String(16), default="pending")  # or withheld, ...
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()


class InboundMessage(Base):
    """An adapter message applied once, by its sender's own message id: a replay changes
    nothing and gets the first answer. Keeps no content, only the answer (ids, no personal
    data) and a digest that tells a replay from another message under the same id."""

    __tablename__ = "inbound_messages"

    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    """One try at delivering an outbox message: outcome only, never the payload."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(100))
    duration_ms: Mapped[int] = mapped_column(Integer)


class UsedClientAssertion(Base):
    """``jti`` of each accepted private_key_jwt assertion, so a captured one cannot be replayed."""

    __tablename__ = "used_client_assertions"

    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ProcessingLogEntry(Base):
    """One processing of personal data (verwerkingsactie): append-only and hash-chained.

    Shaped after the VNG Verwerkingenlogging API and Logius' Logboek Dataverwerkingen: the
    activity from the register with its purpose, legal basis and retention, who did it, who
    received, the data subject (pseudonymised), the categories, and the trace it belongs to.
    Text columns only (times as ISO strings) so the database can rebuild the hashed line.
    """

    __tablename__ = "processing_log"
    __table_args__ = (
        Index("ix_processing_log_subject", "subject", "seq"),
        Index("ix_processing_log_activity", "activity_id", "seq"),
        Index("ix_processing_log_recorded_at", "recorded_at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    recorded_at: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC, fixed width
    kind: Mapped[str] = mapped_column(String(16))  # read, write, disclosure, denial, ...
    action: Mapped[str] = mapped_column(String(64))  # e.g. referral.received
    outcome: Mapped[str] = mapped_column(String(16))  # ok, denied, error
    activity_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(String(32))
    actor_type: Mapped[str] = mapped_column(String(16))  # client, officer, system
    actor_id: Mapped[str | None] = mapped_column(String(255))
    acting_person: Mapped[str | None] = mapped_column(Text)  # the worker a system acts for
    acting_role: Mapped[str | None] = mapped_column(Text)
    acting_unit: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(255))
    recipient: Mapped[str | None] = mapped_column(String(255), index=True)
    recipient_role: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))  # HMAC of BSN or local id
    subject_key: Mapped[str | None] = mapped_column(String(12))  # which key made it
    categories: Mapped[str | None] = mapped_column(Text)  # space-separated
    confidentiality: Mapped[str] = mapped_column(String(16))  # normal, confidential
    retention_years: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(128))
    trace_id: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[str | None] = mapped_column(Text)  # JSON of ids, rules; no personal data
    hash: Mapped[str] = mapped_column(String(64))  # the entry's Merkle leaf hash, hex


class ProcessingLogCheckpoint(Base):
    """A signed tree head of the log's Merkle tree (a C2SP checkpoint in a signed note): made
    every ``audit_checkpoint_every`` entries, on demand, and by every purge."""

    __tablename__ = "processing_log_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # size
    hash: Mapped[str] = mapped_column(String(64))  # root hash, hex
    kind: Mapped[str] = mapped_column(String(16))  # periodic | purge | manual
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text)  # the signed note, as published
    frontier: Mapped[str] = mapped_column(Text)  # compact range at seq: the next one's start


class Officer(Base):
    """A privacy officer's console account. Passwords are stored as scrypt hashes."""

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), default="privacy_officer")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column()


class ConsoleSession(Base):
    """A console login, kept on the server so logout, idle and absolute limits end it there.
    ``id`` is the SHA-256 of the token in the cookie: a copy of the table logs nobody in."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()


class RateLimitCounter(Base):
    """One fixed-window counter of the ``limits`` package, shared by every process."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(index=True)  # seconds since the epoch


class ProcessingLogLeaf(Base):
    """The Merkle leaf hash of a purged entry, kept when the purge removes the entry itself,
    so the tree (and every proof in it) outlives the entries' retention."""

    __tablename__ = "processing_log_leaves"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class ResourceVersion(Base):
    """A version that an update replaced (the current one stays in the resource's own row):
    what vread and ``_history`` read. Consents need none: their rows are their versions."""

    __tablename__ = "resource_versions"

    resource_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    resource: Mapped[dict[str, Any]] = mapped_column()
    superseded_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamIdentifier(Base):
    """An AGB or URA of a team's organisation (``ura:12345678``): a GP system may name the
    team by it (``performer.identifier``). One team each."""

    __tablename__ = "team_identifiers"

    identifier: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HouseholdRow(Base):
    """A household: one home's members, however many source systems registered it."""

    __tablename__ = "households"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))  # first registrant
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HouseholdIdentifier(Base):
    """A source system's own id for a household: the same id again is the same household."""

    __tablename__ = "household_identifiers"

    system: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HouseholdMember(Base):
    """A person's membership of a household, with a role and a period (dates; none: open)."""

    __tablename__ = "household_members"
    __table_args__ = (UniqueConstraint("household_id", "person_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the Group.member order
    role: Mapped[str] = mapped_column(String(16))  # schemas.household.MemberRole
    period_start: Mapped[date | None] = mapped_column()
    period_end: Mapped[date | None] = mapped_column()  # the last day of membership


class HouseholdMerge(Base):
    """Two households found to be one home: ``merged``'s members and ids moved to
    ``survivor`` (``moved`` records what moved and what ``merged`` was, so an undo restores
    it). Rows are never deleted, so a merge and its undoing stay on record."""

    __tablename__ = "household_merges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    survivor_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    merged_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    review_id: Mapped[str | None] = mapped_column(ForeignKey("identity_reviews.id"))
    merged_by: Mapped[str] = mapped_column(String(64))
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)  # why (a review's is on the review)
    # the merged household as it was: its memberships (ids, persons, roles, periods, order)
    # and source ids; person ids only, no personal data
    moved: Mapped[dict[str, Any]] = mapped_column()
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column()
    undo_comment: Mapped[str | None] = mapped_column(Text)


class CarePlanRow(Base):
    """A household's plan (docs/household-plan.md). ``resource`` is the plan as FHIR, as the
    gateway renders it (items in id order, references to persons by id); agreement, approvals
    and who added each item are the gateway's, kept beside it. One open plan (draft or
    active) per household."""

    __tablename__ = "care_plans"
    __table_args__ = (Index("ix_care_plans_open_household", "household_id", unique=True,
                            sqlite_where=text("status IN ('draft', 'active')"),
                            postgresql_where=text("status IN ('draft', 'active')")),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    # the version whose goals and actions the household agrees to and leaders approve: the
    # last change in substance (progress and approvals make versions, not new content)
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"))  # who drafted it
    resource: Mapped[dict[str, Any]] = mapped_column()
    # {"Goal/g1": "team/role", ...}: the unit that added each item sees it, whatever consent
    sources: Mapped[dict[str, Any]] = mapped_column()
    # {"by": person id, "at": iso time, "version": n} or {}
    agreement: Mapped[dict[str, Any]] = mapped_column()
    # {"youth": {"leader":, "client":, "at":, "version":}, "adult": {...}}
    approvals: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CarePlanBase(Base):
    """The version of a plan a system last read, received or wrote, and which of its items it
    saw: the base of its next change (when it sends no ``If-Match``, as many systems keep no
    ETag), so an item withheld from it then is not taken as one it removed."""

    __tablename__ = "care_plan_bases"

    plan_id: Mapped[str] = mapped_column(ForeignKey("care_plans.id"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer)
    seen: Mapped[dict[str, Any]] = mapped_column()  # {"items": ["Goal/g1", ...]}
