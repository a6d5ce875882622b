"""Outbound: each message is rendered by the receiving system's adapter when it is sent, after
the send-time decision, and checked against that system's schema; what cannot be rendered or
does not fit is dead with a reason (no content) and never sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters import get_adapter
from gateway.auth.scopes import SCOPE_SUBSCRIPTION_WRITE, adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.delivery.worker import Worker
from gateway.platform.db.models import DeliveryAttempt, OutboxMessage
from gateway.platform.settings import Settings
from tests.conftest import add_test_client, bearer
from tests.support.samples import service_request, subscription
from tests.support.webhooks import WebhookReceiver


@pytest.fixture
def worker(sessions: sessionmaker[Session], settings: Settings) -> Iterator[Worker]:
    runner = Worker(sessions, settings, jitter=lambda: 1.0)
    yield runner
    runner.client.close()


def _subscribed(client: TestClient, sessions: sessionmaker[Session],
                receiver: WebhookReceiver, system: str) -> str:
    """A client of wijkteam-noord in ``system``'s format, subscribed to new referrals."""
    client_id = f"{system}-noord"
    with sessions.begin() as session:
        add_test_client(session, f"Noord ({system} system)",
                        [SCOPE_SUBSCRIPTION_WRITE, adapter_scope(system)], client_id=client_id,
                        secret=demo_secret(client_id), team_id="wijkteam-noord",
                        system=system)
    created = client.post("/fhir/Subscription", headers=bearer(client, client_id),
                          json=subscription(receiver.url, "ServiceRequest"))
    assert created.status_code == 201, created.text
    return client_id


@pytest.fixture
def fake_team(client: TestClient, sessions: sessionmaker[Session],
              receiver: WebhookReceiver) -> str:
    return _subscribed(client, sessions, receiver, "fake")


def _refer(client: TestClient, gp: dict[str, str]) -> str:
    response = client.post("/fhir/ServiceRequest", json=service_request(consent="self"),
                           headers=gp)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _outcome(sessions: sessionmaker[Session]) -> list[tuple[str, list[str | None]]]:
    with sessions() as session:
        return [(m.status, list(session.scalars(select(DeliveryAttempt.error).where(
            DeliveryAttempt.outbox_id == m.id)))) for m in session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]


def test_the_receiving_system_gets_its_own_format(client: TestClient, gp: dict[str, str],
                                                  fake_team: str, receiver: WebhookReceiver,
                                                  worker: Worker) -> None:
    sr_id = _refer(client, gp)
    assert worker.run_once() == 1
    [notice] = receiver.received
    assert notice.headers["Content-Type"] == "application/json"
    assert json.loads(notice.body) == {
        "kind": "referral", "event": "nl.wijkgateway.referral.received", "referralId": sr_id,
        "status": "active", "for": "wijkteam-noord"}
    assert notice.path.endswith(f"/ServiceRequest/{sr_id}")  # the rest-hook's PUT
    assert "111222333" not in notice.body.decode()


def test_the_adult_records_get_a_notice_that_fits_their_published_schema(
        client: TestClient, gp: dict[str, str], sessions: sessionmaker[Session],
        receiver: WebhookReceiver, worker: Worker) -> None:
    _subscribed(client, sessions, receiver, "menscentraal")
    sr_id = _refer(client, gp)
    assert worker.run_once() == 1
    [notice] = receiver.received
    assert json.loads(notice.body) == {
        "soort": "verwijzing", "gebeurtenis": "nl.wijkgateway.referral.received",
        "verwijzingId": sr_id, "status": "active", "team": "wijkteam-noord"}
    get_adapter("menscentraal").check_outbound(json.loads(notice.body))


def test_a_document_that_does_not_fit_the_schema_is_dead_not_sent(
        client: TestClient, gp: dict[str, str], fake_team: str, receiver: WebhookReceiver,
        worker: Worker, sessions: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = get_adapter("fake")
    render = adapter.render

    def careless(message: Any, recipient: Any) -> dict[str, Any]:
        return {**render(message, recipient), "note": "Jansen"}  # an element its schema lacks

    monkeypatch.setattr(adapter, "render", careless)
    _refer(client, gp)
    assert worker.run_once() == 1
    assert receiver.received == []
    assert _outcome(sessions) == [("dead", ["schema_invalid: note"])]
    assert worker.run_once() == 0  # dead: not tried again


def test_a_system_switched_off_receives_nothing(client: TestClient, gp: dict[str, str],
                                                fake_team: str, receiver: WebhookReceiver,
                                                sessions: sessionmaker[Session],
                                                settings: Settings) -> None:
    _refer(client, gp)
    worker = Worker(sessions, settings.model_copy(update={"adapters": ["gp-referral"]}))
    assert worker.run_once() == 1
    worker.client.close()
    assert receiver.received == []
    assert _outcome(sessions) == [("dead", ["render_failed: adapter fake is not enabled"])]


def test_fhir_recipients_are_rendered_and_checked_by_gp_referral(
        client: TestClient, gp: dict[str, str], team: dict[str, str],
        receiver: WebhookReceiver, worker: Worker, sessions: sessionmaker[Session]) -> None:
    assert client.post("/fhir/Subscription", headers=team,
                       json=subscription(receiver.url, "ServiceRequest")).status_code == 201
    sr_id = _refer(client, gp)
    assert worker.run_once() == 1
    [notice] = receiver.received
    assert notice.headers["Content-Type"] == "application/fhir+json"
    assert json.loads(notice.body)["id"] == sr_id
    with sessions.begin() as session:  # a stored payload that no longer fits R4B
        message = session.scalars(select(OutboxMessage)).one()
        message.payload = {**message.payload, "status": "half-done"}
        message.status, message.attempts = "pending", 0
    assert worker.run_once() == 1
    assert _outcome(sessions) == [("dead", [None, "schema_invalid: ServiceRequest.status"])]
    assert len(receiver.received) == 1
