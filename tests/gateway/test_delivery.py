"""Subscriptions and the outbox worker: signed, retried with backoff, dead, replayed, FIFO;
channel headers and endpoints checked at registration and again at send time; one message
that cannot be sent never stops the others."""

from __future__ import annotations

import http.server
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address, ip_network
from typing import Any

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from fhir.resources.R4B.subscription import Subscription
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.auth.clients import webhook_secret
from gateway.delivery.worker import Worker, backoff_seconds, failure_reason, replay
from gateway.outbox import egress
from gateway.platform.db.models import DeliveryAttempt, OutboxMessage, SubscriptionRow
from gateway.platform.settings import Environment
from tests.conftest import bearer, row_counts
from tests.support.samples import service_request, subscription
from tests.support.webhooks import Certificate, WebhookReceiver

PATCH = "application/json-patch+json"
PUBLIC = "93.184.216.34"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time stands still at the current second; tests move it on with ``clock.shift``."""
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def worker(sessions, settings, clock: time_machine.Traveller) -> Iterator[Worker]:  # noqa: ANN001
    runner = Worker(sessions, settings, jitter=lambda: 1.0)
    yield runner
    runner.client.close()


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names the resolver answers from this dict (others go to the system resolver)."""
    records: dict[str, list[str]] = {}
    system = egress.resolve

    def resolve(host: str, port: int) -> list[egress.IPAddress]:
        if host in records:
            return [ip_address(a) for a in records[host]]
        return system(host, port)

    monkeypatch.setattr(egress, "resolve", resolve)
    return records


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


N_URL = "urn:test:n"  # which queued message a delivery is


def _task(payload: dict[str, Any]) -> dict[str, Any]:
    """A valid R4B Task (the gp-referral adapter checks each one before it leaves) for a
    test's ``{"n": ...}``, or the Task given, made valid."""
    if "n" not in payload:
        return {"status": "requested", "intent": "order", **payload}
    n = payload["n"]
    value = "valueInteger" if -2**31 <= n < 2**31 else "valueDecimal"
    return {"resourceType": "Task", "id": "0", "status": "requested", "intent": "order",
            "extension": [{"url": N_URL, value: n}]}


def _n(body: bytes) -> int:
    """The ``n`` of a delivered ``_task``."""
    return json.loads(body)["extension"][0]["valueInteger"]


def _queue(sessions, endpoint: str, payloads: list[dict[str, Any]],  # noqa: ANN001
           headers: dict[str, str] | None = None, style: str = "post-resource") -> list[int]:
    """A subscription row and its messages written straight into the database, bypassing the
    API's checks, as rows stored before those checks existed would be (so notified, unless
    ``style`` says otherwise, as they were: a POST of the resource to the endpoint)."""
    with sessions.begin() as session:
        sub = SubscriptionRow(client_id="demo-huisarts", criteria="Task", resource_type="Task",
                              endpoint=endpoint, headers=headers or {},
                              notification_style=style)
        session.add(sub)
        session.flush()
        rows = [{"subscription_id": sub.id, "event_type": "nl.wijkgateway.referral.accepted",
                 "ordering_key": f"person-{n}", "resource_type": "Task", "resource_id": str(n),
                 "payload": _task(payload), "decision": None} for n, payload in enumerate(payloads)]
        session.execute(insert(OutboxMessage), rows)
        return list(session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.subscription_id == sub.id).order_by(OutboxMessage.id)))


def _attempts(sessions, message_id: int) -> tuple[str, list[str | None]]:  # noqa: ANN001
    with sessions() as session:
        message = session.get(OutboxMessage, message_id)
        errors = session.scalars(select(DeliveryAttempt.error).where(
            DeliveryAttempt.outbox_id == message_id).order_by(DeliveryAttempt.id))
        return message.status, list(errors)


