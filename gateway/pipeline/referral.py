"""A GP referral through the stages (transport: FHIR REST, ``POST /fhir/ServiceRequest``):

    receive   Idempotency-Key checked; a key seen before replays its first answer
    decode    JSON, depth limit
    parse     the gp-referral adapter -> canonical Referral; If-None-Exist: an existing
              referral answers
    identify  the receiving team and the resident
    persist   referral + Task, the consent it carries, the processing log
    decide    the consent decision per subscriber of the team (reads the consent just stored)
    enqueue   the outbox rows, in the same transaction
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from sqlalchemy.orm import Session

from consent import Register
from gateway.auth.bearer import Caller
from gateway.disclosure.service import decide_deliveries
from gateway.fhir.render import render_service_request
from gateway.outbox.enqueue import enqueue
from gateway.pipeline import idempotency
from gateway.pipeline.fhir_rest import TRANSPORT, parse_as
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
from gateway.platform.db.models import ServiceRequestRow
from gateway.platform.errors import BadRequest, NotFound, PreconditionFailed
from gateway.platform.fhir_json import decode_json_object, split_token
from gateway.platform.metrics import Metrics
from gateway.referrals import repository
from gateway.referrals.service import GP_ADAPTER, identify_referral, persist_referral
from schemas import ACTIVITY_REFERRAL, EVENT_REFERRAL_RECEIVED, Identifier, Referral


@dataclass(frozen=True)
class Accepted:
    row: ServiceRequestRow
    status_code: int  # 201 created; 200 when an earlier referral answers
    created_now: bool = False  # False for If-None-Exist matches and Idempotency-Key replays


def receive_referral(session: Session, caller: Caller, body: bytes, max_depth: int,
                     if_none_exist: str | None, idempotency_key: str | None,
                     register: Register, known_teams: set[str],
                     metrics: Metrics | None = None) -> Accepted:
    path = MessagePath(GP_ADAPTER, TRANSPORT, metrics)
    with path.stage(RECEIVE):
        key = idempotency.checked_key(idempotency_key)
        digest = idempotency.body_digest(body)
        if key and (previous := idempotency.previous_answer(session, caller, key, digest)):
            accepted = _replay(session, caller, previous.resource_id, previous.status_code)
            path.done("replayed")
            return accepted
    with path.stage(DECODE):
        document = decode_json_object(body, max_depth)
    with path.stage(PARSE):
        referral: Referral = parse_as("ServiceRequest", document)
        match = _conditional_match(session, caller, if_none_exist)
    if match:
        accepted = Accepted(match, 200)
    else:
        accepted = Accepted(_create(session, caller, referral, register, known_teams, path),
                            201, created_now=True)
    if key:
        idempotency.remember(session, caller, key, digest, accepted.status_code,
                             "ServiceRequest", accepted.row.id)
    path.done("created" if accepted.created_now else "matched")
    return accepted


def _create(session: Session, caller: Caller, referral: Referral, register: Register,
            known_teams: set[str], path: MessagePath) -> ServiceRequestRow:
    with path.stage(IDENTIFY):
        identified = identify_referral(session, caller, referral, known_teams)
    with path.stage(PERSIST):
        stored = persist_referral(session, caller, register, identified)
    resource = render_service_request(stored.row)
    with path.stage(DECIDE):
        deliveries = decide_deliveries(session, register, ACTIVITY_REFERRAL,
                                       stored.row.person_id, identified.subscribers,
                                       EVENT_REFERRAL_RECEIVED, resource,
                                       withhold=stored.withhold, sender=caller.client_id)
    with path.stage(ENQUEUE):
        enqueue(session, deliveries, EVENT_REFERRAL_RECEIVED, stored.row.person_id,
                "ServiceRequest", stored.row.id)
    return stored.row


def _replay(session: Session, caller: Caller, resource_id: str, status_code: int) -> Accepted:
    row = repository.get_visible(session, ServiceRequestRow, resource_id, caller)
    if row is None:
        raise NotFound("the referral this Idempotency-Key created no longer exists")
    return Accepted(row, status_code)


def _conditional_match(session: Session, caller: Caller,
                       header: str | None) -> ServiceRequestRow | None:
    """``If-None-Exist: identifier=system|value`` -> the one existing referral, if any."""
    if header is None:
        return None
    params = parse_qsl(header, keep_blank_values=True)
    if len(params) != 1 or params[0][0] != "identifier" or "|" not in params[0][1]:
        raise BadRequest("If-None-Exist supports exactly 'identifier=system|value'",
                         expression="If-None-Exist")
    system, value = split_token(params[0][1])
    if not system or not value:
        raise BadRequest("If-None-Exist needs both system and value",
                         expression="If-None-Exist")
    found = repository.find_by_identifier(session, caller, Identifier(system=system, value=value))
    if len(found) > 1:
        raise PreconditionFailed("If-None-Exist matches more than one referral",
                                 expression="If-None-Exist")
    return found[0] if found else None
