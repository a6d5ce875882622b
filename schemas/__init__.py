"""Canonical model and code tables. Imports nothing else of the project's."""

from schemas.consent_codes import (
    ACTIVITY_SYSTEM,
    CATEGORY_SYSTEM,
    CONSENT_CATEGORY,
    CONSENT_SCOPE,
    RECIPIENT_ACTOR_ROLE,
    RECORDED_BY_EXTENSION,
    REPRESENTATIVE_CODES,
    ROLE_CODE_SYSTEM,
    ROLE_SYSTEM,
)
from schemas.echo import NOT_SHOWN, loggable, loggable_expression, safe_name, shown
from schemas.events import (
    ACTIVITY_FEEDBACK,
    ACTIVITY_REFERRAL,
    EVENT_REFERRAL_RECEIVED,
    REFERRAL_FLOW_ACTIVITIES,
    task_status_event,
)
from schemas.identifiers import (
    AGB_SYSTEM,
    AGB_SYSTEMS,
    BSN_SYSTEM,
    BSN_SYSTEMS,
    URA_SYSTEM,
    is_valid_agb,
    is_valid_bsn,
)
from schemas.referral import Identifier, Referral, Subject
from schemas.task_status import (
    TASK_STATUSES,
    TASK_STATUSES_NEEDING_REASON,
    TASK_TRANSITIONS,
    can_transition,
)

__all__ = [
    "ACTIVITY_FEEDBACK",
    "ACTIVITY_REFERRAL",
    "REFERRAL_FLOW_ACTIVITIES",
    "ACTIVITY_SYSTEM",
    "CATEGORY_SYSTEM",
    "CONSENT_CATEGORY",
    "CONSENT_SCOPE",
    "RECIPIENT_ACTOR_ROLE",
    "RECORDED_BY_EXTENSION",
    "REPRESENTATIVE_CODES",
    "ROLE_CODE_SYSTEM",
    "ROLE_SYSTEM",
    "AGB_SYSTEM",
    "AGB_SYSTEMS",
    "BSN_SYSTEM",
    "BSN_SYSTEMS",
    "EVENT_REFERRAL_RECEIVED",
    "TASK_STATUSES",
    "TASK_STATUSES_NEEDING_REASON",
    "TASK_TRANSITIONS",
    "URA_SYSTEM",
    "Identifier",
    "Referral",
    "Subject",
    "can_transition",
    "is_valid_agb",
    "is_valid_bsn",
    "task_status_event",
    "NOT_SHOWN",
    "loggable",
    "loggable_expression",
    "safe_name",
    "shown",
]
