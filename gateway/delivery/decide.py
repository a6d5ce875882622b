"""The decision again, right before a queued message leaves (by webhook or feed): a plan's
items each for its member, anything else as its activity says."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gateway.disclosure.service import recheck as recheck_disclosure
from gateway.plans.sharing import recheck_plan
from gateway.platform.db.models import OutboxMessage


def recheck(session: Session, message: OutboxMessage) -> dict[str, Any] | None:
    """The payload as permitted now, or None when it is withheld now."""
    if message.resource_type == "CarePlan":
        return recheck_plan(session, message)
    return recheck_disclosure(session, message)
