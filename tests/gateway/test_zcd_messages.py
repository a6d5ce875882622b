"""The youth dossier (ZCD-style XML) at ``POST /adapters/zcd/messages``: one message or a
bundle through the same stages as every system's, a bundle whole or not at all; XML that
fails the XSD or tries entities is a 400 by XPath that changes nothing; what the youth
dossier receives is XML its own XSD accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters import get_adapter
from gateway.auth.scopes import SCOPE_SUBSCRIPTION_WRITE, adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.delivery.worker import Worker
from gateway.households.representation import representatives_in_force
from gateway.platform.db.models import HouseholdMember, Involvement, Person
from gateway.platform.settings import Settings
from tests.adapters.test_zcd import CHILD, CLOSE, GEZIN, HULPVRAAG, OPEN, SIGNAAL, bericht, xml
from tests.conftest import add_test_client, bearer, row_counts
from tests.support.samples import service_request, subscription
from tests.support.webhooks import WebhookReceiver

URL = "/adapters/zcd/messages"
DOSSIER = "zcd-noord"  # the youth unit's dossier system, for wijkteam-noord


@pytest.fixture
def dossier(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions.begin() as session:
        add_test_client(session, "Jeugddossier", [adapter_scope("zcd"), SCOPE_SUBSCRIPTION_WRITE],
                        client_id=DOSSIER, secret=demo_secret(DOSSIER),
                        team_id="wijkteam-noord", system="zcd")
    return bearer(client, DOSSIER)


def _send(client: TestClient, headers: dict[str, str], body: bytes) -> Any:
    return client.post(URL, content=body,
                       headers={**headers, "Content-Type": "application/xml"})


def _bundle(*messages: str, bundle_id: str = "b-1") -> bytes:
    from adapters.zcd import NAMESPACE

    inner = "".join(m.replace(f' xmlns:zcd="{NAMESPACE}"', "") for m in messages)
    return xml(f'<zcd:bundel xmlns:zcd="{NAMESPACE}" versie="1.0">'
               f"<zcd:bundelId>{bundle_id}</zcd:bundelId>{inner}</zcd:bundel>")


def _involvements(sessions: sessionmaker[Session]) -> list[tuple[str, bool]]:
    with sessions() as session:
        return [(i.source_ref, i.ended_at is None) for i in session.scalars(
            select(Involvement).where(Involvement.source == "zcd")
            .order_by(Involvement.source_ref))]


def test_a_household_then_a_case_then_its_end(client: TestClient, dossier: dict[str, str],
                                              sessions: sessionmaker[Session]) -> None:
    household = _send(client, dossier, xml(GEZIN))
    assert household.status_code == 201, household.text
    assert household.json()["household"].startswith("Group/")
    with sessions() as session:
        assert len(session.scalars(select(HouseholdMember)).all()) == 4
    assert _send(client, dossier, xml(OPEN)).status_code == 201
    assert _involvements(sessions) == [("c-1", True)]
    with sessions() as session:  # the case director, as the youth dossier names them
        case = session.scalar(select(Involvement).where(Involvement.source_ref == "c-1"))
        assert (case.director_worker, case.director_organization) == (
            "jeugd-7", "wijkteam-noord")
    assert _send(client, dossier, xml(CLOSE)).json()["closed"] == 1
    assert _involvements(sessions) == [("c-1", False)]
    counts = row_counts(sessions)
    again = _send(client, dossier, xml(GEZIN))
    assert (again.status_code, again.json()) == (200, household.json())
    assert row_counts(sessions) == counts


def test_the_parents_holding_authority_are_asked_for_the_child(
        client: TestClient, dossier: dict[str, str], sessions: sessionmaker[Session]) -> None:
    """Each gezagdrager becomes the parental authority a RelatedPerson would register, so
    the consent engine asks both parents; the household said again adds none twice."""
    answer = _send(client, dossier, xml(GEZIN))
    assert len(answer.json()["authority"]) == 2, answer.text
    again = GEZIN.replace("<zcd:berichtId>m-1</zcd:berichtId>",
                          "<zcd:berichtId>m-9</zcd:berichtId>")
    assert _send(client, dossier, xml(again)).json()["authority"] == answer.json()["authority"]
    with sessions() as session:
        child = session.scalar(select(Person).where(Person.bsn == CHILD))
        held = representatives_in_force(session, child.id, datetime.now(UTC))
    assert sorted(r.id for r in held) == sorted(answer.json()["authority"])
    assert {r.kind for r in held} == {"parental-authority"}


def test_a_support_request_involves_the_team_a_signal_does_not(
        client: TestClient, dossier: dict[str, str], sessions: sessionmaker[Session]) -> None:
    _send(client, dossier, xml(GEZIN))
    helped = _send(client, dossier, xml(HULPVRAAG))
    assert (helped.status_code, helped.json()["kind"]) == (201, "support-request"), helped.text
    signalled = _send(client, dossier, xml(SIGNAAL))
    assert signalled.json()["signal"] == "s-1" and "involvement" not in signalled.json()
    assert _involvements(sessions) == [("support-request/hv-1", True)]


def test_a_bundle_goes_in_whole_and_is_replayed_whole(
        client: TestClient, dossier: dict[str, str], sessions: sessionmaker[Session]) -> None:
    answer = _send(client, dossier, _bundle(GEZIN, OPEN))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["kind"], [m["kind"] for m in body["messages"]]) == (
        "batch", ["register-household", "open-case"])
    counts = row_counts(sessions)
    again = _send(client, dossier, _bundle(GEZIN, OPEN))
    assert (again.status_code, again.json()) == (200, body)
    alone = _send(client, dossier, _bundle(OPEN, CLOSE, bundle_id="b-2"))
    assert [m["kind"] for m in alone.json()["messages"]] == ["open-case", "close-case"]
    assert alone.json()["messages"][0] == body["messages"][1]  # m-2 came before: a replay
    assert row_counts(sessions)["involvements"] == counts["involvements"]


def test_a_bundle_with_one_refused_message_changes_nothing(
        client: TestClient, dossier: dict[str, str], sessions: sessionmaker[Session]) -> None:
    before = row_counts(sessions)
    other_close = bericht("<zcd:casusSluiten><zcd:persoon><zcd:lokaalId>k-7</zcd:lokaalId>"
                          "</zcd:persoon><zcd:casusId>c-1</zcd:casusId>"
                          "<zcd:einddatum>2026-12-01</zcd:einddatum></zcd:casusSluiten>", "m-1")
    answer = _send(client, dossier, _bundle(GEZIN, OPEN, other_close, bundle_id="b-9"))
    assert 400 <= answer.status_code < 500, answer.text
    assert row_counts(sessions) == before


@pytest.mark.parametrize(("body", "status", "where"), [
    (xml(GEZIN.replace("<zcd:bsn>123456782", "<zcd:bsn>123456789")), 400, "zcd:bsn"),
    (xml(GEZIN.replace("1988-03-04", "1988-03-04Z")), 400, "zcd:geboortedatum"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
     b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>', 400, ""),
    (b"<not-closed>", 400, ""),
])
def test_bad_xml_is_a_400_by_xpath_that_changes_nothing(
        client: TestClient, dossier: dict[str, str], sessions: sessionmaker[Session],
        body: bytes, status: int, where: str) -> None:
    before = row_counts(sessions)
    answer = _send(client, dossier, body)
    assert answer.status_code == status, answer.text
    assert answer.headers["X-Wijkgateway-Stage"] == "decode"
    assert all(where in issue["expression"][0] for issue in answer.json()["issue"]
               if issue.get("expression"))
    assert "123456789" not in answer.text and "Jansen" not in answer.text
    assert row_counts(sessions) == before


def test_json_is_not_the_youth_dossiers_format(client: TestClient,
                                               dossier: dict[str, str]) -> None:
    answer = client.post(URL, content=json.dumps({"kind": "register-person"}),
                         headers={**dossier, "Content-Type": "application/json"})
    assert answer.status_code == 415


def test_the_youth_dossier_receives_xml_its_xsd_accepts(
        client: TestClient, gp: dict[str, str], dossier: dict[str, str],
        sessions: sessionmaker[Session], receiver: WebhookReceiver, settings: Settings) -> None:
    created = client.post("/fhir/Subscription", headers=dossier,
                          json=subscription(receiver.url, "ServiceRequest"))
    assert created.status_code == 201, created.text
    sent = client.post("/fhir/ServiceRequest", json=service_request(consent="self"), headers=gp)
    assert sent.status_code == 201, sent.text
    worker = Worker(sessions, settings, jitter=lambda: 1.0)
    assert worker.run_once() == 1
    worker.client.close()
    [notice] = receiver.received
    assert notice.headers["Content-Type"] == "application/xml"
    get_adapter("zcd").check_outbound(notice.body)
    assert sent.json()["id"].encode() in notice.body and b"111222333" not in notice.body


TWICE = GEZIN.replace("<zcd:bsn>999999990</zcd:bsn><zcd:lokaalId>k-7</zcd:lokaalId>",
                      "<zcd:bsn>111222333</zcd:bsn>").replace(
    "<zcd:voornamen>Pietje</zcd:voornamen><zcd:geboortedatum>2019-05-06</zcd:geboortedatum>",
    "").replace("<zcd:gezagdrager>1</zcd:gezagdrager><zcd:gezagdrager>2</zcd:gezagdrager>", "")


@pytest.mark.parametrize(("body", "where"), [
    (xml(TWICE), "/zcd:bericht/zcd:gezin/zcd:lid[3]"),
    (_bundle(OPEN.replace("m-2", "m-9"), TWICE),
     "/zcd:bundel/zcd:bericht[2]/zcd:gezin/zcd:lid[3]"),
])
def test_a_refused_household_names_the_member_by_its_xpath(
        client: TestClient, dossier: dict[str, str], sessions: sessionmaker[Session],
        body: bytes, where: str) -> None:
    before = row_counts(sessions)
    answer = _send(client, dossier, body)
    assert answer.status_code == 422, answer.text
    [issue] = answer.json()["issue"]
    assert issue["expression"] == [where]
    assert "give each member once" in issue["diagnostics"]
    assert row_counts(sessions) == before
