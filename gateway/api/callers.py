"""Handler parameter types that read like a contract: ``caller: TaskWrite``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.api.runtime import require_scope
from gateway.auth import scopes
from gateway.auth.bearer import Caller

ServiceRequestRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_SERVICE_REQUEST_READ))]
ServiceRequestWrite = Annotated[Caller,
                                Depends(require_scope(scopes.SCOPE_SERVICE_REQUEST_WRITE))]
TaskRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_TASK_READ))]
TaskWrite = Annotated[Caller, Depends(require_scope(scopes.SCOPE_TASK_WRITE))]
SubscriptionRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_SUBSCRIPTION_READ))]
SubscriptionWrite = Annotated[Caller, Depends(require_scope(scopes.SCOPE_SUBSCRIPTION_WRITE))]
OrganizationRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_ORGANIZATION_READ))]
ConsentRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_CONSENT_READ))]
ConsentWrite = Annotated[Caller, Depends(require_scope(scopes.SCOPE_CONSENT_WRITE))]
PatientRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_PATIENT_READ))]
PatientWrite = Annotated[Caller, Depends(require_scope(scopes.SCOPE_PATIENT_WRITE))]
RelatedPersonWrite = Annotated[Caller,
                               Depends(require_scope(scopes.SCOPE_RELATED_PERSON_WRITE))]
WhoElseHelpsRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_WHO_ELSE_HELPS))]
GroupRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_GROUP_READ))]
GroupWrite = Annotated[Caller, Depends(require_scope(scopes.SCOPE_GROUP_WRITE))]
InvolvementAdmin = Annotated[Caller, Depends(require_scope(scopes.SCOPE_INVOLVEMENT_ADMIN))]
IdentityReviewer = Annotated[Caller, Depends(require_scope(scopes.SCOPE_IDENTITY_REVIEW))]
CarePlanRead = Annotated[Caller, Depends(require_scope(scopes.SCOPE_CARE_PLAN_READ))]
CarePlanWrite = Annotated[Caller, Depends(require_scope(scopes.SCOPE_CARE_PLAN_WRITE))]
CarePlanApprove = Annotated[Caller, Depends(require_scope(scopes.SCOPE_CARE_PLAN_APPROVE))]
