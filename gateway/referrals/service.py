"""Referral logic: store a referral with its Task and notifications; move a Task's status.
Never commits: the request's session commits once (a failed insert rolls back, for the 409)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters import get_adapter
from consent import Register
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.auth.clients import sender_of
from gateway.consents.service import check_referral_consent, record_referral_consent
from gateway.disclosure.service import (
    REASON_IDENTITY_CONFLICT,
    disclose,
    release_reviewed,
    release_withheld,
)
from gateway.fhir.render import render_task
from gateway.fhir.resource_versions import keep
from gateway.identity.matching import identify
from gateway.identity.service import queue_conflict
from gateway.involvements.service import end_referral, register_referral
from gateway.outbox.subscribers import (
    Subscriber,
    subscribers_for_new_referral,
    subscribers_for_task,
)
from gateway.platform.db.models import (
    IdentityReview,
    Person,
    ServiceRequestRow,
    TaskRow,
    new_id,
)
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Conflict, Forbidden, GatewayError, Unprocessable
from gateway.platform.logging import get_logger
from gateway.referrals import repository, teams
from schemas import (
    ACTIVITY_FEEDBACK,
    ACTIVITY_REFERRAL,
    TASK_STATUSES_NEEDING_REASON,
    TASK_TRANSITIONS,
    PersonClaim,
    Referral,
    Subject,
    can_transition,
    task_status_event,
)

log = get_logger()
GP_ADAPTER = "gp-referral"


@dataclass(frozen=True)
class PersonMatch:
    """The person a referral is about, and the birth date the gateway knew when it says
    another one (an identity conflict for a person to resolve, never silently settled)."""

    person_id: str
    conflicting_birth_date: date | None = None


@dataclass(frozen=True)
class Identified:
    """Who a referral is about and where it goes: the referral with its team's id, the
    team's subscribers, the resident as matched, and the id the referral will be stored by
    (reviews its resident queues name it)."""

    referral: Referral
    team_id: str
    subscribers: list[Subscriber]
    match: PersonMatch
    referral_id: str


@dataclass(frozen=True)
class Stored:
    """The stored referral (``row`` transient, for rendering) and why its notifications are
    withheld from everyone, if they are (an identity conflict waits for review)."""

    row: ServiceRequestRow
    withhold: str | None


def identify_referral(session: Session, caller: Caller, referral: Referral,
                      known_teams: set[str]) -> Identified:
    """The receiving team (checked to exist), its subscribers, and the resident."""
    referral, team_id = _routed(session, referral, known_teams)
    referral_id = new_id()
    match = _resident(session, caller, referral.subject, f"ServiceRequest/{referral_id}")
    return Identified(referral, team_id, subscribers_for_new_referral(session, team_id),
                      match, referral_id)


def _resident(session: Session, caller: Caller, subject: Subject,
              source_ref: str) -> PersonMatch:
    """The referral's resident, as ``gateway.identity.matching`` links every message (a new
    look-alike is queued as a probable match); a birth date other than the known one is
    reported, for the referral to be held back."""
    found = identify(session, PersonClaim(
        bsn=subject.bsn, local=subject.local_id, family_name=subject.family_name,
        given_name=subject.given_name, birth_date=subject.birth_date,
        postcode=subject.postcode), client_id=caller.client_id, source_ref=source_ref)
    return PersonMatch(found.person.id, found.known_birth_date)


def persist_referral(session: Session, caller: Caller, register: Register,
                     identified: Identified) -> Stored:
    """Store referral + Task (+ the resident's consent when it came along), logged.

    A duplicate business identifier is caught by the unique constraint, not a pre-check.
    Rows are written with plain INSERTs in foreign-key order.
    """
    referral, match = identified.referral, identified.match
    person_id = match.person_id
    ident = referral.identifier
    now = utcnow()
    values = dict(
        id=identified.referral_id, version_id=1, client_id=caller.client_id,
        team_id=identified.team_id,
        person_id=person_id, requester=referral.requester,
        requester_organization=referral.requester_organization, resource=referral.resource,
        identifier_system=ident.system if ident else None,
        identifier_value=ident.value if ident else None, created_at=now, updated_at=now)
    row = ServiceRequestRow(**values)
    try:
        repository.insert_row(session, ServiceRequestRow, **values)
    except IntegrityError:
        session.rollback()
        if ident and (existing := repository.find_by_identifier(session, caller, ident)):
            raise Conflict(f"a referral with this identifier exists: ServiceRequest/"
                           f"{existing[0].id}; use If-None-Exist to make retries safe",
                           expression="ServiceRequest.identifier") from None
        raise
    repository.insert_row(session, TaskRow, service_request_id=row.id,
                          client_id=caller.client_id, team_id=row.team_id,
                          requester=row.requester,
                          requester_organization=row.requester_organization,
                          status="requested", details={},
                          created_at=now, updated_at=now)
    audit.remember_subject(session, person_id, referral.subject)
    withhold = None
    if match.conflicting_birth_date is None:
        _link_subject(session, caller, register, referral, row)
    else:  # which person this is waits for a review: no involvement, no consent, nothing sent
        if referral.consent_index is not None:  # answered as if the person were new
            check_referral_consent(register, referral, referral.subject.birth_date)
        queue_conflict(session, person_id=person_id, fact="birth_date",
                       known=match.conflicting_birth_date.isoformat(),
                       claimed=str(referral.subject.birth_date),
                       source_ref=f"ServiceRequest/{row.id}", client_id=caller.client_id)
        withhold = REASON_IDENTITY_CONFLICT
    audit.record(session, kind="write", action="referral.received",
                 activity_id=ACTIVITY_REFERRAL, actor_id=caller.client_id,
                 sender=caller.client_id, recipient=row.team_id, person_id=person_id,
                 categories=_categories(register, ACTIVITY_REFERRAL),
                 details={"resource": f"ServiceRequest/{row.id}"})
    log.info("referral_received", resource_id=row.id, team_id=row.team_id,
             client_id=caller.client_id)
    return Stored(row, withhold)


def _routed(session: Session, referral: Referral,
            known_teams: set[str]) -> tuple[Referral, str]:
    """The referral with its team's id, and that id, checked to exist. A team named by
    identifier is looked up; ``known_teams`` caches ids seen to exist (teams are never
    deleted), saving a query."""
    if referral.team_identifier is not None:
        team_id = teams.team_for_identifier(session, referral.team_identifier)
        if team_id is None:
            raise Unprocessable("unknown team: no team has this AGB or URA",
                                expression="ServiceRequest.performer[0].identifier")
        known_teams.add(team_id)
        return referral.model_copy(update={"team_id": team_id}), team_id
    team_id = referral.team_id
    assert team_id is not None  # the Referral model requires an id or an identifier
    if team_id not in known_teams:
        if not repository.team_exists(session, team_id):
            raise Unprocessable("unknown team: no Organization with this id receives referrals",
                                expression="ServiceRequest.performer[0].reference")
        known_teams.add(team_id)
    return referral, team_id


def _link_subject(session: Session, caller: Caller, register: Register, referral: Referral,
                  row: ServiceRequestRow) -> None:
    """The referral's resident is known for sure: the sender and the team become involved,
    and the consent that came along is recorded."""
    register_referral(session, sender=caller.organization, team_id=row.team_id,
                      person_id=row.person_id, referral_id=row.id, client_id=caller.client_id)
    if referral.consent_index is not None:
        _record_consent(session, caller, register, referral, row.person_id,
                        referral.subject.birth_date)


def _record_consent(session: Session, caller: Caller, register: Register, referral: Referral,
                    person_id: str, born: date | None) -> None:
    """The consent a referral carries, recorded; a permit releases this sender's earlier
    referrals that waited for it."""
    row = record_referral_consent(session, caller, register, referral, person_id, born)
    if row.verdict == "permit":
        release_withheld(session, register, person_id, row.activity_id, sender=caller.client_id)


def settle_identity(session: Session, register: Register, review: IdentityReview) -> dict[str, Any]:
    """Apply an identity review's outcome to the referral it held back. The same person: link
    it now, as if it had come without a conflict (a consent that cannot be recorded for the
    person is reported, not fatal), then decide its held messages again. A different person:
    it stays held."""
    referral_id = (review.source_ref or "").removeprefix("ServiceRequest/")
    row = session.get(ServiceRequestRow, referral_id)
    if row is None or review.resolution == "different-person":
        return {"released": 0}
    sender = sender_of(session, row.client_id)
    referral = get_adapter(GP_ADAPTER).parse(row.resource).model_copy(
        update={"team_id": row.team_id})
    register_referral(session, sender=sender.organization, team_id=row.team_id,
                      person_id=row.person_id, referral_id=row.id, client_id=sender.client_id)
    outcome: dict[str, Any] = {}
    if referral.consent_index is not None:
        try:
            with session.begin_nested():
                _record_consent(session, sender, register, referral, row.person_id,
                                _birth_date(session, row.person_id))
            outcome["consent"] = "recorded"
        except GatewayError as error:
            outcome["consent"] = f"not recorded: {error.message}"
    return {"released": release_reviewed(session, register, "ServiceRequest", row.id), **outcome}


def _birth_date(session: Session, person_id: str) -> date | None:
    person = session.get(Person, person_id)
    return person.birth_date if person else None


def _categories(register: Register, activity_id: str) -> frozenset[str]:
    activity = register.activity(activity_id)
    return activity.data_categories if activity else frozenset()


TEAM_DECLINED = frozenset({"rejected", "cancelled"})  # the team's involvement ends
MUTABLE_TASK_ELEMENTS = frozenset({"status", "statusReason", "businessStatus", "note", "output"})
SERVER_MANAGED_ELEMENTS = frozenset({"id", "meta", "lastModified", "text"})


def update_task(session: Session, caller: Caller, register: Register, row: TaskRow,
                submitted: dict[str, Any]) -> TaskRow:
    """Apply a team's new Task state: only status-related elements may change."""
    if caller.team_id != row.team_id:
        raise Forbidden("only the receiving team can change the status of this referral")
    current = render_task(row)
    for element in sorted((set(current) | set(submitted)) - MUTABLE_TASK_ELEMENTS
                          - SERVER_MANAGED_ELEMENTS):
        if submitted.get(element) != current.get(element):
            raise Unprocessable("this element is managed by the gateway and cannot be changed",
                                expression=f"Task.{element}")
    new_status = submitted.get("status")
    if new_status not in TASK_TRANSITIONS:
        raise Unprocessable(f"status must be one of: {', '.join(sorted(TASK_TRANSITIONS))}",
                            expression="Task.status")
    if not can_transition(row.status, new_status):
        allowed = ", ".join(sorted(TASK_TRANSITIONS[row.status])) or "none (final state)"
        raise Conflict(f"cannot move a referral from {row.status} to {new_status}; "
                       f"allowed next: {allowed}", expression="Task.status")
    if new_status in TASK_STATUSES_NEEDING_REASON and not submitted.get("statusReason"):
        raise Unprocessable(f"say why the referral is {new_status} (statusReason)",
                            expression="Task.statusReason")
    details = {k: submitted[k] for k in sorted(MUTABLE_TASK_ELEMENTS - {"status"})
               if k in submitted}
    if new_status == row.status and details == row.details:
        return row  # nothing changed: no new version, no notification
    previous = row.status
    sr = session.get(ServiceRequestRow, row.service_request_id)
    assert sr is not None
    if new_status in TEAM_DECLINED:
        end_referral(session, row.team_id, sr.person_id, sr.id)
    keep(session, current)  # the version this one replaces, for vread and _history
    row.status, row.details = new_status, details
    row.version_id += 1
    row.updated_at = utcnow()
    session.flush()
    audit.record(session, kind="write", action="task.status_changed",
                 activity_id=ACTIVITY_FEEDBACK, actor_id=caller.client_id,
                 sender=caller.team_id, recipient=row.client_id, person_id=sr.person_id,
                 categories=_categories(register, ACTIVITY_FEEDBACK),
                 details={"resource": f"Task/{row.id}", "status": new_status})
    disclose(session, register, ACTIVITY_FEEDBACK, sr.person_id,
             subscribers_for_task(session, row), task_status_event(new_status), render_task(row))
    log.info("task_status_changed", resource_id=row.id, previous_status=previous,
             task_status=new_status, client_id=caller.client_id)
    return row
