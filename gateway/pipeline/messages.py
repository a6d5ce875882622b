"""An adapter message through the stages (transports: ``POST /adapters/{name}/messages``, the
CSV import; a Kafka topic later: a transport only calls :func:`receive_message`):

    receive   the body, as it came
    decode    JSON with a depth limit, or the adapter's own (XML: hardened, XSD-checked)
    parse     the system's adapter -> a canonical message (schemas.messages), or a batch of
              them; a message id this client sent before answers as it did then, and nothing
              changes (a batch's messages each by their own id too): compared by what the
              message says, however it came (gateway.pipeline.inbound_ids)
    identify  every person the message names: identity matching (BSN, else the system's own
              id; a probable match queues a review, never a merge)
    decide    what the message changes, for the organisation its client speaks for
    persist   the change (a person, a household, an involvement opened or closed), the
              message id with its answer, the processing log; a batch, message by message;
              what waits for review (a known BSN with another birth date: the conflict names
              the case, if the message is about one; a contested claim of authority) is
              listed in the answer's ``reviews``
    enqueue   a case or trajectory opened or closed is told to the other systems that help
              the household, as consent allows, and held while its person is in doubt
              (gateway.disclosure.trajectories); not in a first load, which registers what
              already is (who else helps shows it)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from adapters import Adapter, Decoder, InvalidMessage, Issue
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.disclosure.trajectories import share_trajectory, trajectory_ref
from gateway.households.service import register_household
from gateway.identity.matching import Identified, identify_all
from gateway.identity.service import queue_conflict
from gateway.involvements.repository import is_involved, latest_from_source
from gateway.involvements.service import (
    REF_PROVISION,
    REF_SUPPORT_REQUEST,
    close_involvement,
    open_involvement,
)
from gateway.persons import authority_claims, record_parental_authority
from gateway.pipeline import inbound_ids
from gateway.pipeline.stages import (
    DECIDE,
    DECODE,
    ENQUEUE,
    IDENTIFY,
    PARSE,
    PERSIST,
    RECEIVE,
    MessagePath,
)
from gateway.plans.from_systems import apply_change
from gateway.platform.db.models import IdentityReview, Involvement
from gateway.platform.db.types import utcnow
from gateway.platform.errors import GatewayError
from gateway.platform.fhir_json import decode_json_object
from gateway.platform.metrics import Metrics
from schemas import PersonClaim
from schemas.messages import (
    Batch,
    ChangePlan,
    CloseCase,
    InboundMessage,
    OpenCase,
    ProvisionRequest,
    RegisterHousehold,
    RegisterPerson,
    Signal,
    SupportRequest,
)

TRANSPORT_HTTP = "http"
TRANSPORT_FIRST_LOAD = "csv"  # ``wijkgateway import``: registers what already is, tells no one
APPLIED, REPLAYED = 201, 200
KIND_OF = {RegisterPerson: "register-person", RegisterHousehold: "register-household",
           OpenCase: "open-case", CloseCase: "close-case",
           ProvisionRequest: "provision-request", SupportRequest: "support-request",
           Signal: "signal", ChangePlan: "change-plan"}
BATCH = "batch"
ENDS_A_REQUEST = frozenset({"refused", "withdrawn"})


@dataclass(frozen=True)
class Answer:
    """The message's outcome, as the sender is told: 201 applied now, 200 a replay."""

    status_code: int
    outcome: dict[str, Any]


Effect = Callable[[], dict[str, Any]]  # applies the decided change; returns the outcome


def receive_message(session: Session, caller: Caller, adapter: Adapter, body: bytes,
                    max_depth: int, metrics: Metrics | None = None,
                    transport: str = TRANSPORT_HTTP) -> Answer:
    """Run one adapter message, or a batch of them, through the stages, in the caller's
    transaction: a batch goes in whole or not at all."""
    system = adapter.descriptor.name
    path = MessagePath(system, transport, metrics)
    with path.stage(RECEIVE):  # the body as it came (its size limited before); a replay is
        pass  # recognised by what the message says, once parsed
    with path.stage(DECODE):
        document = adapter.decode(body) if isinstance(adapter, Decoder) else \
            decode_json_object(body, max_depth)
    with path.stage(PARSE):
        sent = inbound_ids.Sent(adapter.parse(document), body)
        if (seen := inbound_ids.previous(session, caller, sent)) is not None:
            path.done("replayed")
            return Answer(REPLAYED, seen)
    parsed = sent.message
    if isinstance(parsed, Batch):
        outcome = {"message": parsed.message_id, "kind": BATCH, "messages": [
            _member(session, caller, system, member, path) for member in parsed.messages]}
        inbound_ids.remember(session, caller, system, BATCH, parsed.message_id, sent.digest,
                             APPLIED, outcome)
    else:
        outcome = _apply(session, caller, system, parsed, sent.digest, path)
    path.done("applied")
    return Answer(APPLIED, outcome)


