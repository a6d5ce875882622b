"""The consent decision as the gateway asks it: the resident's records, birth date and
representatives read from the database, then the pure policy core decides. Used by
deliveries, ``POST /consent/decisions`` and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import (
    Decision,
    DecisionRequest,
    Override,
    Recipient,
    RecipientDecision,
    Register,
    decide,
)
from gateway.consents import repository
from gateway.platform.db.types import utcnow


def decide_for(session: Session, register: Register, activity_id: str, person_id: str,
               recipients: tuple[Recipient, ...], *, at: datetime | None = None,
               categories: frozenset[str] | None = None,
               override: Override | None = None, sender: str | None = None) -> Decision:
    """Reads the person's records and representatives only when the activity needs consent
    (and exists), of every person id the resident is (the merge set). ``sender``: the
    decision is about that client's referral (see ``records_for``)."""
    activity = register.activity(activity_id)
    reads = activity is not None and activity.requires_consent and override is None
    born, representatives = repository.who_decides(session, person_id) if reads else (None, ())
    request = DecisionRequest(
        activity_id=activity_id, person_id=person_id, birth_date=born, recipients=recipients,
        at=at or utcnow(), categories=categories, override=override,
        representatives=representatives)
    records = repository.records_for(session, person_id, activity_id, sender) if reads else []
    return decide(register, request, records)


# register -> {(activity, role): verdict}; a register reloaded is another object, so it starts
# afresh (the old one's verdicts go with it). Few registers live in one process.
_VERDICTS: dict[int, tuple[Register, dict[tuple[str, str], str]]] = {}
_REGISTERS_REMEMBERED = 8


def register_verdict(register: Register, activity_id: str, role: str) -> str | None:
    """The verdict for a recipient in ``role`` under an activity that needs no consent, for
    all its categories: the register alone decides it (purpose and role), the same for every
    person and moment, so it is decided once per register, activity and role (by the consent
    engine, as ``decide_for`` would). None when the activity needs consent (or does not
    exist): ask ``decide_for``."""
    remembered = _VERDICTS.get(id(register))
    if remembered is None or remembered[0] is not register:
        if len(_VERDICTS) >= _REGISTERS_REMEMBERED:
            _VERDICTS.clear()
        remembered = _VERDICTS[id(register)] = (register, {})
    verdicts = remembered[1]
    key = (activity_id, role)
    if key not in verdicts:
        activity = register.activity(activity_id)
        if activity is None or activity.requires_consent:
            return None
        request = DecisionRequest(
            activity_id=activity_id, person_id="", birth_date=None,
            recipients=(Recipient("", role),), at=utcnow())
        verdicts[key] = decide(register, request, []).recipients[0].verdict
    return verdicts[key]


def decision_json(decision: Decision) -> dict[str, Any]:
    """The decision as stored on outbox rows and answered by the API."""
    return {
        "activity": decision.activity_id,
        "register_version": decision.register_version,
        "decision": "permit" if any(d.verdict == "permit" for d in decision.recipients)
        else "deny",
        "needs_review": decision.needs_review,
        "recipients": [recipient_json(d) for d in decision.recipients],
    }


def recipient_json(decision: RecipientDecision) -> dict[str, Any]:
    return {
        "organization": decision.recipient.organization, "role": decision.recipient.role,
        "decision": decision.verdict, "permitted_categories": sorted(decision.permitted),
        "denied_categories": sorted(decision.denied), "fields": sorted(decision.fields),
        "rules": list(decision.rules), "records": list(decision.records),
        "explanation": decision.explanation,
    }
