"""Only organisations involved with a resident may speak for them: record or read consent,
register their birth date or parents, ask a decision. A refusal looks the same whether the
gateway knows the person or not, so the check is no oracle, and it is logged in a transaction
of its own (the request's own rolls back)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.involvements import repository
from gateway.platform.db.models import Person
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Forbidden
from gateway.platform.logging import get_logger

log = get_logger()
NOT_INVOLVED = ("your organisation is not involved with this person: only an organisation "
                "that helps them (through a referral, or an involvement an administrator "
                "registered) may act for them")


class NotInvolved(Forbidden):
    """403, the same for an unknown person and for one the caller does not help. Carries
    what the processing log records of the refusal."""

    def __init__(self, caller: Caller, subject: str | None, action: str,
                 message: str = NOT_INVOLVED, reason: str = "not-involved") -> None:
        super().__init__(message)
        self.entry: dict[str, Any] = {
            "kind": "denial", "action": action, "outcome": "denied",
            "actor_id": caller.client_id, "subject": subject,
            "details": {"organization": caller.organization, "reason": reason}}


def require_involved_with(session: Session, caller: Caller, person_id: str,
                          action: str) -> None:
    """As ``require_involved`` for a person known by id (a stored consent's, a parent's):
    the person is loaded only to name them in a refusal's log entry."""
    if not repository.is_involved(session, caller.organization, person_id, utcnow()):
        require_involved(session, caller, session.get(Person, person_id), None, action)


def require_involved(session: Session, caller: Caller, person: Person | None,
                     subject: str | None, action: str) -> Person:
    """The person, if the caller's organisation is involved with them now; else NotInvolved.
    ``subject`` (``bsn:...``) names whom the caller asked about, for the log. An unknown
    person costs the same involvement query as a known one (an id nobody has), so the
    answer's timing does not tell whether the gateway knows the BSN either."""
    involved = repository.is_involved(session, caller.organization,
                                      person.id if person else "", utcnow())
    if person is None or not involved:
        raise refusal(caller, person, subject, action)
    return person


def refusal(caller: Caller, person: Person | None, subject: str | None,
            action: str) -> NotInvolved:
    """The refusal of a caller not involved with ``person`` (None: unknown), logged."""
    log.warning("access_refused", client_id=caller.client_id, reason="not_involved")
    return NotInvolved(caller, subject or (audit.identifier_of(person) if person else None),
                       action)
