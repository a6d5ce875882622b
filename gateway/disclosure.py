"""Every outbound message passes here: the consent engine decides per recipient, a denied
recipient's message is withheld, a permitted one carries only the permitted elements."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from consent import Register, minimise
from gateway.consents.decisions import decide_for, recipient_json
from gateway.logging import get_logger
from gateway.outbox.enqueue import Delivery, enqueue
from gateway.subscriptions.repository import Subscriber

log = get_logger()


def disclose(session: Session, register: Register, activity_id: str, person_id: str,
             subscribers: list[Subscriber], event_type: str, resource: dict[str, Any]) -> None:
    """Enqueue ``resource`` for each subscriber as the decision for ``activity_id`` allows."""
    if not subscribers:
        return
    recipients = tuple(dict.fromkeys(s.recipient for s in subscribers))
    decision = decide_for(session, register, activity_id, person_id, recipients)
    deliveries = []
    for subscriber in subscribers:
        verdict = decision.for_recipient(subscriber.recipient)
        deliveries.append(Delivery(
            subscriber.subscription_id,
            minimise(resource, verdict.fields) if verdict.verdict == "permit" else None,
            {"activity": decision.activity_id, "register_version": decision.register_version,
             **recipient_json(verdict)}))
        if verdict.verdict == "deny":
            log.info("delivery_withheld", activity_id=activity_id, event_type=event_type,
                     subscription_id=subscriber.subscription_id,
                     recipient=subscriber.recipient.organization)
    enqueue(session, deliveries, event_type, person_id, resource["resourceType"], resource["id"])
