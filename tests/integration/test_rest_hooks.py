"""R4B rest-hooks end to end, with fhirpy against uvicorn and a real receiver: a bodyless
notification signed over its empty body; a receiver down until the message dies puts the
Subscription in ``error``, and fhirpy's documented ``save()`` (a PUT) starts it again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fhirpy import SyncFHIRClient

from gateway.auth.clients import webhook_secret
from gateway.delivery.worker import Worker
from gateway.platform.db.types import utcnow
from gateway.platform.settings import Settings
from tests.integration.conftest import token_for
from tests.support.samples import service_request, subscription
from tests.support.server import LiveServer
from tests.support.webhooks import WebhookReceiver


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def _move(server: LiveServer, task_id: str, status: str) -> None:
    response = httpx.patch(f"{server.url}/fhir/Task/{task_id}", json=[
        {"op": "replace", "path": "/status", "value": status}], headers={
        "Authorization": f"Bearer {token_for(server, 'demo-wijkteam-noord')}",
        "Content-Type": "application/json-patch+json"})
    assert response.status_code == 200, response.text


def test_bodyless_then_error_then_started_again_by_save(server: LiveServer, hook: WebhookReceiver,
                                                       sessions,  # noqa: ANN001
                                                       live_settings: Settings) -> None:
    fhir = SyncFHIRClient(f"{server.url}/fhir",
                          authorization=f"Bearer {token_for(server, 'demo-huisarts')}")
    referral = fhir.resource("ServiceRequest", **service_request(identifier="hooks-1"))
    referral.save()
    task = fhir.resources("Task").search(focus=f"ServiceRequest/{referral.id}").first()
    body = subscription(hook.url, f"Task?focus=ServiceRequest/{referral.id}")
    del body["channel"]["payload"]
    sub = fhir.resource("Subscription", **body)
    sub.save()
    worker = Worker(sessions, live_settings)
    secret = webhook_secret(live_settings.secret_key, "demo-huisarts")

    _move(server, task.id, "accepted")
    assert worker.run_once() == 1
    [note] = hook.received
    assert (note.method, note.path, note.body, note.verified(secret)) == \
        ("POST", "/hook", b"", None)

    hook.status_code = 503
    _move(server, task.id, "in-progress")
    for hours in range(1, live_settings.outbox_max_attempts + 1):
        worker.run_once()
        worker.now = lambda hours=hours: utcnow() + timedelta(hours=hours)  # backoff passed
    sub = fhir.reference("Subscription", sub.id).to_resource()
    assert (sub["status"], sub["error"]) == ("error", "endpoint answered 503 on 3 attempts")

    hook.status_code = 204
    sub["status"] = "requested"
    del sub["error"]
    sub.save()
    assert fhir.reference("Subscription", sub.id).to_resource()["status"] == "active"
    _move(server, task.id, "completed")
    assert worker.run_once() == 1
    assert [(r.method, r.body) for r in hook.received] == [("POST", b""), ("POST", b"")]

