"""The GP's side with a real FHIR client library (fhirpy) against uvicorn on a loopback port."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome

from gateway.app import create_app
from gateway.auth.token_exchange import exchange_form
from gateway.demo import DEMO_ACTORS, demo_secret
from gateway.outbox.worker import Worker
from gateway.settings import Settings
from tests.conftest import BASE_URL
from tests.support.samples import REFERRAL_SYSTEM, service_request, subscription
from tests.support.server import LiveServer
from tests.support.webhooks import WebhookReceiver


@pytest.fixture
def server(settings: Settings, seeded: None, log_stream) -> Iterator[LiveServer]:  # noqa: ANN001
    with LiveServer(create_app(settings, configure_logs=False)) as live:
        yield live


def _token(server: LiveServer, client_id: str) -> str:
    """A token exchange (RFC 8693) naming the demo worker, as the connected system does."""
    form = exchange_form(client_id, demo_secret(client_id), DEMO_ACTORS[client_id],
                         f"{BASE_URL}/oauth/token")
    response = httpx.post(f"{server.url}/oauth/token", data=form,
                          auth=(client_id, demo_secret(client_id)))
    return response.json()["access_token"]


def test_gp_refers_follows_and_hears_back(server: LiveServer, sessions,  # noqa: ANN001
                                         settings: Settings) -> None:
    fhir = SyncFHIRClient(f"{server.url}/fhir",
                          authorization=f"Bearer {_token(server, 'demo-huisarts')}")
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

        team = {"Authorization": f"Bearer {_token(server, 'demo-wijkteam-noord')}",
                "Content-Type": "application/json-patch+json"}
        for version, status in ((1, "accepted"), (2, "in-progress"), (3, "completed")):
            response = httpx.patch(f"{server.url}/fhir/Task/{task.id}", headers={
                **team, "If-Match": f'W/"{version}"'},
                json=[{"op": "replace", "path": "/status", "value": status}])
            assert response.status_code == 200, response.text
        assert Worker(sessions, settings).run_once() == 3
        assert [json.loads(r.body)["status"] for r in hook.received] == \
            ["accepted", "in-progress", "completed"]
        assert fhir.reference("Task", task.id).to_resource()["status"] == "completed"
    finally:
        hook.stop()


def test_gp_client_sees_an_operation_outcome_for_an_invalid_bsn(server: LiveServer) -> None:
    fhir = SyncFHIRClient(f"{server.url}/fhir",
                          authorization=f"Bearer {_token(server, 'demo-huisarts')}")
    with pytest.raises(OperationOutcome) as raised:
        fhir.resource("ServiceRequest", **service_request(bsn="123456789")).save()
    issue = raised.value.resource["issue"][0]
    assert issue["expression"] == ["ServiceRequest.subject.identifier.value"]
