"""The referral shapes Dutch GP systems send (nl-core: PractitionerRole requester, UZI-only
professional, team by URA or AGB, OID systems, name-part and address extensions) are accepted
as they come, and the Task feedback reaches the practice that sent them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.organization import Organization

from gateway.cli.demo_data import DEMO_TEAM_IDENTIFIERS
from gateway.delivery.worker import Worker
from gateway.referrals import teams
from tests.support.samples import AGB, subscription
from tests.support.webhooks import WebhookReceiver

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "referrals"
TEAM = "wijkteam-noord"
TEAM_IDENTIFIERS = ["ura:20000001", "agb:03000001"]
UZI = "http://fhir.nl/fhir/NamingSystem/uzi-nr-pers"
URA = "http://fhir.nl/fhir/NamingSystem/ura"
# fixture -> the Task's requester: the professional (AGB, else UZI), else the practice
REQUESTERS = {
    "practitionerrole-contained": {"type": "Practitioner",
                                   "identifier": {"system": AGB, "value": "01234567"}},
    "uzi-only-requester": {"type": "Practitioner",
                           "identifier": {"system": UZI, "value": "900023456"}},
    "performer-by-ura": {"type": "Practitioner",
                         "identifier": {"system": AGB, "value": "01234568"}},
    "performer-by-agb-practice-only": {"type": "Organization",
                                       "identifier": {"system": AGB, "value": "01056790"}},
    "patient-without-bsn": {"type": "Practitioner",
                            "identifier": {"system": AGB, "value": "01234569"}},
}


@pytest.fixture
def identified_team(sessions, seeded: None) -> None:  # noqa: ANN001
    with sessions.begin() as session:
        teams.add_identifiers(session, TEAM, TEAM_IDENTIFIERS)


def test_every_fixture_has_its_expected_requester() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(REQUESTERS)


@pytest.mark.parametrize("name", sorted(REQUESTERS))
def test_nl_core_referral_is_accepted_and_its_feedback_reaches_the_sender(
        name: str, client: TestClient, gp: dict, team: dict, identified_team: None,
        receiver: WebhookReceiver, sessions, settings) -> None:  # noqa: ANN001
    sent = json.loads((FIXTURES / f"{name}.json").read_text())
    created = client.post("/fhir/ServiceRequest", json=sent, headers=gp)
    assert created.status_code == 201, created.text
    referral_id = created.json()["id"]
    assert created.json()["performer"] == sent["performer"]  # kept as sent
    subscribed = client.post("/fhir/Subscription", headers=gp, json=subscription(
        receiver.url, f"Task?focus=ServiceRequest/{referral_id}"))
    assert subscribed.status_code == 201, subscribed.text
    found = client.get(f"/fhir/Task?focus=ServiceRequest/{referral_id}", headers=team).json()
    task = found["entry"][0]["resource"]
    assert (task["owner"], task["requester"]) == \
        ({"reference": f"Organization/{TEAM}"}, REQUESTERS[name])
    accepted = client.patch(f"/fhir/Task/{task['id']}",
                            json=[{"op": "replace", "path": "/status", "value": "accepted"}],
                            headers={**team, "Content-Type": "application/json-patch+json",
                                     "If-Match": 'W/"1"'})
    assert accepted.status_code == 200, accepted.text
    worker = Worker(sessions, settings, jitter=lambda: 1.0)
    try:
        assert worker.run_once() == 1
    finally:
        worker.client.close()
    delivered = json.loads(receiver.received[0].body)
    assert (delivered["id"], delivered["status"], delivered["requester"]) == \
        (task["id"], "accepted", REQUESTERS[name])


def test_teams_list_their_identifiers_with_the_nl_systems(client: TestClient, gp: dict,
                                                          identified_team: None) -> None:
    demo = {"system": URA, "value": DEMO_TEAM_IDENTIFIERS[TEAM].removeprefix("ura:")}
    expected = [{"system": AGB, "value": "03000001"}, {"system": URA, "value": "20000001"}, demo]
    read = client.get(f"/fhir/Organization/{TEAM}", headers=gp)
    assert read.status_code == 200
    assert read.json()["identifier"] == expected
    Organization.model_validate(read.json())
    listed = client.get("/fhir/Organization", headers=gp).json()
    assert {e["resource"]["id"]: e["resource"].get("identifier") for e in listed["entry"]} == \
        {TEAM: expected, "wijkteam-zuid": [{"system": URA, "value": "90000102"}]}
