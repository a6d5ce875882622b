"""Event types carried in outbox messages and the ``X-Wijkgateway-Event`` webhook header, and
the processing activities (ids in the register) the referral flow runs under."""

from __future__ import annotations

ACTIVITY_REFERRAL = "gp-referral-to-wijkteam"  # the referral, to the receiving team
ACTIVITY_FEEDBACK = "referrer-feedback"  # its status, back to the referrer
REFERRAL_FLOW_ACTIVITIES = (ACTIVITY_REFERRAL, ACTIVITY_FEEDBACK)  # the register must hold them

EVENT_REFERRAL_RECEIVED = "nl.wijkgateway.referral.received"


def task_status_event(status: str) -> str:
    """The specific event for a Task status, e.g. ``nl.wijkgateway.referral.accepted``."""
    return f"nl.wijkgateway.referral.{status}"
