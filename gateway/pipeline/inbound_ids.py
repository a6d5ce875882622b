"""Adapter messages by their sender's own id: a replay finds the first answer. Never commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.auth.bearer import Caller
from gateway.platform.db.models import InboundMessage
from gateway.platform.errors import Unprocessable


def previous(session: Session, caller: Caller, message_id: str,
             digest: str) -> InboundMessage | None:
    """The message this client sent under ``message_id`` before, if any; the same id with
    another body is refused (an id names one message)."""
    row = session.get(InboundMessage, (caller.client_id, message_id))
    if row is not None and row.request_hash != digest:
        raise Unprocessable("this message id was used for a different message", expression="id")
    return row


def remember(session: Session, caller: Caller, system: str, kind: str, message_id: str,
             digest: str, status_code: int, outcome: dict[str, Any]) -> None:
    session.connection().execute(InboundMessage.__table__.insert(), [{
        "client_id": caller.client_id, "message_id": message_id, "system": system, "kind": kind,
        "request_hash": digest, "status_code": status_code, "outcome": outcome}])
