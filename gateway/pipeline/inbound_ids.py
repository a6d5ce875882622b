"""Adapter messages by their sender's own id: a replay finds the first answer. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gateway.auth.bearer import Caller
from gateway.platform.db.driver import DriverInsert, DriverRead
from gateway.platform.db.models import InboundMessage
from gateway.platform.errors import Unprocessable

_MESSAGES = InboundMessage.__table__
# on the driver's cursor: every message reads and writes it
_INSERT = DriverInsert(_MESSAGES)
_PREVIOUS = DriverRead(select(_MESSAGES.c.request_hash, _MESSAGES.c.outcome).where(
    _MESSAGES.c.client_id == bindparam("client"), _MESSAGES.c.message_id == bindparam("message")))


def previous(session: Session, caller: Caller, message_id: str,
             digest: str) -> dict[str, Any] | None:
    """The outcome of the message this client sent under ``message_id`` before, if any; the
    same id with another body is refused (an id names one message)."""
    rows = _PREVIOUS.rows(session, {"client": caller.client_id, "message": message_id})
    if not rows:
        return None
    request_hash, outcome = rows[0]
    if request_hash != digest:
        raise Unprocessable("this message id was used for a different message", expression="id")
    return outcome


def remember(session: Session, caller: Caller, system: str, kind: str, message_id: str,
             digest: str, status_code: int, outcome: dict[str, Any]) -> None:
    _INSERT.run(session.connection(), [{
        "client_id": caller.client_id, "message_id": message_id, "system": system, "kind": kind,
        "request_hash": digest, "status_code": status_code, "outcome": outcome}])
