"""Adapter messages by their sender's own id: a replay finds the first answer. Never commits.

A message is compared with the one first sent under its id by a digest of what it says once
parsed (its canonical form, ``schemas.messages``), never of the bytes it came in. So the same
message is recognised however it comes, alone, as a member of a bundle or as a row of a first
load, and whatever its white space, key or attribute order or namespace prefixes; another
message under the same id is refused.

Digests stored before (by gateways up to 0.1.0) were taken of the body (JSON with its keys
sorted, XML as bytes: a message sent alone, a first load's row as its JSON), and of a bundle's
member's ``repr``. No content is kept, so no migration can turn them into content digests;
instead a message that does not match the content digest is compared with those older forms
too, so what was accepted before answers as then when it is sent again the same way (a
message first sent alone and now in a bundle has no body of its own to compare: resend it
alone once, or under its id as before)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, is_dataclass
from functools import cached_property
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gateway.auth.bearer import Caller
from gateway.pipeline import idempotency
from gateway.platform.db.driver import DriverInsert, DriverRead
from gateway.platform.db.models import InboundMessage
from gateway.platform.errors import Unprocessable
from schemas.messages import Batch
from schemas.messages import InboundMessage as Message

_MESSAGES = InboundMessage.__table__
# on the driver's cursor: every message reads and writes it
_INSERT = DriverInsert(_MESSAGES)
_PREVIOUS = DriverRead(select(_MESSAGES.c.request_hash, _MESSAGES.c.outcome).where(
    _MESSAGES.c.client_id == bindparam("client"), _MESSAGES.c.message_id == bindparam("message")))
_CONTENT = b"wijkgateway:inbound-message:1\n"  # no body's digest can be a content digest


@dataclass(frozen=True)
class Sent:
    """A message as it came: what it says (``message``, parsed) and, when it came alone, its
    own body (a bundle's member has none)."""

    message: Message | Batch
    body: bytes | None = None

    @cached_property
    def digest(self) -> str:
        """The digest stored with the message: of its canonical form."""
        canonical = orjson.dumps(_canonical(self.message), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(_CONTENT + canonical).hexdigest()

    def matches(self, stored: str) -> bool:
        """Whether ``stored`` is this message's digest, or one an earlier release took."""
        return stored == self.digest or stored in self._older()

    def _older(self) -> set[str]:
        """A bundle's member's digest as 0.1.0 took it, and the body's, if it has one."""
        bodies = [repr(self.message).encode(), *([self.body] if self.body is not None else [])]
        return {idempotency.body_digest(body) for body in bodies}


def _canonical(value: Any) -> Any:
    """A message as JSON: each dataclass as its type and the fields it is compared by (a
    household's ``where`` is not content), an identifier as its JSON, tuples as lists; orjson
    writes the rest (text, numbers, booleans, dates as ISO 8601)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__, **{
            f.name: _canonical(getattr(value, f.name)) for f in fields(value) if f.compare}}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    return value


def previous(session: Session, caller: Caller, sent: Sent) -> dict[str, Any] | None:
    """The outcome of the message this client sent under the same id before, if any; the
    same id with another message is refused (an id names one message)."""
    rows = _PREVIOUS.rows(session, {"client": caller.client_id,
                                    "message": sent.message.message_id})
    if not rows:
        return None
    request_hash, outcome = rows[0]
    if not sent.matches(request_hash):
        raise Unprocessable("this message id was used for a different message", expression="id")
    return outcome  # type: ignore[no-any-return]


def remember(session: Session, caller: Caller, system: str, kind: str, message_id: str,
             digest: str, status_code: int, outcome: dict[str, Any]) -> None:
    _INSERT.run(session.connection(), [{
        "client_id": caller.client_id, "message_id": message_id, "system": system, "kind": kind,
        "request_hash": digest, "status_code": status_code, "outcome": outcome}])
