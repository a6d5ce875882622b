"""The plan pushed to the other systems after every accepted change (docs/household-plan.md).

- *Who hears*: the team systems subscribed to ``CarePlan`` whose team helps someone in the
  household now; never the system that made the change.
- *What*: the plan as that system may see it, decided per member and life domain as a read
  is (``gateway.plans.visibility``), each disclosure and withholding logged; its adapter
  renders it in the system's own format (youth dossier XML, adult records JSON, FHIR).
- *Again at send*: right before it leaves, each item is decided again, so a consent revoked
  meanwhile takes the member's goals out of the next push.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from consent import Register
from gateway.audit import log as audit
from gateway.households.repository import organizations_helping_members
from gateway.outbox.enqueue import Delivery, enqueue
from gateway.outbox.subscribers import active_subscriber, subscribers_of_teams
from gateway.plans import fhir
from gateway.plans.present import Household, household_of, stored, view_of
from gateway.plans.repository import base_of, remember_base
from gateway.plans.visibility import Reader, log_shown, view
from gateway.platform.db.models import CarePlanRow, OutboxMessage
from gateway.platform.db.types import utcnow
from schemas.events import ACTIVITY_PLAN

EVENT_PLAN_CHANGED = "nl.wijkgateway.plan.changed"


def share_plan(session: Session, register: Register, row: CarePlanRow, sender: str) -> None:
    """Queue the plan, as each subscribed system may see it, for every system that helps
    the household but ``sender`` (the client whose change this is)."""
    now = utcnow()
    household = household_of(session, row.household_id, now.date())
    if not household.current:
        return
    teams = organizations_helping_members(session, row.household_id, now)
    subscribers = subscribers_of_teams(session, "CarePlan", sender, teams)
    if not subscribers:
        return
    plan = stored(row.resource)
    deliveries = []
    for subscriber in subscribers:
        reader = Reader(subscriber.client_id, subscriber.recipient)
        seen, decider = view(session, register, reader, plan, row.sources, household.current)
        log_shown(session, decider, row.id, row.version_id, household.current,
                  kind="disclosure", action="delivery.permitted", actor=("system", ""))
        remember_base(session, row.id, subscriber.client_id, row.version_id, seen.shown)
        deliveries.append(Delivery(
            subscriber.subscription_id,
            view_of(row, plan, seen, row.resource["meta"], household, now.date()),
            _decision(register, reader, sorted(seen.shown)), subscriber.feed_client))
    enqueue(session, deliveries, EVENT_PLAN_CHANGED, row.household_id, "CarePlan", row.id)


def _decision(register: Register, reader: Reader, shown: list[str]) -> dict[str, Any]:
    """What the outbox row keeps of the decision: the activity and the items it let through."""
    return {"activity": ACTIVITY_PLAN, "register_version": register.version,
            "recipient": reader.recipient.organization, "role": reader.recipient.role,
            "shown": shown}


def recheck_plan(session: Session, message: OutboxMessage) -> dict[str, Any]:
    """The queued plan with the items no longer permitted taken out (a consent revoked since
    it was queued), each withholding logged; the rest goes as it was decided."""
    subscriber = active_subscriber(session, message.subscription_id)
    row = session.get(CarePlanRow, message.resource_id)
    if subscriber is None or row is None:
        return message.payload  # an unsubscribed message is not sent anyway
    register = session.info[audit.CONTEXT].register
    household: Household = household_of(session, row.household_id, utcnow().date())
    reader = Reader(subscriber.client_id, subscriber.recipient)
    seen, decider = view(session, register, reader, stored(message.payload), row.sources,
                         household.current)
    if not seen.hidden:
        return message.payload
    for person in household.current:
        if decider.denied[person]:
            audit.record(session, kind="denial", action="delivery.withheld_at_send",
                         outcome="denied", activity_id=ACTIVITY_PLAN, actor_type="system",
                         recipient=reader.recipient.organization,
                         recipient_role=reader.recipient.role, person_id=person,
                         details={"resource": f"CarePlan/{row.id}",
                                  "withheld": sorted(decider.denied[person])})
    message.payload = fhir.without(message.payload, seen.hidden)
    tracked = base_of(session, row.id, subscriber.client_id)
    if tracked is not None and str(tracked.version_id) == message.payload["meta"]["versionId"]:
        remember_base(session, row.id, subscriber.client_id, tracked.version_id, seen.shown)
    message.decision = {**(message.decision or {}), "shown": sorted(seen.shown)}
    return message.payload
