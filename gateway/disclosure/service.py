"""Every outbound message passes here: the consent engine decides per recipient, a denied
recipient's message is withheld, a permitted one carries only the permitted elements.
A withheld referral or trajectory is not lost: consent recorded later releases it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import Decision, Recipient, RecipientDecision, Register, minimise
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.consents.decisions import decide_for, recipient_json
from gateway.fhir.render import render_episode_of_care, render_service_request, render_task
from gateway.fhir.subset import subset_view
from gateway.households.repository import organizations_helping_household
from gateway.identity.merges import merge_set
from gateway.identity.repository import under_review
from gateway.outbox.enqueue import Delivery, enqueue
from gateway.outbox.feed import release_to_feed
from gateway.outbox.repository import make_due
from gateway.outbox.subscribers import Subscriber, active_subscriber
from gateway.persons import render_patient
from gateway.platform.db.models import (
    Involvement,
    OutboxMessage,
    Person,
    ServiceRequestRow,
    TaskRow,
)
from gateway.platform.db.types import utcnow
from gateway.platform.logging import get_logger
from schemas import ACTIVITY_FEEDBACK, ACTIVITY_REFERRAL

log = get_logger()
REASON_IDENTITY_CONFLICT = "identity-conflict"
RELEASABLE = ("ServiceRequest", "EpisodeOfCare")  # what consent given later lets go


def disclose(session: Session, register: Register, activity_id: str, person_id: str,
             subscribers: list[Subscriber], event_type: str, resource: dict[str, Any],
             withhold: str | None = None, sender: str | None = None,
             whole: frozenset[str] | None = None) -> None:
    """Decide ``resource`` for each subscriber (:func:`decide_deliveries`) and enqueue it."""
    enqueue(session, decide_deliveries(session, register, activity_id, person_id, subscribers,
                                       event_type, resource, withhold, sender, whole),
            event_type, person_id, resource["resourceType"], resource["id"])


def decide_deliveries(session: Session, register: Register, activity_id: str, person_id: str,
                      subscribers: list[Subscriber], event_type: str, resource: dict[str, Any],
                      withhold: str | None = None, sender: str | None = None,
                      whole: frozenset[str] | None = None) -> list[Delivery]:
    """What each subscriber gets of ``resource`` as the decision for ``activity_id`` allows,
    each decision logged. ``withhold`` (a reason such as ``identity-conflict``) withholds it
    from everyone until a person has looked, whatever consent says. ``sender``: a referral's
    sending client, whose own referral-borne consents alone count (``records_for``).
    ``whole``: the categories the resource is; it goes whole, when every one is permitted,
    or not at all (a trajectory's type is its life domains: narrowed, it would tell less
    than the truth, or too much)."""
    if not subscribers:
        return []
    recipients = tuple(dict.fromkeys(s.recipient for s in subscribers))
    decision = decide_for(session, register, activity_id, person_id, recipients, sender=sender,
                          categories=whole)
    deliveries = []
    for subscriber in subscribers:
        verdict = decision.for_recipient(subscriber.recipient)
        permitted = _permits(verdict, whole) and withhold is None
        deliveries.append(Delivery(
            subscriber.subscription_id, _minimised(resource, verdict.fields) if permitted else None,
            _kept(decision, verdict, withhold, whole), subscriber.feed_client))
        _record(session, verdict, activity_id, person_id,
                "permitted" if permitted else "withheld", event_type, resource, withhold,
                whole)
        if not permitted:
            log.info("delivery_withheld", activity_id=activity_id, event_type=event_type,
                     subscription_id=subscriber.subscription_id, reason=withhold or "consent",
                     recipient=subscriber.recipient.organization)
    return deliveries


def _permits(verdict: RecipientDecision, whole: frozenset[str] | None) -> bool:
    """Permitted: something, or with ``whole`` every one of those categories."""
    return verdict.verdict == "permit" and (whole is None or verdict.permitted == whole)


def _minimised(resource: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """Only the permitted elements, as a resource a FHIR client can still parse."""
    return subset_view(resource, minimise(resource, fields))


def _kept(decision: Decision, verdict: RecipientDecision, withhold: str | None = None,
          whole: frozenset[str] | None = None) -> dict[str, Any]:
    """The decision as the outbox row keeps it, for the processing log and ``outbox list``
    (and ``whole``, so the send-time decision asks the same)."""
    return {"activity": decision.activity_id, "register_version": decision.register_version,
            **recipient_json(verdict), **({"reason": withhold} if withhold else {}),
            **({"whole": sorted(whole)} if whole is not None else {})}


def _record(session: Session, verdict: RecipientDecision, activity_id: str, person_id: str,
            action: str, event: str, resource: dict[str, Any],
            withhold: str | None = None, whole: frozenset[str] | None = None) -> None:
    """A disclosure, or its denial, in the processing log: who, what categories, and why."""
    permitted = _permits(verdict, whole) and withhold is None
    audit.record(session, kind="disclosure" if permitted else "denial",
                 action=f"delivery.{action}", outcome="ok" if permitted else "denied",
                 activity_id=activity_id, actor_type="system",
                 recipient=verdict.recipient.organization,
                 recipient_role=verdict.recipient.role, person_id=person_id,
                 categories=verdict.permitted if permitted else frozenset(),
                 details={"resource": f"{resource.get('resourceType')}/{resource.get('id')}",
                          "event": event, "rules": list(verdict.rules),
                          "records": list(verdict.records),
                          **({"reason": withhold} if withhold else {})})


def release_withheld(session: Session, register: Register, person_id: str, activity_id: str,
                     sender: str | None = None) -> int:
    """Consent that arrives after the fact: each referral or trajectory message it withheld
    (about any person the resident is: the merge set) is decided again, as of now, and sent
    (minimised) where the new decision permits; a trajectory as it stands now, once per
    subscriber (its latest message). ``sender`` limits it to referrals that client sent (a
    GP's consent speaks for its own referrals only).
    A message held for an identity conflict waits for its review. Returns how many."""
    query = select(OutboxMessage).where(
        OutboxMessage.ordering_key.in_(merge_set(person_id)), OutboxMessage.status == "withheld",
        OutboxMessage.resource_type.in_(RELEASABLE)).order_by(OutboxMessage.id.desc())
    if sender is not None:
        query = query.where(OutboxMessage.resource_id.in_(select(ServiceRequestRow.id).where(
            ServiceRequestRow.client_id == sender)))
    return _release_latest(session, register, (
        message for message in session.scalars(query)
        if (message.decision or {}).get("activity") == activity_id
        and "reason" not in (message.decision or {})))


def release_reviewed(session: Session, register: Register, resource_type: str,
                     resource_id: str) -> int:
    """An identity review found the person of a referral or trajectory right: its messages
    held for the conflict are decided again, as of now, like any withheld message (a
    trajectory as it stands now, once per subscriber)."""
    return _release_latest(session, register, session.scalars(select(OutboxMessage).where(
        OutboxMessage.resource_type == resource_type, OutboxMessage.resource_id == resource_id,
        OutboxMessage.status == "withheld").order_by(OutboxMessage.id.desc())))


def _release_latest(session: Session, register: Register,
                    newest_first: Iterable[OutboxMessage]) -> int:
    """Release the latest of these withheld messages per subscriber and resource (an older
    one would tell a change the latest tells as it stands now), oldest first; how many."""
    latest: dict[tuple[str, str], OutboxMessage] = {}
    for message in newest_first:
        latest.setdefault((message.subscription_id, message.resource_id), message)
    return sum(_release(session, register, message) for message in reversed(latest.values()))


def episode_of_care(session: Session, row: Involvement) -> dict[str, Any]:
    """The trajectory ``row`` is, as FHIR ``EpisodeOfCare`` (the person's BSN read)."""
    person = session.get(Person, row.person_id)
    return render_episode_of_care(row, person.bsn if person is not None else None)


def _current(session: Session, message: OutboxMessage,
             subscriber: Subscriber) -> tuple[dict[str, Any], str | None] | None:
    """The resource a withheld message is about, as it stands now, and the referral's sender
    (whose referral-borne consents count); None when it is gone, or, for a trajectory, when
    the subscriber's team no longer helps the household."""
    if message.resource_type == "EpisodeOfCare":
        trajectory = session.get(Involvement, message.resource_id)
        if trajectory is None or subscriber.recipient.organization not in \
                organizations_helping_household(session, trajectory.person_id, utcnow()):
            return None
        return episode_of_care(session, trajectory), None
    referral = session.get(ServiceRequestRow, message.resource_id)
    return (render_service_request(referral), referral.client_id) if referral else None


def _release(session: Session, register: Register, message: OutboxMessage) -> bool:
    """Decide a withheld message again; queue it, as the resource is now, if permitted."""
    subscriber = active_subscriber(session, message.subscription_id)
    activity_id = (message.decision or {}).get("activity")
    current = _current(session, message, subscriber) if subscriber is not None else None
    if activity_id is None or current is None:
        return False
    resource, sender = current
    asked = message.decision.get("whole")
    whole = frozenset(asked) if asked is not None else None
    decision = decide_for(session, register, activity_id, message.ordering_key,
                          (subscriber.recipient,), sender=sender, categories=whole)
    verdict = decision.recipients[0]
    message.decision = _kept(decision, verdict, whole=whole)
    if not _permits(verdict, whole):
        return False
    message.payload = _minimised(resource, verdict.fields)
    if subscriber.feed_client is not None:
        release_to_feed(session, message, subscriber.feed_client)
    else:
        make_due(message, utcnow())
    _record(session, verdict, activity_id, message.ordering_key, "released",
            message.event_type, message.payload, whole=whole)
    log.info("delivery_released", activity_id=activity_id, outbox_id=message.id,
             subscription_id=message.subscription_id)
    return True


def referral_as_seen_by(session: Session, register: Register, caller: Caller,
                        row: ServiceRequestRow,
                        version: dict[str, Any] | None = None) -> dict[str, Any]:
    """A referral as a reader may see it, and the read logged. The sender sees what it sent;
    a team's system sees what the consent decision permits it, and only the envelope (no
    personal data) when that is nothing, as it would have received by webhook. ``version``:
    an older version of ``row``'s resource (vread), decided the same way, as of now."""
    resource = version or render_service_request(row)
    if caller.client_id == row.client_id:
        audit.record(session, kind="read", action="referral.read", activity_id=ACTIVITY_REFERRAL,
                     actor_id=caller.client_id, person_id=row.person_id,
                     details={"resource": f"ServiceRequest/{row.id}", "as": "sender"})
        return resource
    return _read_as_recipient(session, register, caller, "referral.read", row.person_id,
                              resource, sender=row.client_id,
                              held=under_review(session, f"ServiceRequest/{row.id}"))


def patient_as_seen_by(session: Session, register: Register, caller: Caller,
                       person: Person) -> dict[str, Any]:
    """A resident as an organisation involved with them may see them, and the read logged:
    the elements the referral decision permits this reader (BSN and birth date are
    identification), else the id only, as a referral read would show. The involvement
    itself is the route's check."""
    return _read_as_recipient(session, register, caller, "person.read", person.id,
                              render_patient(person))


def _read_as_recipient(session: Session, register: Register, caller: Caller, action: str,
                       person_id: str, resource: dict[str, Any], sender: str | None = None,
                       held: bool = False) -> dict[str, Any]:
    """Decide the referral activity for the caller as recipient, log the read (or its
    denial), and minimise: the envelope only when nothing is permitted or ``held``."""
    recipient = Recipient(caller.team_id or caller.client_id, caller.role)
    verdict = decide_for(session, register, ACTIVITY_REFERRAL, person_id, (recipient,),
                         sender=sender).recipients[0]
    permitted = verdict.verdict == "permit" and not held
    audit.record(session, kind="read" if permitted else "denial", action=action,
                 outcome="ok" if permitted else "denied", activity_id=ACTIVITY_REFERRAL,
                 actor_id=caller.client_id, recipient=recipient.organization,
                 recipient_role=recipient.role, person_id=person_id,
                 categories=verdict.permitted if permitted else frozenset(),
                 details={"resource": f"{resource['resourceType']}/{resource['id']}",
                          "rules": list(verdict.rules),
                          **({"reason": REASON_IDENTITY_CONFLICT} if held else {})})
    return _minimised(resource, verdict.fields if permitted else register.envelope)


def task_as_seen_by(register: Register, caller: Caller, row: TaskRow,
                    version: dict[str, Any] | None = None) -> dict[str, Any]:
    """The receiving team sees its whole Task; the referrer only what feedback carries (the
    status, not the team's notes), as in its webhooks. ``version``: an older version of
    ``row``'s Task (vread), shown the same way."""
    resource = version or render_task(row)
    if caller.team_id == row.team_id:
        return resource
    activity = register.activity(ACTIVITY_FEEDBACK)
    assert activity is not None  # checked at start-up
    return _minimised(resource, register.fields_for(activity.data_categories))


def recheck(session: Session, message: OutboxMessage) -> dict[str, Any] | None:
    """Decide again at delivery: consent may have been revoked since the message was queued.
    Returns the payload narrowed to what is permitted now, or None after withholding it.
    The disclosure was logged when the message was queued; only a withholding adds an entry."""
    subscriber = active_subscriber(session, message.subscription_id)
    activity_id = (message.decision or {}).get("activity")
    if subscriber is None or activity_id is None:
        return message.payload  # an unsubscribed message is not sent anyway
    register = session.info[audit.CONTEXT].register
    referral = session.get(ServiceRequestRow, message.resource_id) \
        if message.resource_type == "ServiceRequest" else None
    asked = message.decision.get("whole")
    whole = frozenset(asked) if asked is not None else None
    decision = decide_for(session, register, activity_id, message.ordering_key,
                          (subscriber.recipient,),
                          sender=referral.client_id if referral else None, categories=whole)
    verdict = decision.recipients[0]
    message.decision = _kept(decision, verdict, whole=whole)
    if not _permits(verdict, whole):  # logged once more, as a denial: queued, it was permitted
        _record(session, verdict, activity_id, message.ordering_key, "withheld_at_send",
                message.event_type, message.payload, whole=whole)
        message.status, message.payload, message.lease_until = "withheld", {}, None
        log.info("delivery_withheld", activity_id=activity_id, outbox_id=message.id,
                 subscription_id=message.subscription_id)
        return None
    message.payload = _minimised(message.payload, verdict.fields)
    return message.payload
