"""Event types carried in outbox messages and the ``X-Wijkgateway-Event`` webhook header."""

from __future__ import annotations

EVENT_REFERRAL_RECEIVED = "nl.wijkgateway.referral.received"


def task_status_event(status: str) -> str:
    """The specific event for a Task status, e.g. ``nl.wijkgateway.referral.accepted``."""
    return f"nl.wijkgateway.referral.{status}"
