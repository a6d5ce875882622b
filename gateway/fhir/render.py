"""Rows -> FHIR R4B JSON, with server id, ``meta.versionId`` and ``meta.lastUpdated``."""

from __future__ import annotations

from typing import Any

from gateway.platform.db.models import ServiceRequestRow, TaskRow
from schemas import IDENTIFIER_KINDS

TASK_CODE = {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code",
                         "code": "fulfill", "display": "Fulfill the focal request"}]}


def _meta(version_id: int, updated: Any) -> dict[str, str]:
    return {"versionId": str(version_id), "lastUpdated": updated.isoformat()}


def render_service_request(row: ServiceRequestRow) -> dict[str, Any]:
    resource = dict(row.resource)
    resource["id"] = row.id
    resource["meta"] = {**resource.get("meta", {}), **_meta(row.version_id, row.updated_at)}
    return resource


def render_task(row: TaskRow) -> dict[str, Any]:
    """The Task carries no resident data: ``focus`` leads to the referral for those allowed."""
    return {
        "resourceType": "Task",
        "id": row.id,
        "meta": _meta(row.version_id, row.updated_at),
        "status": row.status,
        **row.details,
        "intent": "order",
        "code": TASK_CODE,
        "focus": {"reference": f"ServiceRequest/{row.service_request_id}"},
        "authoredOn": row.created_at.isoformat(),
        "lastModified": row.updated_at.isoformat(),
        "requester": _requester(row),
        "owner": {"reference": f"Organization/{row.team_id}"},
    }


def _requester(row: TaskRow) -> dict[str, Any]:
    """The professional who referred (AGB, else UZI), else the practice (AGB or URA)."""
    if row.requester:
        return {"type": "Practitioner", "identifier": fhir_identifier(row.requester)}
    assert row.requester_organization is not None
    return {"type": "Organization", "identifier": fhir_identifier(row.requester_organization)}


def fhir_identifier(token: str) -> dict[str, str]:
    """``ura:12345678`` -> ``{"system": "http://fhir.nl/fhir/NamingSystem/ura", ...}``."""
    prefix, _, value = token.partition(":")
    return {"system": IDENTIFIER_KINDS[prefix].system, "value": value}


TEAM_SYSTEM = "https://wijkgateway.nl/fhir/NamingSystem/team"
CLIENT_SYSTEM = "https://wijkgateway.nl/fhir/NamingSystem/client"


def organization_identifier(organization: str) -> dict[str, str]:
    """How the gateway names an organisation (a team id, ``agb:``/``ura:`` and its code,
    ``client:{id}``) as a FHIR identifier."""
    kind, _, value = organization.partition(":")
    if kind in ("agb", "ura"):
        return fhir_identifier(organization)
    if kind == "client":
        return {"system": CLIENT_SYSTEM, "value": value}
    return {"system": TEAM_SYSTEM, "value": organization}


def etag(version_id: int) -> str:
    return f'W/"{version_id}"'
