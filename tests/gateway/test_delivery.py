"""Subscriptions and the outbox worker: signed, retried with backoff, dead, replayed, FIFO."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.auth.clients import webhook_secret
from gateway.db.models import DeliveryAttempt, OutboxMessage
from gateway.outbox.signing import verify
from gateway.outbox.worker import Worker, backoff_seconds, replay
from tests.support.samples import service_request, subscription
from tests.support.webhooks import WebhookReceiver

PATCH = "application/json-patch+json"


class Clock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(sessions, settings, clock: Clock) -> Worker:  # noqa: ANN001
    return Worker(sessions, settings, now=clock, jitter=lambda: 1.0)


def _accept(client: TestClient, team: dict, task_id: str, version: int, status: str) -> None:
    response = client.patch(f"/fhir/Task/{task_id}",
                            json=[{"op": "replace", "path": "/status", "value": status}],
                            headers={**team, "Content-Type": PATCH,
                                     "If-Match": f'W/"{version}"'})
    assert response.status_code == 200, response.text


def _referral(client: TestClient, gp: dict, **traits: Any) -> tuple[str, str]:
    sr = client.post("/fhir/ServiceRequest", json=service_request(**traits), headers=gp).json()
    task = client.get(f"/fhir/Task?focus=ServiceRequest/{sr['id']}", headers=gp).json()
    return sr["id"], task["entry"][0]["resource"]["id"]


class TestFeedbackToTheGp:
    def test_each_status_change_reaches_the_gp_signed(self, client: TestClient, gp: dict,
                                                      team: dict, receiver: WebhookReceiver,
                                                      worker: Worker, settings) -> None:  # noqa: ANN001
        sr_id, task_id = _referral(client, gp)
        created = client.post("/fhir/Subscription", headers=gp, json=subscription(
            receiver.url, f"Task?focus=ServiceRequest/{sr_id}", header=["X-Praktijk: linde"]))
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "active"
        _accept(client, team, task_id, 1, "accepted")
        _accept(client, team, task_id, 2, "in-progress")
        assert worker.run_once() == 2
        assert [json.loads(r.body)["status"] for r in receiver.received] == \
            ["accepted", "in-progress"]
        first = receiver.received[0]
        assert first.headers["X-Wijkgateway-Event"] == "nl.wijkgateway.referral.accepted"
        assert first.headers["X-Praktijk"] == "linde"
        assert first.headers["Content-Type"] == "application/fhir+json"
        secret = webhook_secret(settings.secret_key, "demo-huisarts")
        assert verify(secret, first.headers["webhook-id"], int(first.headers["webhook-timestamp"]),
                      first.body, first.headers["webhook-signature"])
        assert not verify(secret, first.headers["webhook-id"],
                          int(first.headers["webhook-timestamp"]), first.body + b" ",
                          first.headers["webhook-signature"])
        assert worker.run_once() == 0  # delivered once, not again

    def test_team_system_hears_of_new_referrals(self, client: TestClient, gp: dict, team: dict,
                                                receiver: WebhookReceiver,
                                                worker: Worker) -> None:
        assert client.post("/fhir/Subscription", headers=team,
                           json=subscription(receiver.url, "ServiceRequest")).status_code == 201
        sr_id, _ = _referral(client, gp, consent="self")
        worker.run_once()
        assert [json.loads(r.body)["id"] for r in receiver.received] == [sr_id]
        assert receiver.received[0].headers["X-Wijkgateway-Event"] == \
            "nl.wijkgateway.referral.received"

    def test_unsubscribed_client_gets_nothing_more(self, client: TestClient, gp: dict,
                                                   team: dict, receiver: WebhookReceiver,
                                                   worker: Worker) -> None:
        _, task_id = _referral(client, gp)
        sub = client.post("/fhir/Subscription", headers=gp,
                          json=subscription(receiver.url)).json()
        assert client.delete(f"/fhir/Subscription/{sub['id']}", headers=gp).status_code == 204
        assert client.get(f"/fhir/Subscription/{sub['id']}", headers=gp).status_code == 404
        _accept(client, team, task_id, 1, "accepted")
        worker.run_once()
        assert receiver.received == []


class TestRetries:
    def test_receiver_down_loses_nothing(self, client: TestClient, gp: dict, team: dict,
                                         receiver: WebhookReceiver, worker: Worker,
                                         clock: Clock, sessions) -> None:  # noqa: ANN001
        _, task_id = _referral(client, gp)
        client.post("/fhir/Subscription", headers=gp, json=subscription(receiver.url))
        _accept(client, team, task_id, 1, "accepted")
        receiver.status_code = 503
        assert worker.run_once() == 1
        assert worker.run_once() == 0  # backing off: not due yet
        with sessions() as session:
            message = session.query(OutboxMessage).one()
            attempt = session.query(DeliveryAttempt).one()
            assert (message.status, message.attempts, message.last_status_code) == \
                ("pending", 1, 503)
            assert (attempt.status_code, attempt.error) == (503, "http_503")
            assert message.next_attempt_at - attempt.attempted_at == timedelta(seconds=1)
        receiver.status_code = 204
        clock.offset += timedelta(seconds=2)
        assert worker.run_once() == 1
        assert [json.loads(r.body)["status"] for r in receiver.received] == ["accepted"]

    def test_dead_after_max_attempts_then_replay(self, client: TestClient, gp: dict,
                                                 team: dict, receiver: WebhookReceiver,
                                                 worker: Worker, clock: Clock,
                                                 sessions) -> None:  # noqa: ANN001
        _, task_id = _referral(client, gp)
        client.post("/fhir/Subscription", headers=gp, json=subscription(receiver.url))
        _accept(client, team, task_id, 1, "accepted")
        receiver.status_code = 500
        for _ in range(3):
            worker.run_once()
            clock.offset += timedelta(hours=1)
        with sessions() as session:
            message = session.query(OutboxMessage).one()
            assert (message.status, message.attempts) == ("dead", 3)
        assert worker.run_once() == 0
        receiver.status_code = 204
        with sessions.begin() as session:
            replay(session, message.id, clock())
        assert worker.run_once() == 1
        assert len(receiver.received) == 1

    def test_order_is_kept_per_person_while_retrying(self, client: TestClient, gp: dict,
                                                     team: dict, receiver: WebhookReceiver,
                                                     worker: Worker, clock: Clock) -> None:
        _, task_id = _referral(client, gp)
        client.post("/fhir/Subscription", headers=gp, json=subscription(receiver.url))
        _accept(client, team, task_id, 1, "accepted")
        receiver.status_code = 503
        worker.run_once()
        receiver.status_code = 204
        _accept(client, team, task_id, 2, "in-progress")
        assert worker.run_once() == 0  # the later message waits behind the failed one
        clock.offset += timedelta(seconds=5)
        assert worker.run_once() == 2
        assert [json.loads(r.body)["status"] for r in receiver.received] == \
            ["accepted", "in-progress"]


@pytest.mark.parametrize("attempts,expected", [(1, 2.0), (2, 4.0), (3, 8.0), (20, 3600.0)])
def test_backoff_doubles_and_is_capped(attempts: int, expected: float) -> None:
    assert backoff_seconds(attempts, 2.0, 3600.0, jitter=1.0) == expected
    assert backoff_seconds(attempts, 2.0, 3600.0, jitter=0.0) == expected / 2


BAD_SUBSCRIPTIONS = {
    "unsupported criteria": (subscription("http://127.0.0.1/x", "Patient"),
                             "Subscription.criteria"),
    "unknown focus": (subscription("http://127.0.0.1/x", "Task?focus=ServiceRequest/nope"),
                      "Subscription.criteria"),
    "GP subscribing to new referrals": (subscription("http://127.0.0.1/x", "ServiceRequest"),
                                        "Subscription.criteria"),
    "not rest-hook": (subscription("http://127.0.0.1/x", type="email"),
                      "Subscription.channel.type"),
    "no payload": (subscription("http://127.0.0.1/x", payload=None),
                   "Subscription.channel.payload"),
    "relative endpoint": (subscription("/hook"), "Subscription.channel.endpoint"),
    "ftp endpoint": (subscription("ftp://127.0.0.1/hook"), "Subscription.channel.endpoint"),
    "reserved header": (subscription("http://127.0.0.1/x", header=["webhook-id: 1"]),
                        "Subscription.channel.header[0]"),
    "malformed header": (subscription("http://127.0.0.1/x", header=["no colon"]),
                         "Subscription.channel.header[0]"),
}


@pytest.mark.parametrize("case", BAD_SUBSCRIPTIONS, ids=list(BAD_SUBSCRIPTIONS))
def test_bad_subscription_is_422(case: str, client: TestClient, gp: dict) -> None:
    body, expression = BAD_SUBSCRIPTIONS[case]
    body["channel"] = {k: v for k, v in body["channel"].items() if v is not None}
    response = client.post("/fhir/Subscription", json=body, headers=gp)
    assert response.status_code == 422, response.text
    assert response.json()["issue"][0]["expression"] == [expression]


def test_https_required_in_production(client: TestClient, gp: dict, settings) -> None:  # noqa: ANN001
    settings.allow_http_webhooks = False
    response = client.post("/fhir/Subscription", json=subscription("http://127.0.0.1/x"),
                           headers=gp)
    assert response.status_code == 422
    assert "https" in response.json()["issue"][0]["diagnostics"]
