"""Scopes in SMART on FHIR system style, each with what it allows."""

from __future__ import annotations

SCOPE_SERVICE_REQUEST_READ = "system/ServiceRequest.read"
SCOPE_SERVICE_REQUEST_WRITE = "system/ServiceRequest.write"
SCOPE_TASK_READ = "system/Task.read"
SCOPE_TASK_WRITE = "system/Task.write"
SCOPE_SUBSCRIPTION_READ = "system/Subscription.read"
SCOPE_SUBSCRIPTION_WRITE = "system/Subscription.write"
SCOPE_ORGANIZATION_READ = "system/Organization.read"

SCOPES: dict[str, str] = {
    SCOPE_SERVICE_REQUEST_READ: "Read referrals you sent or that were sent to your team.",
    SCOPE_SERVICE_REQUEST_WRITE: "Send referrals (GP systems).",
    SCOPE_TASK_READ: "Follow the status of referrals you can read.",
    SCOPE_TASK_WRITE: "Move the status of referrals sent to your team (team systems).",
    SCOPE_SUBSCRIPTION_READ: "List your webhooks.",
    SCOPE_SUBSCRIPTION_WRITE: "Register and remove webhooks.",
    SCOPE_ORGANIZATION_READ: "List the teams that receive referrals.",
}

GP_SCOPES = (SCOPE_SERVICE_REQUEST_WRITE, SCOPE_SERVICE_REQUEST_READ, SCOPE_TASK_READ,
             SCOPE_SUBSCRIPTION_WRITE, SCOPE_SUBSCRIPTION_READ, SCOPE_ORGANIZATION_READ)
TEAM_SCOPES = (SCOPE_SERVICE_REQUEST_READ, SCOPE_TASK_READ, SCOPE_TASK_WRITE,
               SCOPE_SUBSCRIPTION_WRITE, SCOPE_SUBSCRIPTION_READ, SCOPE_ORGANIZATION_READ)


def unknown_scopes(scopes: list[str]) -> list[str]:
    return [s for s in scopes if s not in SCOPES]
