"""The path of an inbound referral, as named stages:

    receive (auth, media type, body limit: route + middleware)
      -> replay?   (Idempotency-Key seen before: same answer)
      -> decode    (JSON, depth limit)
      -> parse     (adapter -> canonical Referral)
      -> match?    (If-None-Exist: an existing referral answers)
      -> identify, route, persist, record consent, decide, enqueue
                   (one transaction, in the referral service)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from sqlalchemy.orm import Session

from adapters import get_adapter
from consent import Register
from gateway import idempotency
from gateway.auth.bearer import Caller
from gateway.db.models import ServiceRequestRow
from gateway.errors import BadRequest, NotFound, PreconditionFailed
from gateway.fhir_json import decode_json_object, split_token
from gateway.referrals import repository
from gateway.referrals.service import GP_ADAPTER, create_referral
from schemas import Identifier


@dataclass(frozen=True)
class Accepted:
    row: ServiceRequestRow
    status_code: int  # 201 created; 200 when an earlier referral answers
    created_now: bool = False  # False for If-None-Exist matches and Idempotency-Key replays


def receive_referral(session: Session, caller: Caller, body: bytes, max_depth: int,
                     if_none_exist: str | None, idempotency_key: str | None,
                     register: Register, known_teams: set[str]) -> Accepted:
    key = idempotency.checked_key(idempotency_key)
    digest = idempotency.body_digest(body)
    if key and (previous := idempotency.previous_answer(session, caller, key, digest)):
        return _replay(session, caller, previous.resource_id, previous.status_code)
    document = decode_json_object(body, max_depth)
    referral = get_adapter(GP_ADAPTER).parse(document)
    match = _conditional_match(session, caller, if_none_exist)
    accepted = Accepted(match, 200) if match else Accepted(
        create_referral(session, caller, referral, register, known_teams), 201, created_now=True)
    if key:
        idempotency.remember(session, caller, key, digest, accepted.status_code,
                             "ServiceRequest", accepted.row.id)
    return accepted


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
