"""Every outbound message passes here: the consent engine decides per recipient, a denied
recipient's message is withheld, a permitted one carries only the permitted elements.
A withheld referral is not lost: consent recorded later releases it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import Register, minimise
from gateway.consents.decisions import decide_for, recipient_json
from gateway.db.models import OutboxMessage, ServiceRequestRow
from gateway.db.types import utcnow
from gateway.logging import get_logger
from gateway.outbox.enqueue import Delivery, enqueue
from gateway.outbox.repository import make_due
from gateway.referrals.render import render_service_request
from gateway.subscriptions.repository import Subscriber, active_subscriber

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


def release_withheld(session: Session, register: Register, person_id: str,
                     activity_id: str) -> int:
    """Consent that arrives after a referral: each message it withheld is decided again, as
    of now, and sent (minimised) where the new decision permits. Returns how many."""
    released = 0
    withheld = session.scalars(select(OutboxMessage).where(
        OutboxMessage.ordering_key == person_id, OutboxMessage.status == "withheld",
        OutboxMessage.resource_type == "ServiceRequest"))
    for message in withheld:
        subscriber = active_subscriber(session, message.subscription_id)
        if (message.decision or {}).get("activity") != activity_id or subscriber is None:
            continue
        decision = decide_for(session, register, activity_id, person_id, (subscriber.recipient,))
        verdict = decision.recipients[0]
        referral = session.get(ServiceRequestRow, message.resource_id)
        if verdict.verdict != "permit" or referral is None:
            continue
        message.payload = minimise(render_service_request(referral), verdict.fields)
        message.decision = {"activity": activity_id, "register_version":
                            decision.register_version, **recipient_json(verdict)}
        make_due(message, utcnow())
        released += 1
        log.info("delivery_released", activity_id=activity_id, outbox_id=message.id,
                 subscription_id=message.subscription_id)
    return released