def _member(session: Session, caller: Caller, system: str, message: InboundMessage,
            path: MessagePath) -> dict[str, Any]:
    """One message of a batch: by its own id, a replay when it came before (alone or in a
    bundle: compared by what it says); a refusal names the message."""
    sent = inbound_ids.Sent(message)
    try:
        if (seen := inbound_ids.previous(session, caller, sent)) is not None:
            return seen
        return _apply(session, caller, system, message, sent.digest, path)
    except GatewayError as error:
        error.issues = [Issue(issue.expression, f"message {message.message_id}: "
                              f"{issue.message}", issue.code) for issue in error.issues]
        raise


def _apply(session: Session, caller: Caller, system: str, message: InboundMessage,
           digest: str, path: MessagePath) -> dict[str, Any]:
    """Identify, decide and persist one message; its outcome, remembered under its id."""
    with _in_senders_terms(message):
        return _applied(session, caller, system, message, digest, path)


@contextmanager
def _in_senders_terms(message: InboundMessage) -> Iterator[None]:
    """A refusal names the element as the sender wrote it (the message's ``where``), not as
    the gateway's FHIR-shaped rules name it."""
    try:
        yield
    except (GatewayError, InvalidMessage) as error:
        locate = getattr(message, "where", None)
        where: Mapping[str, str] = locate() if locate else {}
        error.issues = [Issue(_place(issue.expression, where), issue.message, issue.code)
                        for issue in error.issues]
        raise


def _place(expression: str, where: Mapping[str, str]) -> str:
    """The sender's path of the longest part of ``where`` that ``expression`` starts with."""
    parts = [part for part in where if expression == part
             or expression.startswith((f"{part}.", f"{part}["))]
    return where[max(parts, key=len)] if parts else expression


def _applied(session: Session, caller: Caller, system: str, message: InboundMessage,
             digest: str, path: MessagePath) -> dict[str, Any]:
    source_ref = f"{system}/{message.message_id}"[:100]
    with path.stage(IDENTIFY):
        persons = identify_all(session, _claims(message), client_id=caller.client_id,
                               source_ref=source_ref)
    with path.stage(DECIDE):
        effect = _decide(session, caller, system, message, persons)
    with path.stage(PERSIST):
        applied = effect()
        case = _case(session, caller, message, persons)
        held = trajectory_ref(case.id) if case is not None else source_ref
        conflicts = [queue_conflict(session, person_id=p.person.id, fact="birth_date",
                                    known=p.known_birth_date.isoformat(),
                                    claimed=str(claim.birth_date), source_ref=held,
                                    client_id=caller.client_id)
                     for claim, p in persons.items() if p.known_birth_date]
        outcome = {"message": message.message_id, "kind": KIND_OF[type(message)], **applied}
        outcome["reviews"] = _reviews_told(session, caller, [*conflicts, *(
            session.get_one(IdentityReview, review) for review in [
                *applied.get("reviews", ()),
                *(p.review_id for p in persons.values() if p.review_id)])])
        inbound_ids.remember(session, caller, system, outcome["kind"], message.message_id,
                             digest, APPLIED, outcome)
        audit.record(session, kind="write", action="adapter.message", actor_id=caller.client_id,
                     sender=caller.client_id,
                     details={"system": system, "kind": outcome["kind"],
                              "persons": sorted(p.person.id for p in persons.values())})
    if case is not None and path.transport != TRANSPORT_FIRST_LOAD:
        with path.stage(ENQUEUE):  # the case as it stands now, to the others helping
            share_trajectory(session, session.info[audit.CONTEXT].register, case,
                             caller.client_id)
    return outcome


def _case(session: Session, caller: Caller, message: InboundMessage,
          persons: dict[PersonClaim, Identified]) -> Involvement | None:
    """The case a case message opened or closed, as it stands now (a conflict about its
    person's identity holds it: the review names it)."""
    if not isinstance(message, OpenCase | CloseCase):
        return None
    return latest_from_source(session, _organization(caller), persons[message.person].person.id,
                              message.case_ref)


def _reviews_told(session: Session, caller: Caller,
                  reviews: list[IdentityReview]) -> list[str]:
    """The reviews the message queued that its sender may hear of: those about persons the
    sender's organisation helps (the message's own case counts). Any other would tell a
    stranger what the gateway knows (this BSN with another birth date, a look-alike); it is
    queued for the identity reviewers all the same."""
    if not reviews:
        return []
    session.flush()  # an involvement the message opened
    organization, now = _organization(caller), utcnow()
    return sorted({f"IdentityReview/{review.id}" for review in reviews if all(
        is_involved(session, organization, person, now)
        for person in (review.person_id, review.candidate_id) if person)})


