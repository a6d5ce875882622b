"""Scopes in SMART on FHIR system style, each with what it allows."""

from __future__ import annotations

from adapters import available

SCOPE_SERVICE_REQUEST_READ = "system/ServiceRequest.read"
SCOPE_SERVICE_REQUEST_WRITE = "system/ServiceRequest.write"
SCOPE_TASK_READ = "system/Task.read"
SCOPE_TASK_WRITE = "system/Task.write"
SCOPE_SUBSCRIPTION_READ = "system/Subscription.read"
SCOPE_SUBSCRIPTION_WRITE = "system/Subscription.write"
SCOPE_ORGANIZATION_READ = "system/Organization.read"
SCOPE_CONSENT_READ = "system/Consent.read"
SCOPE_CONSENT_WRITE = "system/Consent.write"
SCOPE_PATIENT_READ = "system/Patient.read"
SCOPE_PATIENT_WRITE = "system/Patient.write"
SCOPE_RELATED_PERSON_WRITE = "system/RelatedPerson.write"
SCOPE_GROUP_READ = "system/Group.read"
SCOPE_GROUP_WRITE = "system/Group.write"
SCOPE_AUDIT_READ = "system/AuditEvent.read"
SCOPE_CARE_PLAN_READ = "system/CarePlan.read"
SCOPE_CARE_PLAN_WRITE = "system/CarePlan.write"
SCOPE_CARE_PLAN_APPROVE = "system/CarePlan.approve"
SCOPE_WHO_ELSE_HELPS = "system/CareTeam.read"
SCOPE_INVOLVEMENT_ADMIN = "admin/Involvement.write"
SCOPE_IDENTITY_REVIEW = "admin/IdentityReview.write"

SCOPES: dict[str, str] = {
    SCOPE_SERVICE_REQUEST_READ: "Read referrals you sent or that were sent to your team.",
    SCOPE_SERVICE_REQUEST_WRITE: "Send referrals (GP systems).",
    SCOPE_TASK_READ: "Follow the status of referrals you can read.",
    SCOPE_TASK_WRITE: "Move the status of referrals sent to your team (team systems).",
    SCOPE_SUBSCRIPTION_READ: "List your webhooks.",
    SCOPE_SUBSCRIPTION_WRITE: "Register and remove webhooks.",
    SCOPE_ORGANIZATION_READ: "List the teams that receive referrals.",
    SCOPE_CONSENT_READ: "Read consents your team recorded; ask for consent decisions.",
    SCOPE_CONSENT_WRITE: "Record and revoke consents and objections.",
    SCOPE_PATIENT_READ: "Read the residents your organisation helps, as consent permits "
    "(the ids Consent and RelatedPerson reference).",
    SCOPE_PATIENT_WRITE: "Register a resident's birth date (who may consent depends on age).",
    SCOPE_RELATED_PERSON_WRITE: "Register parents and guardians, who consent for minors.",
    SCOPE_GROUP_READ: "Read the households (Group) you registered or whose members your "
    "organisation helps.",
    SCOPE_GROUP_WRITE: "Register households (Group): members, their roles and periods.",
    SCOPE_WHO_ELSE_HELPS: "Ask which organisations help a resident your organisation helps "
    "(Patient/{id}/$who-else-helps), not what they do.",
    SCOPE_CARE_PLAN_READ: "Read the plan of a household your organisation helps, each "
    "member's goals as their consent allows.",
    SCOPE_CARE_PLAN_WRITE: "Draft and change a household's plan, record the household's "
    "agreement.",
    SCOPE_CARE_PLAN_APPROVE: "Approve a household plan's youth or adult part (a token naming "
    "the acting team leader).",
    SCOPE_AUDIT_READ: "Privacy officers: search and export the processing log, access reports.",
    SCOPE_INVOLVEMENT_ADMIN: "Administrators: register and end an organisation's involvement "
    "with a resident (no team or GP client holds this).",
    SCOPE_IDENTITY_REVIEW: "Administrators: list and resolve conflicting identity facts.",
}

# Scopes over no resident's data, which a system's own token serves. Every other scope needs
# a token that names the acting person (RFC 8693), so a new scope needs it unless listed here.
SYSTEM_SCOPES = frozenset({SCOPE_SUBSCRIPTION_READ, SCOPE_SUBSCRIPTION_WRITE,
                           SCOPE_ORGANIZATION_READ})

GP_SCOPES = (SCOPE_SERVICE_REQUEST_WRITE, SCOPE_SERVICE_REQUEST_READ, SCOPE_TASK_READ,
             SCOPE_SUBSCRIPTION_WRITE, SCOPE_SUBSCRIPTION_READ, SCOPE_ORGANIZATION_READ,
             SCOPE_WHO_ELSE_HELPS)
TEAM_SCOPES = (SCOPE_SERVICE_REQUEST_READ, SCOPE_TASK_READ, SCOPE_TASK_WRITE,
               SCOPE_SUBSCRIPTION_WRITE, SCOPE_SUBSCRIPTION_READ, SCOPE_ORGANIZATION_READ,
               SCOPE_CONSENT_READ, SCOPE_CONSENT_WRITE, SCOPE_PATIENT_READ, SCOPE_PATIENT_WRITE,
               SCOPE_RELATED_PERSON_WRITE, SCOPE_WHO_ELSE_HELPS, SCOPE_GROUP_READ,
               SCOPE_GROUP_WRITE, SCOPE_CARE_PLAN_READ, SCOPE_CARE_PLAN_WRITE,
               SCOPE_CARE_PLAN_APPROVE)


def unknown_scopes(scopes: list[str]) -> list[str]:
    return [s for s in scopes if s not in SCOPES]


def adapter_scope(system: str) -> str:
    """Send a system's messages to ``POST /adapters/{system}/messages`` (one scope per system)."""
    return f"adapter/{system}.write"


SCOPES.update({adapter_scope(name): f"Send the {name} system's messages (its adapter's endpoint)."
               for name in available()})
