"""How an organisation becomes involved with a resident: through a referral (sent or
received), later an adapter's case, or an administrator's registration by API; and how that
ends. What involvement allows is checked in ``gateway.involvements.access``. Never commits."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.identity.repository import known_person, person_by_reference
from gateway.involvements import repository
from gateway.platform.db.models import Involvement, OAuthClient, Organization, Person, new_id
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Conflict, NotFound, Unprocessable
from gateway.platform.logging import get_logger
from schemas import is_valid_bsn

SOURCE_REFERRAL_SENT = "referral-sent"
SOURCE_REFERRAL_RECEIVED = "referral-received"
SOURCE_REGISTRATION = "registration"
SOURCES = (SOURCE_REFERRAL_SENT, SOURCE_REFERRAL_RECEIVED, SOURCE_REGISTRATION)
# what an adapter's message opens besides its cases: these are not cases a limit applies to
REF_PROVISION, REF_SUPPORT_REQUEST = "provision/", "support-request/"
SENSITIVITY_NONE = "none"
SENSITIVITY_VEILIG_THUIS = "veilig-thuis"
SENSITIVITY_CARE = "sensitive-care"  # e.g. addiction or mental health care (AVG art 9 data)
SENSITIVITIES = (SENSITIVITY_NONE, SENSITIVITY_VEILIG_THUIS, SENSITIVITY_CARE)
# An organisation's client role that makes its involvements sensitive when the source says not
SENSITIVITY_OF_ROLE = {"veilig-thuis": SENSITIVITY_VEILIG_THUIS, "ggz": SENSITIVITY_CARE,
                       "verslavingszorg": SENSITIVITY_CARE}
log = get_logger()


def open_involvement(session: Session, *, organization: str, person_id: str, source: str,
                     source_ref: str, registered_by: str, sensitivity: str | None = None,
                     start: datetime | None = None,
                     director: tuple[str, str] | None = None,
                     domains: tuple[str, ...] = ()) -> Involvement:
    """A system registered a case or trajectory (``source_ref``) of ``organization`` for the
    person. Idempotent: while one from the same ``source_ref`` is open it is returned as it
    is (a message delivered twice); after a close, the case reopened starts a new one.
    ``sensitivity`` None: the organisation's role decides (Veilig Thuis, sensitive care).
    ``director``: the case director (worker id, organisation), kept as the source says;
    ``domains``: the life domains it works on."""
    if sensitivity is not None and sensitivity not in SENSITIVITIES:
        raise Unprocessable(f"sensitivity must be one of {', '.join(SENSITIVITIES)}",
                            expression="sensitivity")
    if (row := repository.open_from_source(session, organization, person_id,
                                           source_ref)) is not None:
        if sensitivity not in (None, SENSITIVITY_NONE) and row.sensitivity == SENSITIVITY_NONE:
            _mark_sensitive(session, row, sensitivity, registered_by)
        return row
    row = Involvement(organization=organization, person_id=person_id, source=source,
                      source_ref=source_ref, started_at=start or utcnow(),
                      registered_by=registered_by,
                      sensitivity=sensitivity or sensitivity_of(session, organization),
                      director_worker=director[0] if director else None,
                      director_organization=director[1] if director else None,
                      domains=" ".join(domains) or None)
    session.add(row)
    session.flush()
    audit.record(session, kind="write", action="involvement.opened", actor_id=registered_by,
                 person_id=person_id,
                 details={"involvement": row.id, "organization": organization,
                          "source": source, "sensitivity": row.sensitivity})
    log.info("involvement_opened", involvement_id=row.id, source=source)
    return row


def _mark_sensitive(session: Session, row: Involvement, sensitivity: str,
                    registered_by: str) -> None:
    """A case the source now says is sensitive stays so (never the other way: what was
    sensitive once is not revealed later)."""
    row.sensitivity = sensitivity
    audit.record(session, kind="write", action="involvement.marked-sensitive",
                 actor_id=registered_by, person_id=row.person_id,
                 details={"involvement": row.id, "sensitivity": sensitivity})


def close_involvement(session: Session, *, organization: str, person_id: str,
                      source_ref: str, at: datetime | None = None) -> int:
    """The system closed the case: its open involvements end (default now). Returns how
    many ended; 0 when none was open (a close delivered twice), which is logged nowhere."""
    ended = repository.end_from_source(session, organization, person_id, source_ref,
                                       at or utcnow())
    if ended:
        audit.record(session, kind="write", action="involvement.closed", person_id=person_id,
                     details={"organization": organization, "source_ref": source_ref})
        log.info("involvement_closed", count=ended)
    return ended


def register_referral(session: Session, *, sender: str, team_id: str, person_id: str,
                      referral_id: str, client_id: str) -> None:
    """A referral involves its sender and the receiving team with the resident."""
    now = utcnow()
    ref = f"ServiceRequest/{referral_id}"
    session.connection().execute(Involvement.__table__.insert(), [
        {"id": new_id(), "organization": organization, "person_id": person_id,
         "source": source, "source_ref": ref, "started_at": now, "registered_by": client_id,
         "created_at": now}
        for organization, source in ((sender, SOURCE_REFERRAL_SENT),
                                     (team_id, SOURCE_REFERRAL_RECEIVED))])


def end_referral(session: Session, team_id: str, person_id: str, referral_id: str) -> None:
    """A team that rejects or cancels a referral never took the case: its involvement from
    that referral ends (the referrer's stays: it still follows the Task)."""
    repository.end_from_source(session, team_id, person_id, f"ServiceRequest/{referral_id}",
                               utcnow())


def register_by_admin(session: Session, caller: Caller, organization: str, patient: str,
                      start: datetime | None, end: datetime | None) -> Involvement:
    """An administrator's registration; a BSN the gateway does not know yet adds the person."""
    if start is not None and end is not None and end <= start:
        raise Unprocessable("end must come after start", expression="end")
    if not _organization_exists(session, organization):
        raise Unprocessable("unknown organisation: a team the gateway knows, or a client "
                            "registered for that AGB or URA", expression="organization")
    row = Involvement(organization=organization, person_id=_person_for(session, patient).id,
                      source=SOURCE_REGISTRATION, started_at=start or utcnow(), ended_at=end,
                      registered_by=caller.client_id)
    session.add(row)
    session.flush()
    audit.record(session, kind="write", action="involvement.registered",
                 actor_id=caller.client_id, person_id=row.person_id,
                 details={"involvement": row.id, "organization": organization,
                          "source": row.source})
    log.info("involvement_registered", involvement_id=row.id, source=row.source)
    return row


def end_involvement(session: Session, caller: Caller, involvement_id: str,
                    end: datetime | None) -> Involvement:
    row = session.get(Involvement, involvement_id)
    if row is None:
        raise NotFound("no such involvement", expression="id")
    if row.ended_at is not None and row.ended_at <= utcnow():
        raise Conflict("this involvement has ended already", expression="id")
    row.ended_at = end or utcnow()
    if row.ended_at <= row.started_at:
        raise Unprocessable("end must come after the involvement's start", expression="end")
    audit.record(session, kind="write", action="involvement.ended", actor_id=caller.client_id,
                 person_id=row.person_id,
                 details={"involvement": row.id, "organization": row.organization})
    return row


def list_involvements(session: Session, patient: str | None) -> list[Involvement]:
    if patient is None:
        return repository.recent(session)
    return repository.recent(session, 500, known_person(session, patient).id)


def involvement_json(row: Involvement) -> dict[str, Any]:
    return {"id": row.id, "organization": row.organization,
            "patient": f"Patient/{row.person_id}", "source": row.source,
            "source_ref": row.source_ref, "start": row.started_at.isoformat(),
            "end": row.ended_at.isoformat() if row.ended_at else None,
            "registered_by": row.registered_by,
            **({"director": {"worker": row.director_worker,
                             "organization": row.director_organization}}
               if row.director_worker else {})}


def _organization_exists(session: Session, organization: str) -> bool:
    if organization.startswith("client:"):
        return session.get(OAuthClient, organization.removeprefix("client:")) is not None
    if organization.startswith(("agb:", "ura:")):
        return session.scalar(select(OAuthClient.id).where(
            OAuthClient.organization == organization).limit(1)) is not None
    return session.get(Organization, organization) is not None


def sensitivity_of(session: Session, organization: str) -> str:
    """The sensitivity the organisation's role implies (any of its clients')."""
    roles = repository.roles_of(session, organization)
    return next((SENSITIVITY_OF_ROLE[r] for r in sorted(roles) if r in SENSITIVITY_OF_ROLE),
                SENSITIVITY_NONE)


def _person_for(session: Session, patient: str) -> Person:
    """The person, added when a valid BSN is not known yet."""
    if (person := person_by_reference(session, patient)) is None and is_valid_bsn(patient):
        person = Person(bsn=patient)
        session.add(person)
        session.flush()
    return person or known_person(session, patient)


def due_for_review(session: Session, caller: Caller, system: str, months: int,
                   today: date) -> list[dict[str, str]]:
    """The cases ``system`` opened for the caller's organisation that are still open after
    ``months`` (oldest first): ids and dates only, for the unit's team leader to review."""
    organization = caller.organization or f"client:{caller.client_id}"
    rows = repository.open_cases(session, organization, system,
                                 started_before=_months_before(today, months),
                                 not_cases=(REF_PROVISION, REF_SUPPORT_REQUEST))
    audit.record(session, kind="read", action="involvement.reviews-due",
                 actor_id=caller.client_id, details={"system": system, "count": len(rows)})
    return [{"case": row.source_ref or "", "person": f"Patient/{row.person_id}",
             "start": row.started_at.date().isoformat(),
             "reviewDue": months_after(row.started_at.date(), months).isoformat()}
            for row in rows]


def months_after(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), or that month's last (31 August + 6:
    28 or 29 February)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _months_before(day: date, months: int) -> datetime:
    """The latest start that is due on ``day``: ``months`` before it, at that day's end."""
    return datetime.combine(months_after(day, -months), datetime.max.time(), tzinfo=UTC)