def _organization(caller: Caller) -> str:
    """The organisation the client speaks for, as involvements name it."""
    return caller.organization or f"client:{caller.client_id}"


def _claims(message: InboundMessage) -> list[PersonClaim]:
    if isinstance(message, RegisterHousehold):
        return [member.person for member in message.household.members]
    if isinstance(message, ChangePlan):
        return message.persons
    return [message.person]


def _decide(session: Session, caller: Caller, system: str, message: InboundMessage,
            persons: dict[PersonClaim, Identified]) -> Effect:
    """The change this message makes, for the organisation the client speaks for."""
    organization = _organization(caller)
    if isinstance(message, RegisterPerson):
        person = persons[message.person]
        # the same answer for a person the gateway knew and a new one: no oracle
        return lambda: {"person": f"Patient/{person.person.id}"}
    if isinstance(message, RegisterHousehold):
        return lambda: _household(session, caller, message, persons)
    if isinstance(message, ChangePlan):
        return lambda: _plan(session, caller, message, persons)
    person_id = persons[message.person].person.id
    if isinstance(message, Signal):  # who it is about is known now; nothing is shared yet
        return lambda: {"person": f"Patient/{person_id}", "signal": message.signal_ref}
    if isinstance(message, SupportRequest):  # the unit takes up the request: it helps
        return lambda: {"person": f"Patient/{person_id}", "involvement": open_involvement(
            session, organization=organization, person_id=person_id, source=system,
            source_ref=f"{REF_SUPPORT_REQUEST}{message.request_ref}",
            registered_by=caller.client_id, start=_at(message.received)).id}
    if isinstance(message, ProvisionRequest):
        return _provision_request(session, caller, system, organization, message, person_id)
    if isinstance(message, OpenCase):
        return lambda: {"person": f"Patient/{person_id}", "involvement": open_involvement(
            session, organization=organization, person_id=person_id, source=system,
            source_ref=message.case_ref, registered_by=caller.client_id,
            sensitivity=message.sensitivity, start=_at(message.start),
            director=(message.director.worker, message.director.organization)
            if message.director else None, domains=message.domains).id}
    return lambda: {"person": f"Patient/{person_id}", "closed": close_involvement(
        session, organization=organization, person_id=person_id,
        source_ref=message.case_ref, at=_at(message.end))}


def _household(session: Session, caller: Caller, message: RegisterHousehold,
               persons: dict[PersonClaim, Identified]) -> dict[str, Any]:
    """The household, then who holds parental authority over which child in it, as the
    system says (each checked as a RelatedPerson with parental authority would be; a claim
    of a system whose team has no say over the child waits for review, the rest stands:
    ``gateway.persons.authority_claims``, read before the household changes)."""
    claims = authority_claims(session, _organization(caller), [
        (persons[held.parent], persons[held.child]) for held in message.authority])
    household = register_household(session, caller, message.household, persons)
    authority = record_parental_authority(session, caller, household.id, claims)
    return {"household": f"Group/{household.id}",
            **({"authority": [f"RelatedPerson/{r}" for r in authority.named]}
               if authority.named else {}), "reviews": authority.reviews}


def _plan(session: Session, caller: Caller, message: ChangePlan,
          persons: dict[PersonClaim, Identified]) -> dict[str, Any]:
    """The system's plan for its household: drafted, or merged with the plan's current
    version (and told to the other systems, as every change is)."""
    row = apply_change(session, session.info[audit.CONTEXT].register, caller, message,
                       {claim: p.person.id for claim, p in persons.items()})
    return {"plan": f"CarePlan/{row.id}", "version": row.version_id}


def _provision_request(session: Session, caller: Caller, system: str, organization: str,
                       message: ProvisionRequest, person_id: str) -> Effect:
    """A request for a provision involves the requesting organisation with the person while
    it stands (requested, in progress, granted); refused or withdrawn, that involvement ends.
    Its answers travel back to the team with issue 16's requests; here, who is involved."""
    ref = f"{REF_PROVISION}{message.request_ref}"
    if message.status in ENDS_A_REQUEST:
        return lambda: {"person": f"Patient/{person_id}", "status": message.status,
                        "closed": close_involvement(session, organization=organization,
                                                    person_id=person_id, source_ref=ref,
                                                    at=_at(message.on))}
    return lambda: {"person": f"Patient/{person_id}", "status": message.status,
                    "involvement": open_involvement(
                        session, organization=organization, person_id=person_id,
                        source=system, source_ref=ref, registered_by=caller.client_id,
                        start=_at(message.on)).id}


def _at(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day else None