class TestFeedbackToTheGp:
    def test_each_status_change_reaches_the_gp_signed(self, client: TestClient, gp: dict,
                                                      team: dict, receiver: WebhookReceiver,
                                                      worker: Worker, settings,  # noqa: ANN001
                                                      clock: time_machine.Traveller) -> None:
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
        assert first.headers["Host"] == f"127.0.0.1:{receiver.port}"
        assert first.headers["webhook-timestamp"] == str(clock.time_ns() // 10**9)
        secret = webhook_secret(settings.secret_key, "demo-huisarts")
        assert first.verified(secret) == json.loads(first.body)
        tampered = type(first)(first.headers, first.body + b" ")
        with pytest.raises(WebhookVerificationError):
            tampered.verified(secret)
        with pytest.raises(WebhookVerificationError):
            first.verified(webhook_secret(settings.secret_key, "other-huisarts"))
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
        assert client.get(f"/fhir/Subscription/{sub['id']}", headers=gp).status_code == 410
        _accept(client, team, task_id, 1, "accepted")
        worker.run_once()
        assert receiver.received == []


class TestRetries:
    def test_receiver_down_loses_nothing(self, client: TestClient, gp: dict, team: dict,
                                         receiver: WebhookReceiver, worker: Worker,
                                         clock: time_machine.Traveller,
                                         sessions) -> None:  # noqa: ANN001
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
        clock.shift(timedelta(seconds=1))
        assert worker.run_once() == 1
        assert [json.loads(r.body)["status"] for r in receiver.received] == ["accepted"]

    def test_dead_after_max_attempts_then_replay(self, client: TestClient, gp: dict,
                                                 team: dict, receiver: WebhookReceiver,
                                                 worker: Worker,
                                                 clock: time_machine.Traveller,
                                                 sessions) -> None:  # noqa: ANN001
        _, task_id = _referral(client, gp)
        client.post("/fhir/Subscription", headers=gp, json=subscription(receiver.url))
        _accept(client, team, task_id, 1, "accepted")
        receiver.status_code = 500
        for _ in range(3):
            assert worker.run_once() == 1
            clock.shift(timedelta(hours=1))
        with sessions() as session:
            message = session.query(OutboxMessage).one()
            assert (message.status, message.attempts) == ("dead", 3)
        assert worker.run_once() == 0
        receiver.status_code = 204
        with sessions.begin() as session:
            replay(session, message.id)
        assert worker.run_once() == 1
        assert len(receiver.received) == 1

    def test_order_is_kept_per_person_while_retrying(self, client: TestClient, gp: dict,
                                                     team: dict, receiver: WebhookReceiver,
                                                     worker: Worker,
                                                     clock: time_machine.Traveller) -> None:
        _, task_id = _referral(client, gp)
        client.post("/fhir/Subscription", headers=gp, json=subscription(receiver.url))
        _accept(client, team, task_id, 1, "accepted")
        receiver.status_code = 503
        worker.run_once()
        receiver.status_code = 204
        _accept(client, team, task_id, 2, "in-progress")
        assert worker.run_once() == 0  # the later message waits behind the failed one
        clock.shift(timedelta(seconds=5))
        assert worker.run_once() == 2
        assert [json.loads(r.body)["status"] for r in receiver.received] == \
            ["accepted", "in-progress"]


@pytest.mark.parametrize("attempts,expected", [(1, 2.0), (2, 4.0), (3, 8.0), (20, 3600.0)])
def test_backoff_doubles_and_is_capped(attempts: int, expected: float) -> None:
    assert backoff_seconds(attempts, 2.0, 3600.0, jitter=1.0) == expected
    assert backoff_seconds(attempts, 2.0, 3600.0, jitter=0.0) == expected / 2


HEADER_FORMAT = ("headers look like 'Name: value': the name an RFC 9110 token, the value "
                 "visible ASCII, at most 2048 characters in all")
RESERVED = "this header is set by the gateway or steers the connection"
BAD_SUBSCRIPTIONS = {
    "unsupported criteria": (subscription("http://127.0.0.1/x", "Patient"),
                             "Subscription.criteria"),
    "unknown focus": (subscription("http://127.0.0.1/x", "Task?focus=ServiceRequest/nope"),
                      "Subscription.criteria"),
    "GP subscribing to new referrals": (subscription("http://127.0.0.1/x", "ServiceRequest"),
                                        "Subscription.criteria"),
    "not rest-hook": (subscription("http://127.0.0.1/x", type="email"),
                      "Subscription.channel.type"),
    "XML payload": (subscription("http://127.0.0.1/x", payload="application/fhir+xml"),
                    "Subscription.channel.payload"),
    "payload of another version": (
        subscription("http://127.0.0.1/x", payload="application/fhir+json; fhirVersion=5.0"),
        "Subscription.channel.payload"),
    "relative endpoint": (subscription("/hook"), "Subscription.channel.endpoint"),
    "ftp endpoint": (subscription("ftp://127.0.0.1/hook"), "Subscription.channel.endpoint"),
}
# (header lines, index of the bad one, message); the bad line's value, "sekret", is never echoed
BAD_HEADERS = {
    "non-ASCII value": (["X-B: café-sekret"], 0, HEADER_FORMAT),
    "CR LF in value": (["X-A: 1", "X-B: sekret\r\nX-Evil: 1"], 1, HEADER_FORMAT),
    "LF in value": (["X-B: sekret\nX-Evil: 1"], 0, HEADER_FORMAT),
    "NUL in value": (["X-B: sekret\x00"], 0, "a string may not hold control characters (but "
                     "tab, line feed and carriage return) or U+FFFE/U+FFFF: FHIR XML cannot "
                     "carry them"),
    "missing colon": (["no-colon-sekret"], 0, "headers look like 'Name: value'"),
    "space in name": (["X B: sekret"], 0, HEADER_FORMAT),
    "space before colon": (["X-B : sekret"], 0, HEADER_FORMAT),
    "separator in name": (["X(B): sekret"], 0, HEADER_FORMAT),
    "non-ASCII name": (["X-Bé: sekret"], 0, HEADER_FORMAT),
    "empty name": ([": sekret"], 0, HEADER_FORMAT),
    "too long": (["X-B: sekret" + "a" * 2100], 0, HEADER_FORMAT),
    "reserved by the gateway": (["webhook-id: sekret"], 0, RESERVED),
    "Host": (["X-A: 1", "host: sekret"], 1, RESERVED),
    "hop-by-hop": (["Transfer-Encoding: sekret"], 0, RESERVED),
    "twice": (["X-A: 1", "x-a: sekret"], 1, "each header name may appear once"),
    "too many": ([f"X-{n}: 1" for n in range(20)] + ["X-20: sekret"], 20, "at most 20 headers"),
}


@pytest.mark.parametrize("case", BAD_SUBSCRIPTIONS, ids=list(BAD_SUBSCRIPTIONS))
def test_bad_subscription_is_422(case: str, client: TestClient, gp: dict,
                                 sessions) -> None:  # noqa: ANN001
    body, expression = BAD_SUBSCRIPTIONS[case]
    body["channel"] = {k: v for k, v in body["channel"].items() if v is not None}
    before = row_counts(sessions)
    response = client.post("/fhir/Subscription", json=body, headers=gp)
    assert response.status_code == 422, response.text
    assert response.json()["issue"][0]["expression"] == [expression]
    assert row_counts(sessions) == before


@pytest.mark.parametrize("case", BAD_HEADERS, ids=list(BAD_HEADERS))
def test_bad_channel_header_is_422_naming_it(case: str, client: TestClient, gp: dict,
                                             sessions) -> None:  # noqa: ANN001
    lines, index, message = BAD_HEADERS[case]
    before = row_counts(sessions)
    response = client.post("/fhir/Subscription", headers=gp,
                           json=subscription("http://127.0.0.1:9/hook", header=lines))
    assert response.status_code == 422, response.text
    issue = response.json()["issue"]
    assert [(i["expression"], i["diagnostics"]) for i in issue] == \
        [([f"Subscription.channel.header[{index}]"], message)]
    assert "sekret" not in response.text
    assert row_counts(sessions) == before


def test_good_channel_headers_are_kept(client: TestClient, gp: dict) -> None:
    lines = ["Authorization: Bearer abc.def", "X-Tab:\tvalue with  spaces\t", "X-Empty:",
             "X-Token!#$%&'*+-.^_`|~: ~!\"#"]
    response = client.post("/fhir/Subscription", headers=gp,
                           json=subscription("http://127.0.0.1:9/hook", header=lines))
    assert response.status_code == 201, response.text
    assert response.json()["channel"]["header"] == [
        "Authorization: Bearer abc.def", "X-Tab: value with  spaces", "X-Empty: ",
        "X-Token!#$%&'*+-.^_`|~: ~!\"#"]


def test_https_required_in_production(client: TestClient, gp: dict, settings) -> None:  # noqa: ANN001
    settings.allow_http_webhooks = False
    _reconfigure(client, settings)
    response = client.post("/fhir/Subscription", json=subscription("http://127.0.0.1/x"),
                           headers=gp)
    assert response.status_code == 422
    assert response.json()["issue"][0]["diagnostics"] == "endpoint must be an absolute https URL"


# Endpoints outside development without an allowlist; {port} is a live receiver's port, so
# each form would arrive if the guard let it through. Each: (endpoint, refusal).
INSIDE = {
    "loopback": ("http://127.0.0.1:{port}/hook", egress.AddressRefused),
    "decimal": ("http://2130706433:{port}/hook", egress.AddressRefused),
    "hex": ("http://0x7f000001:{port}/hook", egress.AddressRefused),
    "octal": ("http://0177.0.0.1:{port}/hook", egress.AddressRefused),
    "short": ("http://127.1:{port}/hook", egress.AddressRefused),
    "localhost": ("http://localhost:{port}/hook", egress.AddressRefused),
    "IPv4-mapped IPv6": ("http://[::ffff:127.0.0.1]:{port}/hook", egress.AddressRefused),
    "IPv6 loopback": ("http://[::1]:{port}/hook", egress.AddressRefused),
    "unspecified": ("http://0.0.0.0:{port}/hook", egress.AddressRefused),
    "6to4 of loopback": ("http://[2002:7f00:1::]:{port}/hook", egress.AddressRefused),
    "database port": ("http://localhost:5432/", egress.AddressRefused),
    "private 10/8": ("http://10.0.0.1/hook", egress.AddressRefused),
    "private 192.168/16": ("https://192.168.1.10/hook", egress.AddressRefused),
    "cloud metadata": ("http://169.254.169.254/latest/meta-data/", egress.AddressRefused),
    "IPv6 link-local": ("http://[fe80::1]/hook", egress.AddressRefused),
    "IPv6 unique local": ("http://[fd00:ec2::254]/hook", egress.AddressRefused),
    "multicast": ("http://224.0.0.1/hook", egress.AddressRefused),
    "reserved": ("http://240.0.0.1/hook", egress.AddressRefused),
    "shared address space": ("http://100.64.0.1/hook", egress.AddressRefused),
    "name resolving inside": ("http://intranet.example:{port}/hook", egress.AddressRefused),
    "name resolving to nothing": ("http://nowhere.example/hook", egress.AddressRefused),
    "the gateway itself": ("http://127.0.0.1:8000/console", egress.SelfAddressed),
    "credentials": ("https://user:s3cret@receiver.example/hook", egress.CredentialsInUrl),
}


def _reconfigure(client: TestClient, settings) -> None:  # noqa: ANN001
    """The running app's egress policy after a test changed its settings (it is built once,
    at start-up)."""
    client.app.state.runtime.egress = egress.policy_for(settings)


def _inside_dns(dns: dict[str, list[str]]) -> None:
    dns.update({"intranet.example": ["127.0.0.1"], "nowhere.example": [],
                "receiver.example": [PUBLIC]})


@pytest.mark.parametrize("case", INSIDE, ids=list(INSIDE))
def test_endpoint_inside_is_refused_at_registration(case: str, client: TestClient, gp: dict,
                                                    settings, sessions,  # noqa: ANN001
                                                    dns: dict[str, list[str]]) -> None:
    settings.webhook_allowed_networks = []
    _reconfigure(client, settings)
    _inside_dns(dns)
    endpoint, refusal = INSIDE[case]
    endpoint = endpoint.format(port=9)
    before = row_counts(sessions)
    response = client.post("/fhir/Subscription", headers=gp, json=subscription(endpoint))
    assert response.status_code == 422, response.text
    assert [(i["expression"], i["diagnostics"]) for i in response.json()["issue"]] == \
        [(["Subscription.channel.endpoint"], refusal.reason)]
    assert endpoint.split("//")[1].split("/")[0] not in response.text
    assert row_counts(sessions) == before


@pytest.mark.parametrize("case", INSIDE, ids=list(INSIDE))
def test_endpoint_inside_fails_its_message_at_send_time(case: str, settings, sessions,  # noqa: ANN001
                                                        seeded: None, worker: Worker,
                                                        receiver: WebhookReceiver,
                                                        dns: dict[str, list[str]]) -> None:
    worker.policy = egress.Policy(allow_http=True, allow_internal=False, allowed_networks=(),
                                  own_origins=worker.policy.own_origins)
    _inside_dns(dns)
    endpoint, refusal = INSIDE[case]
    [message_id] = _queue(sessions, endpoint.format(port=receiver.port), [{"n": 1}])
    assert worker.run_once() == 1
    assert _attempts(sessions, message_id) == ("pending", [refusal.__name__])
    assert receiver.received == []


class TestResolvedOnceAndPinned:
    def test_a_name_that_turns_inside_after_registration_is_not_sent(
            self, client: TestClient, gp: dict, team: dict, settings, sessions,  # noqa: ANN001
            receiver: WebhookReceiver, dns: dict[str, list[str]]) -> None:
        settings.webhook_allowed_networks = []
        _, task_id = _referral(client, gp)
        dns["rebind.example"] = [PUBLIC]
        response = client.post("/fhir/Subscription", headers=gp, json=subscription(
            f"http://rebind.example:{receiver.port}/hook"))
        assert response.status_code == 201, response.text
        _accept(client, team, task_id, 1, "accepted")
        dns["rebind.example"] = [PUBLIC, "127.0.0.1"]  # one inside address is enough
        worker = Worker(sessions, settings, jitter=lambda: 1.0)
        assert worker.run_once() == 1
        worker.client.close()
        with sessions() as session:
            message_id = session.scalars(select(OutboxMessage.id)).one()
        assert _attempts(sessions, message_id) == ("pending", ["AddressRefused"])
        assert receiver.received == []

    def test_sent_to_the_checked_address_with_the_name_as_host(
            self, seeded: None, sessions, worker: Worker,  # noqa: ANN001
            receiver: WebhookReceiver, dns: dict[str, list[str]],
            monkeypatch: pytest.MonkeyPatch) -> None:
        dns["receiver.example"] = ["127.0.0.1"]  # no system resolver knows this name
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
        [message_id] = _queue(sessions, f"http://receiver.example:{receiver.port}/hook",
                              [{"n": 1}])
        assert worker.run_once() == 1
        assert _attempts(sessions, message_id) == ("delivered", [None])
        assert [(r.headers["Host"], _n(r.body)) for r in receiver.received] == \
            [(f"receiver.example:{receiver.port}", 1)]

    @pytest.mark.parametrize("name,delivered", [("receiver.example", True),
                                                ("impostor.example", False)])
    def test_tls_name_and_certificate_check_use_the_name(
            self, name: str, delivered: bool, seeded: None, sessions, settings,  # noqa: ANN001
            dns: dict[str, list[str]], clock: time_machine.Traveller) -> None:
        certificate = Certificate.for_name("receiver.example")
        receiver = WebhookReceiver(certificate=certificate).start()
        dns.update({"receiver.example": ["127.0.0.1"], "impostor.example": ["127.0.0.1"]})
        worker = Worker(sessions, settings, client=httpx.Client(
            verify=certificate.client_context(), trust_env=False))
        try:
            [message_id] = _queue(sessions, f"https://{name}:{receiver.port}/hook", [{"n": 1}])
            worker.run_once()
        finally:
            worker.client.close()
            receiver.stop()
        assert receiver.server_names == [name]
        assert _attempts(sessions, message_id) == (
            ("delivered", [None]) if delivered else ("pending", ["ConnectError"]))
        assert [r.headers["Host"] for r in receiver.received] == \
            ([f"receiver.example:{receiver.port}"] if delivered else [])

    def test_https_keeps_the_name_for_sni_and_certificate_checks(self) -> None:
        target = egress.parse_target("https://receiver.example/hook?x=1", _policy())
        request = egress.pinned_request(httpx.Client(), egress.Destination(
            target, ip_address(PUBLIC)), {"X-A": "1"}, b"{}")
        assert (str(request.url), request.headers["Host"], request.headers["X-A"]) == \
            (f"https://{PUBLIC}/hook?x=1", "receiver.example", "1")
        assert request.extensions["sni_hostname"] == "receiver.example"

    def test_ipv6_address_is_bracketed_and_port_kept(self) -> None:
        target = egress.parse_target("http://receiver.example:8080/hook", _policy())
        request = egress.pinned_request(httpx.Client(), egress.Destination(
            target, ip_address("2001:4860::1")), {}, b"{}")
        assert (str(request.url), request.headers["Host"], "sni_hostname" in
                request.extensions) == ("http://[2001:4860::1]:8080/hook",
                                        "receiver.example:8080", False)


def _policy() -> egress.Policy:
    return egress.Policy(allow_http=True, allow_internal=False, allowed_networks=(),
                         own_origins=frozenset())


class TestAllowedInside:
    def test_allowlisted_network_is_accepted(self, client: TestClient, gp: dict,
                                             settings) -> None:  # noqa: ANN001
        settings.webhook_allowed_networks = [ip_network("10.20.0.0/16")]
        _reconfigure(client, settings)
        accepted = client.post("/fhir/Subscription", headers=gp,
                               json=subscription("http://10.20.3.4:8080/hook"))
        refused = client.post("/fhir/Subscription", headers=gp,
                              json=subscription("http://10.21.3.4:8080/hook"))
        assert (accepted.status_code, refused.status_code) == (201, 422)

    def test_development_keeps_loopback_but_not_credentials(self, client: TestClient,
                                                            gp: dict, settings) -> None:  # noqa: ANN001
        settings.environment = Environment.DEVELOPMENT
        settings.webhook_allowed_networks = []
        _reconfigure(client, settings)
        loopback = client.post("/fhir/Subscription", headers=gp,
                               json=subscription("http://localhost:9/hook"))
        credentials = client.post("/fhir/Subscription", headers=gp,
                                  json=subscription("http://user:pw@localhost:9/hook"))
        own = client.post("/fhir/Subscription", headers=gp,
                          json=subscription("http://127.0.0.1:8000/console"))
        assert (loopback.status_code, credentials.status_code, own.status_code) == \
            (201, 422, 422)


class Cycles:
    """A stop signal for ``run_forever``: set after ``idle`` idle waits; each moves the clock
    an hour on, so retries come due without real waiting."""

    def __init__(self, idle: int, clock: time_machine.Traveller) -> None:
        self.idle, self.clock, self.waits = idle, clock, 0

    def is_set(self) -> bool:
        return self.waits >= self.idle

    def wait(self, _timeout: float) -> bool:
        self.waits += 1
        self.clock.shift(timedelta(hours=1))
        return False


class TestOneMessageNeverStopsDelivery:
    # Isolation is the worker's, not the store's: SQLite only keeps this test to seconds (the
    # claim and record paths run on PostgreSQL in every other test here).
    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    def test_poisoned_message_among_a_thousand(self, seeded: None, sessions, worker: Worker,  # noqa: ANN001
                                               receiver: WebhookReceiver,
                                               clock: time_machine.Traveller,
                                               log_stream: io.StringIO) -> None:
        good = _queue(sessions, receiver.url, [{"n": n} for n in range(500)])
        # stored before headers were checked at registration: httpx cannot even encode it
        [poisoned] = _queue(sessions, receiver.url, [{"n": -1}], headers={"X-B": "café"})
        good += _queue(sessions, receiver.url, [{"n": n} for n in range(500, 1000)])
        worker.run_forever(Cycles(idle=3, clock=clock))  # two retries an hour apart, then dead
        assert sorted(_n(r.body) for r in receiver.received) == list(range(1000))
        assert _attempts(sessions, poisoned) == ("dead", ["InvalidHeader"] * 3)
        with sessions() as session:
            statuses = session.scalars(select(OutboxMessage.status).where(
                OutboxMessage.id.in_(good))).all()
        assert statuses == ["delivered"] * 1000
        assert "caf" not in log_stream.getvalue()  # the class is logged, never the value

    @pytest.mark.parametrize("fault", [RuntimeError, UnicodeEncodeError, httpx.ReadError],
                             ids=["RuntimeError", "UnicodeEncodeError", "ReadError"])
    def test_a_fault_in_the_transport_fails_that_message(self, fault: type[Exception],
                                                         seeded: None, sessions,  # noqa: ANN001
                                                         settings,  # noqa: ANN001
                                                         clock: time_machine.Traveller) -> None:
        def transport(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/poison":
                raise (fault("ascii", "é", 0, 1, "x") if fault is UnicodeEncodeError
                       else fault("x"))
            return httpx.Response(204)

        worker = Worker(sessions, settings, jitter=lambda: 1.0,
                        client=httpx.Client(transport=httpx.MockTransport(transport)))
        [bad] = _queue(sessions, "http://127.0.0.1:1/poison", [{"n": 0}])
        [ok] = _queue(sessions, "http://127.0.0.1:1/ok", [{"n": 1}])
        assert worker.run_once() == 2
        assert (_attempts(sessions, bad), _attempts(sessions, ok)) == \
            (("pending", [fault.__name__]), ("delivered", [None]))

    def test_a_payload_that_cannot_be_serialised_fails_that_message(
            self, seeded: None, sessions, worker: Worker,  # noqa: ANN001
            receiver: WebhookReceiver) -> None:
        [bad, ok] = _queue(sessions, receiver.url, [{"n": 2**70}, {"n": 1}])  # orjson: 64 bits
        assert worker.run_once() == 2
        assert (_attempts(sessions, bad), _attempts(sessions, ok)) == \
            (("pending", ["TypeError"]), ("delivered", [None]))  # orjson raises TypeError
        assert [_n(r.body) for r in receiver.received] == [1]

    def test_the_loop_outlives_a_failed_cycle(self, seeded: None, sessions,  # noqa: ANN001
                                              worker: Worker, receiver: WebhookReceiver,
                                              clock: time_machine.Traveller,
                                              log_stream: io.StringIO,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
        claim, calls = worker._claim, []

        def flaky_claim() -> list[int]:
            calls.append(1)
            if len(calls) == 1:
                raise OperationalError("SELECT", {}, Exception("database is away"))
            return claim()

        monkeypatch.setattr(worker, "_claim", flaky_claim)
        _queue(sessions, receiver.url, [{"n": 1}])
        worker.run_forever(Cycles(idle=2, clock=clock))
        assert [_n(r.body) for r in receiver.received] == [1]
        failed = [(e["level"], e["error_type"]) for e in map(
            json.loads, log_stream.getvalue().splitlines()) if e["event"] == "worker_cycle_failed"]
        assert failed == [("error", "OperationalError")]


def _trickle(release: threading.Event) -> type[http.server.BaseHTTPRequestHandler]:
    """A receiver that answers 200, then holds the body back until ``release`` is set."""

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            release.wait(timeout=30)

        def log_message(self, *args: object) -> None:
            return None

    return Trickle


def test_a_receiver_that_holds_its_body_back_does_not_hold_the_worker(
        sessions, seeded: None, worker: Worker) -> None:  # noqa: ANN001
    """The status line is the answer: the worker never waits for the body."""
    release = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _trickle(release))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        [message_id] = _queue(sessions, f"http://127.0.0.1:{server.server_port}/hook",
                              [{"n": 1}])
        assert worker.run_once() == 1  # the receiver holds its body back until `finally`
        assert _attempts(sessions, message_id) == ("delivered", [None])
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_a_subscription_posted_off_stays_off(client: TestClient, gp: dict, team: dict,
                                             receiver: WebhookReceiver, sessions) -> None:  # noqa: ANN001
    _, task_id = _referral(client, gp)
    created = client.post("/fhir/Subscription", headers=gp,
                          json={**subscription(receiver.url), "status": "off"})
    assert (created.status_code, created.json()["status"]) == (201, "off")
    _accept(client, team, task_id, 1, "accepted")
    assert row_counts(sessions)["outbox"] == 0  # nothing queued for it


def _secret(settings) -> str:  # noqa: ANN001
    return webhook_secret(settings.secret_key, "demo-huisarts")


class TestRestHookStyles:
    """R4B rest-hooks: the resource PUT at its own URL under the endpoint with a payload, a
    bodyless POST without; signed either way. Subscriptions stored before 0009 keep POSTing."""

    def test_with_a_payload_the_resource_is_put_at_its_url(self, client: TestClient, gp: dict,
                                                           team: dict, settings,  # noqa: ANN001
                                                           receiver: WebhookReceiver,
                                                           worker: Worker) -> None:
        _, task_id = _referral(client, gp)
        client.post("/fhir/Subscription", headers=gp, json=subscription(receiver.url))
        _accept(client, team, task_id, 1, "accepted")
        assert worker.run_once() == 1
        [put] = receiver.received
        assert (put.method, put.path) == ("PUT", f"/hook/Task/{task_id}")
        assert put.headers["Content-Type"] == "application/fhir+json"
        assert put.headers["X-Wijkgateway-Event"] == "nl.wijkgateway.referral.accepted"
        task = put.verified(_secret(settings))
        assert (task["resourceType"], task["id"], task["status"]) == ("Task", task_id, "accepted")

    def test_without_a_payload_a_post_without_a_body(self, client: TestClient, gp: dict,
                                                     team: dict, settings,  # noqa: ANN001
                                                     receiver: WebhookReceiver,
                                                     worker: Worker) -> None:
        _, task_id = _referral(client, gp)
        body = subscription(receiver.url)
        del body["channel"]["payload"]
        created = client.post("/fhir/Subscription", headers=gp, json=body)
        assert created.status_code == 201, created.text
        assert created.json()["channel"] == {"type": "rest-hook", "endpoint": receiver.url}
        _accept(client, team, task_id, 1, "accepted")
        assert worker.run_once() == 1
        [post] = receiver.received
        assert (post.method, post.path, post.body) == ("POST", "/hook", b"")
        assert post.headers["Content-Length"] == "0"
        assert "Content-Type" not in post.headers
        assert post.headers["X-Wijkgateway-Event"] == "nl.wijkgateway.referral.accepted"
        assert post.verified(_secret(settings)) is None  # signed over the empty body
        tampered = type(post)(post.headers, b"{}")
        with pytest.raises(WebhookVerificationError):
            tampered.verified(_secret(settings))

    def test_a_subscription_from_before_0009_keeps_its_post(self, client: TestClient, gp: dict,
                                                            sessions, settings,  # noqa: ANN001
                                                            receiver: WebhookReceiver,
                                                            worker: Worker) -> None:
        [message_id] = _queue(sessions, receiver.url, [{"resourceType": "Task", "id": "0"}])
        assert worker.run_once() == 1
        [post] = receiver.received
        assert (post.method, post.path) == ("POST", "/hook")
        assert post.verified(_secret(settings)) == _task({"resourceType": "Task", "id": "0"})
        with sessions() as session:
            sub_id = session.get(OutboxMessage, message_id).subscription_id
        channel = client.get(f"/fhir/Subscription/{sub_id}", headers=gp).json()["channel"]
        assert channel["extension"] == [{
            "url": "https://wijkgateway.nl/fhir/StructureDefinition/notification-style",
            "valueCode": "post-resource"}]

    @pytest.mark.parametrize("extension_kept,style", [(True, "post-resource"),
                                                      (False, "put-resource")])
    def test_a_put_moves_it_to_r4b_only_without_the_extension(
            self, client: TestClient, gp: dict, sessions,  # noqa: ANN001
            receiver: WebhookReceiver, extension_kept: bool, style: str) -> None:
        """A client that changes one element of the Subscription as read keeps its POST."""
        [message_id] = _queue(sessions, receiver.url, [{"resourceType": "Task", "id": "0"}])
        with sessions() as session:
            sub_id = session.get(OutboxMessage, message_id).subscription_id
        current = client.get(f"/fhir/Subscription/{sub_id}", headers=gp).json()
        if not extension_kept:
            del current["channel"]["extension"]
        put = client.put(f"/fhir/Subscription/{sub_id}", headers=gp,
                         json={**current, "reason": "andere reden"})
        assert put.status_code == 200, put.text
        assert ("extension" in put.json()["channel"]) is extension_kept
        with sessions() as session:
            assert session.get(SubscriptionRow, sub_id).notification_style == style

    def test_the_derived_url_is_checked_at_send_time(self, sessions, seeded: None,  # noqa: ANN001
                                                     worker: Worker, receiver: WebhookReceiver,
                                                     dns: dict[str, list[str]]) -> None:
        worker.policy = egress.Policy(allow_http=True, allow_internal=False, allowed_networks=(),
                                      own_origins=worker.policy.own_origins)
        dns["intranet.example"] = ["127.0.0.1"]
        [message_id] = _queue(sessions, f"http://intranet.example:{receiver.port}/hook",
                              [{"n": 1}], style="put-resource")
        assert worker.run_once() == 1
        assert _attempts(sessions, message_id) == ("pending", ["AddressRefused"])
        assert receiver.received == []


@pytest.mark.parametrize("error,attempts,reason", [
    ("http_500", 8, "endpoint answered 500 on 8 attempts"),
    ("http_404", 1, "endpoint answered 404 on 1 attempt"),
    ("timeout", 3, "endpoint did not answer in time on 3 attempts"),
    ("AddressRefused", 3, "delivery failed (AddressRefused) on 3 attempts"),
])
def test_failure_reason(error: str, attempts: int, reason: str) -> None:
    assert failure_reason(error, attempts) == reason


class TestSubscriptionError:
    def _dead(self, client: TestClient, gp: dict, team: dict, receiver: WebhookReceiver,
              worker: Worker, clock: time_machine.Traveller) -> tuple[str, str]:
        """A subscription whose one message died (3 attempts, the test settings' limit)."""
        _, task_id = _referral(client, gp)
        sub = client.post("/fhir/Subscription", headers=gp,
                          json=subscription(receiver.url)).json()
        _accept(client, team, task_id, 1, "accepted")
        receiver.status_code = 500
        for _ in range(3):
            assert worker.run_once() == 1
            clock.shift(timedelta(hours=1))
        for headers in (gp, team):  # the tokens expired meanwhile
            client_id = "demo-huisarts" if headers is gp else "demo-wijkteam-noord"
            headers.update(bearer(client, client_id))
        return sub["id"], task_id

    def test_a_dead_letter_moves_it_to_error_with_the_reason(
            self, client: TestClient, gp: dict, team: dict, receiver: WebhookReceiver,
            worker: Worker, clock: time_machine.Traveller, sessions,  # noqa: ANN001
            log_stream: io.StringIO) -> None:
        sub_id, task_id = self._dead(client, gp, team, receiver, worker, clock)
        read = client.get(f"/fhir/Subscription/{sub_id}", headers=gp)
        resource = read.json()
        assert (resource["status"], resource["error"], resource["meta"]["versionId"]) == \
            ("error", "endpoint answered 500 on 3 attempts", "2")
        assert read.headers["ETag"] == 'W/"2"'
        Subscription.model_validate(resource)  # valid R4B
        before = row_counts(sessions)["outbox"]
        _accept(client, team, task_id, 2, "in-progress")
        assert row_counts(sessions)["outbox"] == before  # R4B: no notifications in error
        events = [e for e in map(json.loads, log_stream.getvalue().splitlines())
                  if e["event"] == "subscription_error"]
        assert [(e["subscription_id"], e["client_id"]) for e in events] == \
            [(sub_id, "demo-huisarts")]

    def test_a_successful_replay_makes_it_active_again(
            self, client: TestClient, gp: dict, team: dict, receiver: WebhookReceiver,
            worker: Worker, clock: time_machine.Traveller, sessions) -> None:  # noqa: ANN001
        sub_id, _ = self._dead(client, gp, team, receiver, worker, clock)
        receiver.status_code = 204
        with sessions.begin() as session:
            message_id = session.scalars(select(OutboxMessage.id)).one()
            replay(session, message_id)
        assert worker.run_once() == 1
        resource = client.get(f"/fhir/Subscription/{sub_id}", headers=gp).json()
        assert (resource["status"], resource.get("error"), resource["meta"]["versionId"]) == \
            ("active", None, "3")

    def test_a_deleted_subscription_does_not_come_back(
            self, client: TestClient, gp: dict, team: dict, receiver: WebhookReceiver,
            worker: Worker, clock: time_machine.Traveller, sessions) -> None:  # noqa: ANN001
        _, task_id = _referral(client, gp)
        sub = client.post("/fhir/Subscription", headers=gp,
                          json=subscription(receiver.url)).json()
        _accept(client, team, task_id, 1, "accepted")
        assert client.delete(f"/fhir/Subscription/{sub['id']}", headers=gp).status_code == 204
        worker.run_once()
        with sessions() as session:
            row = session.get(SubscriptionRow, sub["id"])
            assert (row.status, row.error) == ("off", None)
        assert receiver.received == []

    def test_one_in_error_is_still_listed(
            self, client: TestClient, gp: dict, team: dict, receiver: WebhookReceiver,
            worker: Worker, clock: time_machine.Traveller) -> None:
        sub_id, _ = self._dead(client, gp, team, receiver, worker, clock)
        bundle = client.get("/fhir/Subscription", headers=gp).json()
        assert [(e["resource"]["id"], e["resource"]["status"]) for e in bundle["entry"]] == \
            [(sub_id, "error")]

    def test_the_client_puts_it_back_to_requested(
            self, client: TestClient, gp: dict, team: dict, receiver: WebhookReceiver,
            worker: Worker, clock: time_machine.Traveller, sessions) -> None:  # noqa: ANN001
        sub_id, task_id = self._dead(client, gp, team, receiver, worker, clock)
        current = client.get(f"/fhir/Subscription/{sub_id}", headers=gp).json()
        body = {**current, "status": "requested"}
        del body["error"]
        put = client.put(f"/fhir/Subscription/{sub_id}", json=body,
                         headers={**gp, "If-Match": 'W/"2"'})
        assert put.status_code == 200, put.text
        assert (put.json()["status"], put.json().get("error"), put.headers["ETag"]) == \
            ("active", None, 'W/"3"')
        receiver.status_code = 204
        _accept(client, team, task_id, 2, "in-progress")  # notified again
        assert worker.run_once() == 1
        assert [r.verified(_secret(client.app.state.runtime.settings))["status"]
                for r in receiver.received] == ["in-progress"]
        versions = client.get(f"/fhir/Subscription/{sub_id}/_history", headers=gp).json()
        assert [e["resource"]["status"] for e in versions["entry"]] == \
            ["active", "error", "active"]


class TestSubscriptionUpdate:
    @pytest.fixture
    def created(self, client: TestClient, gp: dict, receiver: WebhookReceiver) -> dict:
        return client.post("/fhir/Subscription", headers=gp,
                           json=subscription(receiver.url)).json()

    @pytest.mark.parametrize("change,status,code,message,expression", [
        ({"status": "error"}, 422, "processing",
         "status 'error' is set by the gateway when deliveries fail; send 'requested' to "
         "start notifications, 'off' to stop them", "Subscription.status"),
        ({"id": "another"}, 400, "invalid", "the body's id must be the id in the URL",
         "Subscription.id"),
        ({"channel": {"type": "rest-hook", "endpoint": "ftp://127.0.0.1/x"}}, 422,
         "processing", "endpoint must be an absolute https or http URL",
         "Subscription.channel.endpoint"),
    ])
    def test_bad_update_is_refused_and_changes_nothing(
            self, created: dict, client: TestClient, gp: dict, sessions,  # noqa: ANN001
            change: dict, status: int, code: str, message: str, expression: str) -> None:
        before = row_counts(sessions)
        response = client.put(f"/fhir/Subscription/{created['id']}", json={**created, **change},
                              headers=gp)
        issue = response.json()["issue"][0]
        assert (response.status_code, issue["code"], issue["diagnostics"],
                issue["expression"]) == (status, code, message, [expression])
        assert row_counts(sessions) == before
        assert client.get(f"/fhir/Subscription/{created['id']}",
                          headers=gp).json() == created

    def test_stale_if_match_is_412(self, created: dict, client: TestClient, gp: dict) -> None:
        response = client.put(f"/fhir/Subscription/{created['id']}", json=created,
                              headers={**gp, "If-Match": 'W/"7"'})
        assert (response.status_code, response.json()["issue"][0]["diagnostics"]) == \
            (412, "the resource changed: current version is 1")

    def test_someone_elses_is_404_and_a_deleted_one_410(self, created: dict,
                                                         client: TestClient, gp: dict,
                                                         team: dict) -> None:
        url = f"/fhir/Subscription/{created['id']}"
        assert client.put(url, json=created, headers=team).status_code == 404
        assert client.delete(url, headers=gp).status_code == 204
        assert client.put(url, json=created, headers=gp).status_code == 410

    def test_a_put_moves_an_old_subscription_to_r4b(self, client: TestClient, gp: dict,
                                                    sessions, receiver: WebhookReceiver,  # noqa: ANN001
                                                    worker: Worker) -> None:
        [message_id] = _queue(sessions, receiver.url, [{"resourceType": "Task", "id": "0"}])
        with sessions() as session:
            sub_id = session.get(OutboxMessage, message_id).subscription_id
        old = client.get(f"/fhir/Subscription/{sub_id}", headers=gp).json()
        del old["channel"]["extension"]
        assert client.put(f"/fhir/Subscription/{sub_id}", json=old,
                          headers=gp).status_code == 200
        assert worker.run_once() == 1
        assert [(r.method, r.path) for r in receiver.received] == [("PUT", "/hook/Task/0")]


def test_a_stopping_worker_gives_back_the_rest_of_its_batch(
        sessions, settings, seeded: None, receiver: WebhookReceiver,  # noqa: ANN001
        clock: time_machine.Traveller) -> None:
    ids = _queue(sessions, receiver.url, [{"n": n} for n in range(3)])
    stop = threading.Event()
    stopping = Worker(sessions, settings, beat=stop.set)  # SIGTERM during the first message
    assert stopping.run_once(stop) == 1
    stopping.client.close()
    assert [_attempts(sessions, i)[0] for i in ids] == ["delivered", "pending", "pending"]
    other = Worker(sessions, settings)  # no lease to wait for
    assert other.run_once() == 2
    other.client.close()
    assert len(receiver.received) == 3
