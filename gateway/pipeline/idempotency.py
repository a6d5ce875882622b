"""``Idempotency-Key``: the first answer is remembered and replayed for retries of the same
request; the same key with a different body is refused (IETF httpapi idempotency draft)."""

from __future__ import annotations

import hashlib
import re

import orjson
from sqlalchemy.orm import Session

from gateway.auth.bearer import Caller
from gateway.platform.db.models import IdempotencyKey
from gateway.platform.errors import BadRequest, Unprocessable

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def checked_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _KEY.match(value):
        raise BadRequest("Idempotency-Key must be 1-255 visible ASCII characters",
                         expression="Idempotency-Key")
    return value


def body_digest(body: bytes) -> str:
    """The request body compared as JSON (key order and white space aside), so a client
    library that serialises a retry differently is still recognised; other bodies as bytes."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def previous_answer(session: Session, caller: Caller, key: str,
                    digest: str) -> IdempotencyKey | None:
    row = session.get(IdempotencyKey, (caller.client_id, key))
    if row is not None and row.request_hash != digest:
        raise Unprocessable("this Idempotency-Key was used for a different request body",
                            expression="Idempotency-Key")
    return row


def remember(session: Session, caller: Caller, key: str, digest: str, status_code: int,
             resource_type: str, resource_id: str) -> None:
    session.add(IdempotencyKey(client_id=caller.client_id, key=key, request_hash=digest,
                               status_code=status_code, resource_type=resource_type,
                               resource_id=resource_id))
