"""Canonical model and code tables. Imports nothing else of the project's."""

from schemas.consent_claim import ConsentClaim
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
from schemas.household import (
    GroupClaim,
    GroupMemberClaim,
    HouseholdClaim,
    MemberClaim,
    RepresentationClaim,
)
from schemas.identifiers import (
    AGB_SYSTEM,
    AGB_SYSTEMS,
    BSN_SYSTEM,
    BSN_SYSTEMS,
    IDENTIFIER_KINDS,
    URA_SYSTEM,
    IdentifierKind,
    is_valid_agb,
    is_valid_bsn,
    kind_of_system,
    parse_identifier_token,
)
from schemas.person import LOCAL_SYSTEM_PREFIX, PersonClaim, local_system
from schemas.reference import Identifier, Reference
from schemas.referral import Referral, Subject
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
    "IDENTIFIER_KINDS",
    "IdentifierKind",
    "kind_of_system",
    "parse_identifier_token",
    "Identifier",
    "LOCAL_SYSTEM_PREFIX",
    "PersonClaim",
    "GroupClaim",
    "GroupMemberClaim",
    "HouseholdClaim",
    "MemberClaim",
    "ConsentClaim",
    "Reference",
    "RepresentationClaim",
    "local_system",
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
