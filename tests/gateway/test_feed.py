"""``GET /adapters/{name}/feed``: a system that polls instead of receiving webhooks registers a
feed subscription (``channel.type`` ``message`` without an endpoint); its notices wait in its
feed, are decided again and rendered by its adapter when read, exactly as a webhook would be,
and are never pushed by the worker. Bad input is a 400 naming the parameter, never echoing it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters import get_adapter
from gateway.auth.scopes import SCOPE_SUBSCRIPTION_WRITE, adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.delivery.feed import decode_cursor, encode_cursor
from gateway.delivery.worker import Worker, replay
from gateway.outbox.feed import Position
from gateway.platform.db.models import FeedEntry, OutboxMessage, ProcessingLogEntry
from gateway.platform.errors import BadRequest
from gateway.platform.settings import Settings
from tests.conftest import add_test_client, bearer, involve
from tests.support.samples import VALID_BSNS, consent_resource, patient, service_request

RECORDS = "menscentraal-feed"
FEED = "/adapters/menscentraal/feed"
FEED_SUBSCRIPTION = {"resourceType": "Subscription", "status": "requested",
                     "reason": "notices for the adult records", "criteria": "ServiceRequest",
                     "channel": {"type": "message"}}


@pytest.fixture
def records(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    """The adult records of wijkteam-noord, reading new referrals from its feed."""
    with sessions.begin() as session:
        add_test_client(session, "Volwassenen (feed)",
                        [SCOPE_SUBSCRIPTION_WRITE, adapter_scope("menscentraal")],
                        client_id=RECORDS, secret=demo_secret(RECORDS),
                        team_id="wijkteam-noord", system="menscentraal")
    headers = bearer(client, RECORDS)
    created = client.post("/fhir/Subscription", json=FEED_SUBSCRIPTION,
                          headers={**headers, "Content-Type": "application/fhir+json"})
    assert created.status_code == 201, created.text
    assert created.json()["channel"] == {"type": "message"}
    return headers


def _refer(client: TestClient, gp: dict[str, str], **traits: Any) -> str:
    response = client.post("/fhir/ServiceRequest", json=service_request(**traits), headers=gp)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _read(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = client.get(FEED, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _statuses(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


def test_a_notice_waits_in_the_feed_in_the_systems_format(
        client: TestClient, gp: dict[str, str], records: dict[str, str],
        sessions: sessionmaker[Session], settings: Settings) -> None:
    sr_id = _refer(client, gp, consent="self")
    worker = Worker(sessions, settings)
    assert worker.run_once() == 0  # never pushed
    worker.client.close()
    assert _statuses(sessions) == ["feed"]
    page = _read(client, records)
    [entry] = page["entries"]
    assert entry["notice"] == {
        "soort": "verwijzing", "gebeurtenis": "nl.wijkgateway.referral.received",
        "verwijzingId": sr_id, "status": "active", "team": "wijkteam-noord"}
    get_adapter("menscentraal").check_outbound(entry["notice"])
    assert (entry["event"], entry["resource"], entry["mediaType"]) == (
        "nl.wijkgateway.referral.received", f"ServiceRequest/{sr_id}", "application/json")
    again = _read(client, records, after=page["next"])
    assert again == {"entries": [], "next": page["next"]}  # nothing new: the same cursor
    assert _read(client, records)["entries"] == [entry]  # from the start again: still there


def test_an_xml_system_reads_its_notice_as_the_xml_its_xsd_accepts(
        client: TestClient, gp: dict[str, str], sessions: sessionmaker[Session]) -> None:
    """The youth dossier polls too: its notice is the XML document, as a string in the entry,
    with its media type."""
    with sessions.begin() as session:
        add_test_client(session, "Jeugddossier (feed)",
                        [SCOPE_SUBSCRIPTION_WRITE, adapter_scope("zcd")], client_id="zcd-feed",
                        secret=demo_secret("zcd-feed"), team_id="wijkteam-noord", system="zcd")
    headers = bearer(client, "zcd-feed")
    assert client.post("/fhir/Subscription", json=FEED_SUBSCRIPTION, headers={
        **headers, "Content-Type": "application/fhir+json"}).status_code == 201
    sr_id = _refer(client, gp, consent="self")
    answer = client.get("/adapters/zcd/feed", headers=headers)
    assert answer.status_code == 200, answer.text
    [entry] = answer.json()["entries"]
    assert entry["mediaType"] == "application/xml"
    get_adapter("zcd").check_outbound(entry["notice"].encode())
    assert sr_id in entry["notice"] and VALID_BSNS[0] not in entry["notice"]


def test_pages_follow_the_cursor_oldest_first(client: TestClient, gp: dict[str, str],
                                              records: dict[str, str]) -> None:
    sent = [_refer(client, gp, consent="self", identifier=f"r-{i}") for i in range(3)]
    seen, cursor = [], None
    for _ in range(3):
        page = _read(client, records, limit=1, **({"after": cursor} if cursor else {}))
        seen += [entry["notice"]["verwijzingId"] for entry in page["entries"]]
        cursor = page["next"]
    assert seen == sent
    assert _read(client, records, after=cursor)["entries"] == []
    later = _refer(client, gp, consent="self", identifier="r-3")
    assert [e["notice"]["verwijzingId"] for e in _read(client, records, after=cursor)[
        "entries"]] == [later]


def test_a_consent_revoked_since_skips_the_entry_as_a_webhook_would_be(
        client: TestClient, gp: dict[str, str], team: dict[str, str],
        records: dict[str, str], sessions: sessionmaker[Session]) -> None:
    _refer(client, gp, consent="self")
    given = client.get("/fhir/Consent", headers=team).json()["entry"][0]["resource"]
    assert client.put(f"/fhir/Consent/{given['id']}", json={**given, "status": "inactive"},
                      headers=team).status_code == 200
    page = _read(client, records)
    assert page["entries"] == []
    assert page["next"] != encode_cursor(Position(0, 0))  # past the withheld entry
    assert _statuses(sessions) == ["withheld"]
    with sessions() as session:
        actions = list(session.scalars(select(ProcessingLogEntry.action)))
    assert "delivery.withheld_at_send" in actions


def test_a_consent_recorded_later_puts_the_withheld_notice_in_the_feed(
        client: TestClient, gp: dict[str, str], team: dict[str, str],
        records: dict[str, str], sessions: sessionmaker[Session]) -> None:
    involve(client, VALID_BSNS[0])
    person = client.post("/fhir/Patient", json=patient(VALID_BSNS[0]), headers=team).json()
    sr_id = _refer(client, gp, bsn=VALID_BSNS[0])
    assert _statuses(sessions) == ["withheld"]
    page = _read(client, records)
    assert page["entries"] == []
    given = consent_resource(f"Patient/{person['id']}", organization="wijkteam-noord")
    assert client.post("/fhir/Consent", json=given, headers=team).status_code == 201
    assert _statuses(sessions) == ["feed"]
    [entry] = _read(client, records, after=page["next"])["entries"]
    assert entry["notice"]["verwijzingId"] == sr_id
    with sessions.begin() as session, pytest.raises(LookupError, match="feed"):
        replay(session, session.scalars(select(OutboxMessage.id)).one())


def test_a_dead_feed_message_replayed_is_in_the_feed_again(
        client: TestClient, gp: dict[str, str], records: dict[str, str],
        sessions: sessionmaker[Session]) -> None:
    _refer(client, gp, consent="self")
    with sessions.begin() as session:
        message = session.scalars(select(OutboxMessage)).one()
        message.status = "dead"
    cursor = _read(client, records)["next"]
    with sessions.begin() as session:
        replay(session, session.scalars(select(OutboxMessage.id)).one())
    assert _statuses(sessions) == ["feed"]
    assert len(_read(client, records, after=cursor)["entries"]) == 1
    with sessions() as session:
        assert len(session.scalars(select(FeedEntry)).all()) == 2


def test_a_feed_subscription_has_no_endpoint(client: TestClient,
                                             records: dict[str, str]) -> None:
    headers = {**records, "Content-Type": "application/fhir+json"}
    for element, value in (("endpoint", "https://r.example/hook"),
                           ("payload", "application/fhir+json"), ("header", ["X-A: b"])):
        answer = client.post("/fhir/Subscription", headers=headers, json={
            **FEED_SUBSCRIPTION, "channel": {"type": "message", element: value}})
        assert answer.status_code == 422, answer.text
        assert answer.json()["issue"][0]["expression"] == [f"Subscription.channel.{element}"]
    email = client.post("/fhir/Subscription", headers=headers,
                        json={**FEED_SUBSCRIPTION, "channel": {"type": "email"}})
    assert email.json()["issue"][0]["expression"] == ["Subscription.channel.type"]


def test_only_a_client_that_can_read_a_feed_gets_one(client: TestClient) -> None:
    """A FHIR client (gp-referral: no adapter endpoint) has no feed to read: its notices would
    wait for nobody."""
    answer = client.post("/fhir/Subscription", json={**FEED_SUBSCRIPTION, "criteria": "Task"},
                         headers={**bearer(client, "demo-huisarts"),
                                  "Content-Type": "application/fhir+json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["issue"][0]["expression"] == ["Subscription.channel.type"]


@pytest.mark.parametrize(("query", "named"), [
    ("after=%25%25%25", "after"),
    ("after=" + encode_cursor(Position(0, 0))[:-1] + "x", "after"),
    ("after=" + encode_cursor(Position(7, 999)), "after"),  # well-formed, never handed out
    ("after=bm90LWEtY3Vyc29y", "after"),  # base64 of something else
    ("after=MC4x%21%21", "after"),  # a cursor with characters outside base64url
    ("after=MC4x%3D%3D", "after"),  # ... or padded, as the feed never gives it
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"), ("limit=-1", "limit"),
    ("limit=%D9%A3", "limit"),  # a non-ASCII digit
    ("limit=1&limit=2", "limit"),
    ("secret-value=1", "secret-value"),
])
def test_bad_input_is_a_400_naming_the_parameter(client: TestClient, records: dict[str, str],
                                                 query: str, named: str) -> None:
    answer = client.get(f"{FEED}?{query}", headers=records)
    assert answer.status_code == 400, answer.text
    [issue] = answer.json()["issue"]
    assert issue["expression"] == [named]
    value = query.split("=", 1)[1]
    assert value not in answer.text or len(value) == 1


def test_an_unknown_cursor_of_another_client_is_refused(
        client: TestClient, gp: dict[str, str], records: dict[str, str],
        sessions: sessionmaker[Session]) -> None:
    _refer(client, gp, consent="self")
    theirs = _read(client, records)["next"]
    other = "menscentraal-other"
    with sessions.begin() as session:
        add_test_client(session, "Another system", [adapter_scope("menscentraal")],
                        client_id=other, secret=demo_secret(other), system="menscentraal")
    answer = client.get(FEED, params={"after": theirs}, headers=bearer(client, other))
    assert answer.status_code == 400
    assert _read(client, bearer(client, other)) == {
        "entries": [], "next": encode_cursor(Position(0, 0))}


def test_the_scope_and_the_acting_person_are_required(client: TestClient,
                                                      records: dict[str, str]) -> None:
    assert client.get(FEED, headers=bearer(client, "demo-huisarts")).status_code == 403
    system_only = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(RECORDS, demo_secret(RECORDS)))
    answer = client.get(FEED, headers={
        "Authorization": f"Bearer {system_only.json()['access_token']}"})
    assert answer.status_code == 403
    assert client.get(FEED).status_code == 401


def test_a_status_change_reaches_a_feed_subscribed_to_tasks(
        client: TestClient, gp: dict[str, str], team: dict[str, str],
        records: dict[str, str]) -> None:
    created = client.post("/fhir/Subscription", json={**FEED_SUBSCRIPTION, "criteria": "Task"},
                          headers={**records, "Content-Type": "application/fhir+json"})
    assert created.status_code == 201, created.text
    sr_id = _refer(client, gp, consent="self")
    task = client.get(f"/fhir/Task?focus=ServiceRequest/{sr_id}", headers=gp).json()
    task_id = task["entry"][0]["resource"]["id"]
    moved = client.patch(f"/fhir/Task/{task_id}", headers={
        **team, "Content-Type": "application/json-patch+json", "If-Match": 'W/"1"'},
        json=[{"op": "replace", "path": "/status", "value": "accepted"}])
    assert moved.status_code == 200, moved.text
    notices = [entry["notice"] for entry in _read(client, records)["entries"]]
    assert [(n["soort"], n["verwijzingId"], n["status"]) for n in notices] == [
        ("verwijzing", sr_id, "active"), ("verwijzingstatus", sr_id, "accepted")]
    for notice in notices:
        get_adapter("menscentraal").check_outbound(notice)


def test_a_cursor_is_read_exactly_as_it_was_given() -> None:
    position = Position(2**40, 17)
    assert decode_cursor(encode_cursor(position)) == position
    for bad in (encode_cursor(position) + "!", encode_cursor(position) + "=", "MDEuMQ",
                "LTEuMQ", "", "é" * 8, "A" * 100):  # "01.1", "-1.1": not as the feed writes
        with pytest.raises(BadRequest):
            decode_cursor(bad)
