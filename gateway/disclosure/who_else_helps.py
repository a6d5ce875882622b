"""Who else helps: which organisations are involved with a resident, not what they do, so a
worker stops phoning around. Modelled after the statutory Verwijsindex (Jeugdwet art 7.1.1),
which answers "who else is involved" to the organisations that are themselves involved.

The rules, in order:

1. Only a caller whose organisation is involved with the person now (with any person of the
   merge set) gets an answer; anyone else gets the same 403 whether the gateway knows the
   person or not, from the same single read.
2. The register's activity ``who-else-helps`` decides (no consent: the existence of an
   involvement, on the public task); a role it does not disclose to is refused.
3. The answer covers the whole merge set: every involvement that has started and not ended
   (with ``ended``, the ended ones too), each as an organisation and a period.
4. A Veilig Thuis involvement is named only to a caller in the role ``veilig-thuis``; one in
   sensitive care only where the consent engine permits ``who-else-helps-sensitive`` to the
   caller. The caller's own organisation is always named. What is hidden is left out as if
   it did not exist: no count, no placeholder, no gap.
5. The answer is logged as a disclosure to the caller under ``who-else-helps`` (the request's
   transaction), with the categories it named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import Recipient, Register
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.consents.decisions import decide_for
from gateway.identity.repository import person_by_bsn
from gateway.involvements import repository
from gateway.involvements.access import NotInvolved, refusal
from gateway.involvements.service import (
    SENSITIVITY_CARE,
    SENSITIVITY_NONE,
    SENSITIVITY_VEILIG_THUIS,
)
from gateway.platform.db.models import Person
from gateway.platform.db.types import utcnow
from schemas import Subject

ACTIVITY = "who-else-helps"
SENSITIVE_ACTIVITY = "who-else-helps-sensitive"
ACTION = "who-else-helps"
ROLE_VEILIG_THUIS = "veilig-thuis"
NOT_A_RECIPIENT = ("your organisation's role is not one the who-else-helps activity answers "
                   "(see /processing-activities)")


@dataclass(frozen=True, slots=True)
class Helper:
    """One involvement as the answer names it: who, and since (until) when."""

    organization: str  # a team id, agb:/ura:{code} or client:{id}
    name: str
    start: datetime
    end: datetime | None


def who_else_helps(session: Session, register: Register, caller: Caller, person_id: str,
                   *, ended: bool = False) -> tuple[Helper, ...]:
    """The organisations involved with the person, as ``caller`` may know them (see the
    module's rules). Raises NotInvolved (403) for a caller not involved or not a recipient."""
    helpers = _answer(session, register, caller, person_id, ended)
    if helpers is None:
        raise refusal(caller, session.get(Person, person_id), None, ACTION)
    return helpers


def who_else_helps_resident(session: Session, register: Register, caller: Caller, bsn: str,
                            *, ended: bool = False) -> tuple[str, tuple[Helper, ...]]:
    """By BSN, for a system that holds no Patient id (a GP's): the person's id and the
    answer. A BSN the gateway does not know is the same NotInvolved as an uninvolved caller,
    so the answer tells nothing of who is known."""
    person = person_by_bsn(session, bsn)
    if person is None:
        raise refusal(caller, None, audit.subject_identifier(bsn), ACTION)
    return person.id, who_else_helps(session, register, caller, person.id, ended=ended)


def who_else_helps_members(session: Session, register: Register, caller: Caller,
                           member_ids: Sequence[str], *, ended: bool = False
                           ) -> dict[str, tuple[Helper, ...]]:
    """For a household: the answer for each member the caller's organisation helps now.
    A member it does not help is left out (helping the mother tells nothing about who helps
    the son); none at all is NotInvolved, as for an unknown household."""
    answers = {m: h for m in member_ids
               if (h := _answer(session, register, caller, m, ended)) is not None}
    if not answers:
        raise refusal(caller, None, None, ACTION)
    return answers


def _answer(session: Session, register: Register, caller: Caller, person_id: str,
            ended: bool) -> tuple[Helper, ...] | None:
    """The answer, logged; None when the caller's organisation is not involved now."""
    now = utcnow()
    rows = repository.helpers_of(session, person_id, now)
    current = [r for r in rows if r.ended_at is None or r.ended_at > now]
    if not any(r.organization == caller.organization for r in current):
        return None
    recipient = Recipient(caller.team_id or caller.client_id, caller.role)
    if decide_for(session, register, ACTIVITY, person_id, (recipient,)).recipients[0].verdict \
            != "permit":
        raise NotInvolved(caller, None, ACTION, NOT_A_RECIPIENT, "not-a-recipient")
    if rows[0].bsn:
        audit.remember_subject(session, person_id, Subject(bsn=rows[0].bsn))
    shown = _shown(session, register, caller, recipient, person_id,
                   rows if ended else current)
    names = repository.organization_names(session, {r.organization for r in shown})
    helpers = tuple(dict.fromkeys(
        Helper(r.organization, names.get(r.organization, r.organization), r.started_at,
               r.ended_at) for r in shown))
    audit.record(session, kind="disclosure", action=ACTION, activity_id=ACTIVITY,
                 actor_id=caller.client_id, recipient=recipient.organization,
                 recipient_role=recipient.role, person_id=person_id,
                 categories=_categories(shown),
                 details={"organizations": len({h.organization for h in helpers}),
                          "ended": ended})
    return helpers


def _shown(session: Session, register: Register, caller: Caller, recipient: Recipient,
           person_id: str, rows: Sequence[Any]) -> list[Any]:
    """The rows the caller may see (rule 4); consent is asked once, and only if a row needs it."""
    consented: bool | None = None
    shown = []
    for row in rows:
        if row.sensitivity == SENSITIVITY_VEILIG_THUIS and row.organization != caller.organization:
            if caller.role != ROLE_VEILIG_THUIS:
                continue
        elif row.sensitivity != SENSITIVITY_NONE and row.organization != caller.organization:
            if consented is None:
                consented = decide_for(session, register, SENSITIVE_ACTIVITY, person_id,
                                       (recipient,)).recipients[0].verdict == "permit"
            if not consented:
                continue
        shown.append(row)
    return shown


def _categories(rows: Sequence[Any]) -> frozenset[str]:
    sensitive = any(r.sensitivity in (SENSITIVITY_VEILIG_THUIS, SENSITIVITY_CARE)
                    for r in rows)
    return frozenset({"involvement", *(["care-involvement"] if sensitive else [])})
