"""Event types carried in outbox messages and the ``X-Wijkgateway-Event`` webhook header, and
the processing activities (ids in the register) the gateway's flows run under."""

from __future__ import annotations

ACTIVITY_REFERRAL = "gp-referral-to-wijkteam"  # the referral, to the receiving team
ACTIVITY_FEEDBACK = "referrer-feedback"  # its status, back to the referrer
ACTIVITY_TRAJECTORIES = "trajectory-sharing"  # a unit's trajectory, to the other unit
ACTIVITY_PLAN = "household-plan"  # the one household plan, read and shared
# the register must hold these: the gateway's own flows run under them
REFERRAL_FLOW_ACTIVITIES = (ACTIVITY_REFERRAL, ACTIVITY_FEEDBACK, ACTIVITY_TRAJECTORIES,
                            ACTIVITY_PLAN)

EVENT_REFERRAL_RECEIVED = "nl.wijkgateway.referral.received"
EVENT_TRAJECTORY_OPENED = "nl.wijkgateway.trajectory.opened"
EVENT_TRAJECTORY_CLOSED = "nl.wijkgateway.trajectory.closed"


def task_status_event(status: str) -> str:
    """The specific event for a Task status, e.g. ``nl.wijkgateway.referral.accepted``."""
    return f"nl.wijkgateway.referral.{status}"
