"""A connected system's own messages at ``POST /adapters/{name}/messages`` (the fake registry
system): each passes the named stages, changes what it says once (a replayed message id
changes nothing), and bad input is a 4xx naming the element that changes nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.app import create_app
from gateway.auth.scopes import adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.platform.db.models import IdentityReview, InboundMessage, Involvement, Person
from tests.conftest import add_test_client, bearer, row_counts
from tests.support.samples import VALID_BSNS

URL = "/adapters/fake/messages"
REGISTRY = "fake-registry"  # the fake system's client, for wijkteam-zuid
MOTHER = {"bsn": VALID_BSNS[0], "familyName": "Jansen", "givenName": "Anna",
          "birthDate": "1988-03-04", "postcode": "1234AB"}


@pytest.fixture
def registry(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    """Headers of the fake registry system's client (its scope, the youth team)."""
    with sessions.begin() as session:
        add_test_client(session, "Fake registry", [adapter_scope("fake")], client_id=REGISTRY,
                        secret=demo_secret(REGISTRY), team_id="wijkteam-zuid", system="fake")
    return bearer(client, REGISTRY)


def _send(client: TestClient, headers: dict[str, str], message: dict[str, Any]) -> Any:
    return client.post(URL, content=json.dumps(message),
                       headers={**headers, "Content-Type": "application/json"})


def _events(log_stream: io.StringIO, event: str) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, log_stream.getvalue().splitlines())
            if e["event"] == event]


def test_register_person_then_replay_changes_nothing(client: TestClient,
                                                     registry: dict[str, str],
                                                     sessions: sessionmaker[Session],
                                                     log_stream: io.StringIO) -> None:
    message = {"kind": "register-person", "id": "m-1", "person": MOTHER}
    first = _send(client, registry, message)
    assert first.status_code == 201, first.text
    assert first.json() == {"message": "m-1", "kind": "register-person",
                            "person": first.json()["person"], "reviews": []}
    assert first.json()["person"].startswith("Patient/")
    counts = row_counts(sessions)
    again = _send(client, registry, message)
    assert (again.status_code, again.json()) == (200, first.json())
    assert row_counts(sessions) == counts
    [done, replayed] = _events(log_stream, "inbound_done")
    assert (done["adapter"], done["transport"], done["outcome"], done["stages"]) == \
        ("fake", "http", "applied", "receive,decode,parse,identify,decide,persist")
    assert (replayed["outcome"], replayed["stages"]) == ("replayed", "receive,decode,parse")
    assert "Jansen" not in log_stream.getvalue() and VALID_BSNS[0] not in log_stream.getvalue()
    metrics = client.get("/metrics").text
    assert 'wijkgateway_inbound_messages_total{outcome="applied",stage="persist",' \
           'system="fake",transport="http"} 1.0' in metrics


def test_the_same_person_by_bsn_is_one_person(client: TestClient,
                                              registry: dict[str, str]) -> None:
    by_bsn = _send(client, registry, {"kind": "register-person", "id": "m-1", "person": MOTHER})
    with_local = _send(client, registry, {"kind": "register-person", "id": "m-2",
                                          "person": {**MOTHER, "localId": "k-1"}})
    assert with_local.json() == {**by_bsn.json(), "message": "m-2"}  # nothing says "known"


def test_a_message_id_reused_for_another_message_is_refused(client: TestClient,
                                                            registry: dict[str, str],
                                                            sessions: sessionmaker[Session]
                                                            ) -> None:
    assert _send(client, registry, {"kind": "register-person", "id": "m-1",
                                    "person": MOTHER}).status_code == 201
    counts = row_counts(sessions)
    other = _send(client, registry, {"kind": "register-person", "id": "m-1",
                                     "person": {"localId": "k-2"}})
    assert other.status_code == 422
    assert other.json()["issue"][0]["expression"] == ["id"]
    assert row_counts(sessions) == counts


def test_cases_open_and_close_involvements(client: TestClient, registry: dict[str, str],
                                           sessions: sessionmaker[Session]) -> None:
    person = {"localId": "k-9", "familyName": "Bakker", "birthDate": "2012-01-02"}
    opened = _send(client, registry, {"kind": "open-case", "id": "m-1", "person": person,
                                      "caseId": "case-1", "start": "2026-11-01"})
    assert opened.status_code == 201, opened.text
    assert _send(client, registry, {"kind": "open-case", "id": "m-1", "person": person,
                                    "caseId": "case-1", "start": "2026-11-01"}
                 ).status_code == 200
    closed = _send(client, registry, {"kind": "close-case", "id": "m-2", "person": person,
                                      "caseId": "case-1", "end": "2026-11-30"})
    assert closed.status_code == 201 and closed.json()["closed"] == 1
    with sessions() as session:
        [row] = session.scalars(select(Involvement).where(
            Involvement.source == "fake")).all()
        assert (row.organization, row.source_ref, row.id) == \
            ("wijkteam-zuid", "case-1", opened.json()["involvement"])
        assert (row.started_at.date().isoformat(), row.ended_at.date().isoformat()) == \
            ("2026-11-01", "2026-11-30")
        assert opened.json()["person"] == f"Patient/{row.person_id}"


def test_register_household(client: TestClient, registry: dict[str, str]) -> None:
    answer = _send(client, registry, {"kind": "register-household", "id": "m-1", "household": {
        "localId": "h-1", "members": [
            {"person": MOTHER, "role": "parent"},
            {"person": {"localId": "k-3", "birthDate": "2019-05-06"}, "role": "child"}]}})
    assert answer.status_code == 201, answer.text
    assert answer.json()["household"].startswith("Group/")


