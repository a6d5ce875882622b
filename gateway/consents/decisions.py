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
