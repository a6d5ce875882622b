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
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from consent import Recipient, Register
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.consents.decisions import decide_for, register_verdict
from gateway.identity.repository import person_by_bsn
from gateway.involvements import repository
from gateway.involvements.access import NotInvolved, refusal
from gateway.involvements.repository import HelperRow
from gateway.involvements.service import (
    SENSITIVITY_CARE,
    SENSITIVITY_NONE,
    SENSITIVITY_VEILIG_THUIS,
)
from gateway.platform.db.models import Person
from gateway.platform.db.types import utcnow

ACTIVITY = "who-else-helps"
SENSITIVE_ACTIVITY = "who-else-helps-sensitive"
ACTION = "who-else-helps"
ROLE_VEILIG_THUIS = "veilig-thuis"
NOT_A_RECIPIENT = ("your organisation's role is not one the who-else-helps activity answers "
                   "(see /processing-activities)")


class Helper(NamedTuple):
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
    own = caller.organization
    current = [r for r in rows if r[2] is None or r[2] > now]
    if own not in {r[0] for r in current}:
        return None
    recipient = _recipient(caller.team_id or caller.client_id, caller.role)
    if _verdict(session, register, ACTIVITY, person_id, recipient) != "permit":
        raise NotInvolved(caller, None, ACTION, NOT_A_RECIPIENT, "not-a-recipient")
    if rows[0][4]:
        audit.remember_bsn(session, person_id, rows[0][4])
    shown = _shown(session, register, caller, recipient, person_id,
                   rows if ended else current)
    names = repository.organization_names(session, {r[0] for r in shown})
    helpers = tuple(dict.fromkeys(
        Helper(organization, names[organization], start, end)
        for organization, start, end, _, _, _ in shown))
    audit.record(session, kind="disclosure", action=ACTION, activity_id=ACTIVITY,
                 actor_id=caller.client_id, recipient=recipient.organization,
                 recipient_role=recipient.role, person_id=person_id,
                 categories=_categories(shown),
                 details={"organizations": len(names), "ended": ended})
    return helpers


_RECIPIENTS: dict[tuple[str, str], Recipient] = {}


def _recipient(organization: str, role: str) -> Recipient:
    """The caller as a recipient (immutable; the few callers' made once)."""
    key = (organization, role)
    recipient = _RECIPIENTS.get(key)
    if recipient is None:
        if len(_RECIPIENTS) > 4096:
            _RECIPIENTS.clear()
        recipient = _RECIPIENTS[key] = Recipient(organization, role)
    return recipient


def _verdict(session: Session, register: Register, activity_id: str, person_id: str,
             recipient: Recipient) -> str:
    """The consent engine's verdict for the recipient: the register's own where the activity
    needs no consent (decided once per register and role), else the person's decision."""
    verdict = register_verdict(register, activity_id, recipient.role)
    if verdict is None:
        verdict = decide_for(session, register, activity_id, person_id,
                             (recipient,)).recipients[0].verdict
    return verdict


def _shown(session: Session, register: Register, caller: Caller, recipient: Recipient,
           person_id: str, rows: Sequence[HelperRow]) -> list[HelperRow]:
    """The rows the caller may see (rule 4); consent is asked once, and only if a row needs it."""
    own = caller.organization
    if all(r[3] == SENSITIVITY_NONE or r[0] == own for r in rows):
        return list(rows)
    consented: bool | None = None
    shown = []
    for row in rows:
        organization, _, _, sensitivity, _, _ = row
        if sensitivity == SENSITIVITY_NONE or organization == own:
            pass
        elif sensitivity == SENSITIVITY_VEILIG_THUIS:
            if caller.role != ROLE_VEILIG_THUIS:
                continue
        else:
            if consented is None:
                consented = _verdict(session, register, SENSITIVE_ACTIVITY, person_id,
                                     recipient) == "permit"
            if not consented:
                continue
        shown.append(row)
    return shown


_INVOLVEMENT = frozenset({"involvement"})
_CARE_INVOLVEMENT = frozenset({"involvement", "care-involvement"})


def _categories(rows: Sequence[HelperRow]) -> frozenset[str]:
    sensitive = any(r[3] in (SENSITIVITY_VEILIG_THUIS, SENSITIVITY_CARE) for r in rows)
    return _CARE_INVOLVEMENT if sensitive else _INVOLVEMENT
