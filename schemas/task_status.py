"""The referral Task status machine as one table (FHIR R4B Task.status values).

A team moves a referral ``requested -> accepted -> in-progress -> completed``, or ends it early
(``rejected``, ``cancelled``, ``failed``). Terminal states have no way out.
"""

from __future__ import annotations

TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"received", "accepted", "rejected", "cancelled"}),
    "received": frozenset({"accepted", "rejected", "cancelled"}),
    "accepted": frozenset({"in-progress", "on-hold", "cancelled"}),
    "in-progress": frozenset({"on-hold", "completed", "failed", "cancelled"}),
    "on-hold": frozenset({"in-progress", "cancelled", "failed"}),
    "completed": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
    "failed": frozenset(),
}

TASK_STATUSES = frozenset(TASK_TRANSITIONS)

# Statuses that must say why (Task.statusReason), so the referrer learns the reason.
TASK_STATUSES_NEEDING_REASON = frozenset({"rejected", "cancelled", "failed"})


def can_transition(current: str, new: str) -> bool:
    """True when ``current -> new`` is an allowed move; staying put is always allowed."""
    return new == current or new in TASK_TRANSITIONS.get(current, frozenset())
