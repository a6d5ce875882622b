"""A team's system records and revokes a resident's consent with fhirpy's documented calls
(``save()``, ``search()``, ``get()``) and sees the referral change with it: minimised without
consent, whole with it, minimised again once revoked; each view parses strictly in fhirclient."""

from __future__ import annotations

from fhirclient.client import FHIRClient
from fhirclient.models.servicerequest import ServiceRequest
from fhirpy import SyncFHIRClient

from tests.integration.conftest import token_for
from tests.support.samples import (
    BSN,
    NOTE_TEXT,
    VALID_BSNS,
    consent_resource,
    patient,
    service_request,
)
from tests.support.server import LiveServer

RESIDENT = VALID_BSNS[1]


def _strict(server: LiveServer, token: str, referral_id: str) -> ServiceRequest:
    """The team's view as SMART's fhirclient parses it (strict R4)."""
    return ServiceRequest.read(referral_id, FHIRClient(state={"app_id": "team", "server": {
        "base_uri": f"{server.url}/fhir/", "auth_type": "oauth2",
        "auth": {"access_token": token}}}).server)


def test_team_records_and_revokes_consent(server: LiveServer) -> None:
    gp = SyncFHIRClient(f"{server.url}/fhir",
                        authorization=f"Bearer {token_for(server, 'demo-huisarts')}")
    token = token_for(server, "demo-wijkteam-noord")
    team = SyncFHIRClient(f"{server.url}/fhir", authorization=f"Bearer {token}")
    referral = gp.resource("ServiceRequest", **service_request(bsn=RESIDENT))
    referral.save()  # the referral makes the team involved with the resident
    assert "note" not in team.get("ServiceRequest", referral.id)
    assert _strict(server, token, referral.id).subject.identifier is None

    resident = team.resource("Patient", **patient(RESIDENT))
    resident.save()
    consent = team.resource("Consent", **consent_resource(f"Patient/{resident.id}"))
    consent.save()
    assert [c.id for c in team.resources("Consent").search(patient=f"{BSN}|{RESIDENT}")
            .fetch()] == [consent.id]
    assert team.get("ServiceRequest", referral.id)["note"] == [{"text": NOTE_TEXT}]
    assert _strict(server, token, referral.id).subject.identifier.value == RESIDENT

    consent["status"] = "inactive"
    consent.save()  # a PUT without If-Match revokes it
    assert consent["meta"]["versionId"] == "2"
    assert "note" not in team.get("ServiceRequest", referral.id)
    assert _strict(server, token, referral.id).subject.identifier is None
