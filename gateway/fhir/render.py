"""Rows -> FHIR R4B JSON, with server id, ``meta.versionId`` and ``meta.lastUpdated``."""

from __future__ import annotations

from typing import Any

from gateway.platform.db.models import Involvement, ServiceRequestRow, TaskRow
from schemas import BSN_SYSTEM, IDENTIFIER_KINDS

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


LIFE_DOMAIN_SYSTEM = "https://wijkgateway.nl/fhir/CodeSystem/life-domain"  # schemas LifeDomain


def render_episode_of_care(row: Involvement, bsn: str | None) -> dict[str, Any]:
    """A trajectory (a case, an involvement with its life domains) as FHIR R4B
    ``EpisodeOfCare``; the patient by reference and, when known, BSN."""
    domains = (row.domains or "").split()
    patient: dict[str, Any] = {"reference": f"Patient/{row.person_id}"}
    if bsn:
        patient["identifier"] = {"system": BSN_SYSTEM, "value": bsn}
    period = {"start": row.started_at.date().isoformat(),
              **({"end": row.ended_at.date().isoformat()} if row.ended_at else {})}
    return {"resourceType": "EpisodeOfCare", "id": row.id,
            "status": "active" if row.ended_at is None else "finished",
            **({"type": [{"coding": [{"system": LIFE_DOMAIN_SYSTEM, "code": domain}]}
                         for domain in domains]} if domains else {}),
            "patient": patient,
            "managingOrganization": {"identifier": organization_identifier(row.organization)},
            "period": period}


def etag(version_id: int) -> str:
    return f'W/"{version_id}"'