@pytest.mark.parametrize("body,content_type,status,expression", [
    (b'{"kind": "register-person", "id": "m", "person": {"bsn": "123456789"}}',
     "application/json", 422, "person.bsn"),
    (b'{"kind": "register-person", "id": "m"', "application/json", 400, None),
    (b'{"kind": "teleport", "id": "m"}', "application/json", 422, "kind"),
    (b'{"kind": "register-person", "id": "m", "person": {"localId": "k"}}',
     "application/fhir+json", 415, "Content-Type"),
], ids=["elfproef", "not-json", "unknown-kind", "media-type"])
def test_bad_input_names_the_element_and_changes_nothing(
        client: TestClient, registry: dict[str, str], sessions: sessionmaker[Session],
        body: bytes, content_type: str, status: int, expression: str | None) -> None:
    counts = row_counts(sessions)
    answer = client.post(URL, content=body, headers={**registry, "Content-Type": content_type})
    assert answer.status_code == status, answer.text
    assert answer.json()["resourceType"] == "OperationOutcome"
    if expression:
        assert answer.json()["issue"][0]["expression"] == [expression]
    assert row_counts(sessions) == counts
    assert "123456789" not in answer.text


def test_the_failing_stage_is_named(client: TestClient, registry: dict[str, str],
                                    log_stream: io.StringIO) -> None:
    answer = client.post(URL, content=b'{"kind": "register-person", "id": "m"}',
                         headers={**registry, "Content-Type": "application/json"})
    assert (answer.status_code, answer.headers["X-Wijkgateway-Stage"]) == (422, "parse")
    [stopped] = _events(log_stream, "inbound_stopped")
    assert (stopped["adapter"], stopped["stage"], stopped["error_type"]) == \
        ("fake", "parse", "InvalidMessage")
    bad_json = client.post(URL, content=b"[", headers={**registry,
                                                      "Content-Type": "application/json"})
    assert bad_json.headers["X-Wijkgateway-Stage"] == "decode"


def test_only_a_client_of_that_system_may_send(client: TestClient, registry: dict[str, str]
                                               ) -> None:
    message = json.dumps({"kind": "register-person", "id": "m", "person": MOTHER})
    headers = {"Content-Type": "application/json"}
    assert client.post(URL, content=message, headers=headers).status_code == 401
    refused = client.post(URL, content=message,
                          headers={**bearer(client, "demo-wijkteam-noord"), **headers})
    assert refused.status_code == 403
    assert "adapter/fake.write" in refused.headers["WWW-Authenticate"]


def test_a_system_not_enabled_has_no_endpoint(settings, seeded: None) -> None:  # noqa: ANN001
    settings.adapters = ["gp-referral"]
    with TestClient(create_app(settings, configure_logs=False)) as plain:
        refused = plain.post(URL, content=b"{}")
        assert refused.status_code == 404
        assert refused.json()["issue"][0]["diagnostics"] == (
            "the fake adapter is not enabled on this gateway: its operator lists the enabled "
            "ones in WIJKGATEWAY_ADAPTERS")
        unknown = plain.post("/adapters/nonesuch/messages", content=b"{}")
        assert "no such endpoint" in unknown.json()["issue"][0]["diagnostics"]


def test_another_birth_date_is_a_conflict_to_review(client: TestClient,
                                                    registry: dict[str, str],
                                                    sessions: sessionmaker[Session]) -> None:
    """The known birth date stays; the message is applied, and the conflict is queued. Its
    answer names the review only once the sender's organisation helps the person (its own
    case): to anyone else it would say the BSN is known, with another birth date."""
    first = _send(client, registry, {"kind": "register-person", "id": "m-1", "person": MOTHER})
    again = _send(client, registry, {"kind": "register-person", "id": "m-2",
                                     "person": {**MOTHER, "birthDate": "1990-01-01"}})
    assert again.status_code == 201, again.text
    assert again.json() == {**first.json(), "message": "m-2"}
    opened = _send(client, registry, {"kind": "open-case", "id": "m-3", "caseId": "c-1",
                                      "person": {**MOTHER, "birthDate": "1991-01-01"}})
    [review] = opened.json()["reviews"]
    with sessions() as session:
        rows = session.scalars(select(IdentityReview).order_by(IdentityReview.created_at)).all()
        person = session.get(Person, first.json()["person"].removeprefix("Patient/"))
        assert [(r.kind, r.fact, r.known_value, r.claimed_value, r.source_ref)
                for r in rows] == [
            ("conflict", "birth_date", "1988-03-04", "1990-01-01", "fake/m-2"),
            ("conflict", "birth_date", "1988-03-04", "1991-01-01",  # the case it holds
             f"EpisodeOfCare/{opened.json()['involvement']}")]
        assert review == f"IdentityReview/{rows[1].id}"
        assert str(person.birth_date) == "1988-03-04"
    same = _send(client, registry, {"kind": "register-person", "id": "m-4", "person": MOTHER})
    assert same.json()["reviews"] == []


def test_inbound_messages_keep_no_content(client: TestClient, registry: dict[str, str],
                                          sessions: sessionmaker[Session]) -> None:
    _send(client, registry, {"kind": "register-person", "id": "m-1", "person": MOTHER})
    with sessions() as session:
        [row] = session.scalars(select(InboundMessage)).all()
    stored = json.dumps(row.outcome)
    assert (row.system, row.kind, row.client_id) == ("fake", "register-person", REGISTRY)
    assert VALID_BSNS[0] not in stored and "Jansen" not in stored
