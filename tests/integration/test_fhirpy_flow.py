"""The GP's and the team's side with fhirpy's documented calls only, against uvicorn on a
loopback port."""

from __future__ import annotations

import json

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome

from gateway.delivery.worker import Worker
from gateway.platform.settings import Settings
from tests.integration.conftest import token_for
from tests.support.samples import REFERRAL_SYSTEM, service_request, subscription
from tests.support.server import LiveServer
from tests.support.webhooks import WebhookReceiver


def test_gp_refers_follows_and_hears_back(server: LiveServer, sessions,  # noqa: ANN001
                                         settings: Settings) -> None:
    fhir = SyncFHIRClient(f"{server.url}/fhir",
                          authorization=f"Bearer {token_for(server, 'demo-huisarts')}")
    referral = fhir.resource("ServiceRequest", **service_request(identifier="fhirpy-1"))
    referral.save()
    assert referral.id
    assert referral["meta"]["versionId"] == "1"
    again = fhir.reference("ServiceRequest", referral.id).to_resource()
    assert again["subject"] == referral["subject"]
    found = fhir.resources("ServiceRequest").search(
        identifier=f"{REFERRAL_SYSTEM}|fhirpy-1").fetch()
    assert [r.id for r in found] == [referral.id]

    hook = WebhookReceiver().start()
    try:
        fhir.resource("Subscription", **subscription(
            hook.url, f"Task?focus=ServiceRequest/{referral.id}")).save()
        task = fhir.resources("Task").search(focus=f"ServiceRequest/{referral.id}").first()
        assert task["status"] == "requested"

        team = SyncFHIRClient(f"{server.url}/fhir", authorization=(
            f"Bearer {token_for(server, 'demo-wijkteam-noord')}"))
        owned = team.reference("Task", task.id).to_resource()
        owned.patch(status="accepted")  # fhirpy's partial update: a merge patch
        owned.patch(status="in-progress")
        owned["status"] = "completed"
        owned.save()  # a PUT of the whole Task, no If-Match, as against HAPI
        assert owned["meta"]["versionId"] == "4"
        assert Worker(sessions, settings).run_once() == 3
        assert [json.loads(r.body)["status"] for r in hook.received] == \
            ["accepted", "in-progress", "completed"]
        assert fhir.reference("Task", task.id).to_resource()["status"] == "completed"
    finally:
        hook.stop()


def test_gp_client_sees_an_operation_outcome_for_an_invalid_bsn(server: LiveServer) -> None:
    fhir = SyncFHIRClient(f"{server.url}/fhir",
                          authorization=f"Bearer {token_for(server, 'demo-huisarts')}")
    with pytest.raises(OperationOutcome) as raised:
        fhir.resource("ServiceRequest", **service_request(bsn="123456789")).save()
    issue = raised.value.resource["issue"][0]
    assert issue["expression"] == ["ServiceRequest.subject.identifier.value"]
