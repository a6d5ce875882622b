"""Every outbound message goes through the consent engine: withheld when denied, minimised
when permitted, the decision kept on the outbox row. Plus ``POST /consent/decisions``."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.servicerequest import ServiceRequest
from sqlalchemy import select

from gateway.auth.scopes import TEAM_SCOPES
from gateway.cli.demo_data import demo_secret
from gateway.delivery.worker import Worker, replay
from gateway.platform.db.models import OutboxMessage, OverrideRow
from tests.conftest import add_test_client, bearer, involve, row_counts
from tests.support.flows import resident
from tests.support.samples import (
    NOTE_TEXT,
    VALID_BSNS,
    consent_resource,
    patient,
    service_request,
    subscription,
)
from tests.support.webhooks import WebhookReceiver

PATCH = "application/json-patch+json"


@pytest.fixture
def subscribed(client: TestClient, team: dict, receiver: WebhookReceiver) -> WebhookReceiver:
    response = client.post("/fhir/Subscription", headers=team,
                           json=subscription(receiver.url, "ServiceRequest"))
    assert response.status_code == 201
    return receiver


def _deliver(sessions, settings) -> None:  # noqa: ANN001
    Worker(sessions, settings, jitter=lambda: 1.0).run_once()


def _outbox(sessions) -> list[OutboxMessage]:  # noqa: ANN001
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _refer(client: TestClient, gp: dict, **traits: Any) -> dict[str, Any]:
    response = client.post("/fhir/ServiceRequest", json=service_request(**traits), headers=gp)
    assert response.status_code == 201, response.text
    return response.json()


class TestReferralDelivery:
    def test_age_unknown_withholds(self, client: TestClient, gp: dict,
                                   subscribed: WebhookReceiver, sessions) -> None:  # noqa: ANN001
        _refer(client, gp)  # by BSN alone: the gateway does not know the resident's age
        [message] = _outbox(sessions)
        assert (message.status, message.decision["rules"]) == (
            "withheld", ["activity:gp-referral-to-wijkteam", "age-unknown"])

    def test_without_consent_the_team_gets_nothing(self, client: TestClient, gp: dict,
                                                   team: dict, subscribed: WebhookReceiver,
                                                   sessions, settings) -> None:  # noqa: ANN001
        involve(client, VALID_BSNS[0])  # the team's first contact, before the referral
        known = client.post("/fhir/Patient", json=patient(VALID_BSNS[0]), headers=team)
        assert known.status_code == 200
        _refer(client, gp, bsn=VALID_BSNS[0])
        _deliver(sessions, settings)
        assert subscribed.received == []
        [message] = _outbox(sessions)
        assert (message.status, message.payload) == ("withheld", {})
        assert message.decision["decision"] == "deny"
        assert "no-consent-means-deny" in message.decision["rules"]
        with sessions.begin() as session, pytest.raises(LookupError, match="withheld"):
            replay(session, message.id)

    def test_consent_recorded_later_releases_the_referral(
            self, client: TestClient, gp: dict, team: dict, subscribed: WebhookReceiver,
            sessions, settings) -> None:  # noqa: ANN001
        involve(client, VALID_BSNS[0])
        person = client.post("/fhir/Patient", json=patient(VALID_BSNS[0]), headers=team).json()
        sent = _refer(client, gp, bsn=VALID_BSNS[0])
        objection = consent_resource(f"Patient/{person['id']}", verdict="deny",
                                     organization="wijkteam-noord", categories=("health",))
        assert client.post("/fhir/Consent", json=objection, headers=team).status_code == 201
        assert [m.status for m in _outbox(sessions)] == ["withheld"]  # objections release nothing
        given = consent_resource(f"Patient/{person['id']}", organization="wijkteam-noord")
        assert client.post("/fhir/Consent", json=given, headers=team).status_code == 201
        _deliver(sessions, settings)
        [delivered] = [json.loads(r.body) for r in subscribed.received]
        assert delivered["id"] == sent["id"]
        assert "reasonCode" not in delivered  # the objection to health still holds
        assert [m.status for m in _outbox(sessions)] == ["delivered"]

    def test_consent_in_a_later_referral_releases_an_earlier_one(
            self, client: TestClient, gp: dict, subscribed: WebhookReceiver, sessions,
            settings) -> None:  # noqa: ANN001
        first = _refer(client, gp, bsn=VALID_BSNS[3])  # by BSN only: withheld
        second = _refer(client, gp, bsn=VALID_BSNS[3], consent="self")
        _deliver(sessions, settings)
        assert sorted(json.loads(r.body)["id"] for r in subscribed.received) == sorted(
            [first["id"], second["id"]])

    def test_with_consent_the_team_gets_only_permitted_elements(
            self, client: TestClient, gp: dict, subscribed: WebhookReceiver, sessions,
            settings) -> None:  # noqa: ANN001
        sent = _refer(client, gp, consent="self", dutch_profile=True)
        _deliver(sessions, settings)
        [delivered] = [json.loads(r.body) for r in subscribed.received]
        assert delivered["id"] == sent["id"]
        assert delivered["reasonCode"] == sent["reasonCode"]
        assert delivered["note"][0]["text"] == NOTE_TEXT
        assert "supportingInfo" not in delivered and "extension" not in delivered
        assert [c["resourceType"] for c in delivered["contained"]] == ["Patient"]
        ServiceRequest.model_validate(delivered)  # still valid R4B, for the team's library
        assert "profile" not in delivered["meta"]  # it may no longer satisfy nl-core
        [message] = _outbox(sessions)
        assert message.decision["decision"] == "permit"
        assert message.decision["records"]  # the consent that came with the referral

    def test_an_objection_to_one_category_removes_its_elements(
            self, client: TestClient, gp: dict, team: dict, subscribed: WebhookReceiver,
            sessions, settings) -> None:  # noqa: ANN001
        first = _refer(client, gp, consent="self")
        _deliver(sessions, settings)  # delivered before the objection: whole
        person = client.get("/fhir/Consent?purpose=gp-referral-to-wijkteam",
                            headers=team).json()["entry"][0]["resource"]["patient"]["reference"]
        objection = consent_resource(person, verdict="deny", organization="wijkteam-noord",
                                     categories=("health", "social-situation"))
        assert client.post("/fhir/Consent", json=objection, headers=team).status_code == 201
        second = _refer(client, gp, consent="self")
        _deliver(sessions, settings)
        received = {json.loads(r.body)["id"]: json.loads(r.body) for r in subscribed.received}
        assert "reasonCode" in received[first["id"]]
        assert "reasonCode" not in received[second["id"]]
        assert "note" not in received[second["id"]]
        ServiceRequest.model_validate(received[second["id"]])
        assert NOTE_TEXT.encode() not in subscribed.received[-1].body
        assert received[second["id"]]["subject"] == second["subject"]

    def test_a_revocation_stops_a_message_not_yet_delivered(
            self, client: TestClient, gp: dict, team: dict, subscribed: WebhookReceiver,
            sessions, settings) -> None:  # noqa: ANN001
        _refer(client, gp, consent="self")
        given = client.get("/fhir/Consent", headers=team).json()["entry"][0]["resource"]
        client.put(f"/fhir/Consent/{given['id']}", json={**given, "status": "inactive"},
                   headers=team)
        _deliver(sessions, settings)  # queued while permitted; decided again when sent
        assert subscribed.received == []
        [message] = _outbox(sessions)
        assert (message.status, message.payload, message.decision["decision"]) == (
            "withheld", {}, "deny")

    def test_a_parent_consents_for_a_young_child(self, client: TestClient, gp: dict,
                                                 subscribed: WebhookReceiver, sessions,
                                                 settings) -> None:  # noqa: ANN001
        child_birth = date(date.today().year - 7, 1, 1).isoformat()
        _refer(client, gp, consent="parent", birth_date=child_birth, bsn=VALID_BSNS[2])
        _deliver(sessions, settings)
        assert len(subscribed.received) == 1

    def test_a_young_child_cannot_consent_alone(self, client: TestClient, gp: dict,
                                                sessions) -> None:  # noqa: ANN001
        before = row_counts(sessions)
        child_birth = date(date.today().year - 7, 1, 1).isoformat()
        response = client.post("/fhir/ServiceRequest", headers=gp, json=service_request(
            consent="self", birth_date=child_birth, bsn=VALID_BSNS[2]))
        assert response.status_code == 422
        issue = response.json()["issue"][0]
        assert issue["expression"] == ["ServiceRequest.contained[1].performer[0]"]
        assert "under 12" in issue["diagnostics"]
        assert row_counts(sessions) == before

    def test_a_revoked_consent_stops_later_deliveries(
            self, client: TestClient, gp: dict, team: dict, subscribed: WebhookReceiver,
            sessions, settings) -> None:  # noqa: ANN001
        _refer(client, gp, consent="self", identifier="a")
        _deliver(sessions, settings)
        given = client.get("/fhir/Consent", headers=team).json()["entry"][0]["resource"]
        assert client.put(f"/fhir/Consent/{given['id']}", json={**given, "status": "inactive"},
                          headers=team).status_code == 200
        _refer(client, gp, identifier="b")  # no new consent with it
        _deliver(sessions, settings)
        assert len(subscribed.received) == 1
        assert [m.status for m in _outbox(sessions)] == ["delivered", "withheld"]


def test_task_feedback_to_the_gp_carries_only_status(client: TestClient, gp: dict, team: dict,
                                                     receiver: WebhookReceiver, sessions,
                                                     settings) -> None:  # noqa: ANN001
    assert client.post("/fhir/Subscription", headers=gp,
                       json=subscription(receiver.url)).status_code == 201
    sr = _refer(client, gp)
    task = client.get(f"/fhir/Task?focus=ServiceRequest/{sr['id']}", headers=gp).json()
    task_id = task["entry"][0]["resource"]["id"]
    response = client.patch(f"/fhir/Task/{task_id}", headers={
        **team, "Content-Type": PATCH, "If-Match": 'W/"1"'}, json=[
        {"op": "replace", "path": "/status", "value": "rejected"},
        {"op": "add", "path": "/statusReason", "value": {"text": "buiten werkgebied"}},
        {"op": "add", "path": "/note", "value": [{"text": "gesproken met moeder"}]}])
    assert response.status_code == 200, response.text
    _deliver(sessions, settings)
    [delivered] = [json.loads(r.body) for r in receiver.received]
    assert (delivered["status"], delivered["statusReason"]) == ("rejected",
                                                                {"text": "buiten werkgebied"})
    assert "note" not in delivered
    assert _outbox(sessions)[-1].decision["rules"] == ["activity:referrer-feedback",
                                                       "legal-basis-6.1.e"]
    as_gp = client.get(f"/fhir/Task/{task_id}", headers=gp).json()
    assert "note" not in as_gp and as_gp["status"] == "rejected"
    assert client.get(f"/fhir/Task/{task_id}", headers=team).json()["note"]


class TestDecisionsApi:
    def test_permit_and_deny_with_fields_rules_and_explanation(self, client: TestClient,
                                                               team: dict) -> None:
        person = resident(client, team)
        recorded = client.post("/fhir/Consent", headers=team, json=consent_resource(
            person, activity="casusoverleg", categories=("identification", "plan"))).json()
        response = client.post("/consent/decisions", headers=team, json={
            "activity": "casusoverleg", "patient": VALID_BSNS[1],
            "recipients": [{"organization": "school-de-regenboog",
                            "role": "casusoverleg-deelnemer"},
                           {"organization": "huisarts-1", "role": "huisarts"}]})
        assert response.status_code == 200, response.text
        body = response.json()
        permitted, denied = body["recipients"]
        assert body["decision"] == "permit"
        assert permitted["permitted_categories"] == ["identification", "plan"]
        assert permitted["denied_categories"] == ["health", "household"]
        assert "CarePlan.activity" in permitted["fields"]
        assert permitted["records"] == [recorded["id"]]
        assert permitted["explanation"].startswith("permit: casusoverleg to school-de-regenboog")
        assert denied["decision"] == "deny" and denied["fields"] == []
        assert "recipient-role-not-in-activity" in denied["rules"]

    def test_records_of_other_teams_are_counted_not_named(self, client: TestClient,
                                                          team: dict, sessions) -> None:  # noqa: ANN001
        person = resident(client, team)
        with sessions.begin() as session:
            add_test_client(session, "Zuid", list(TEAM_SCOPES), team_id="wijkteam-zuid",
                            client_id="zuid-registratie", secret=demo_secret("zuid-registratie"))
        involve(client, VALID_BSNS[1], "wijkteam-zuid")
        zuid = {**bearer(client, "zuid-registratie"), "Content-Type": "application/fhir+json"}
        theirs = client.post("/fhir/Consent", headers=zuid, json=consent_resource(
            person, activity="casusoverleg")).json()
        ask = {"activity": "casusoverleg", "patient": person,
               "recipients": [{"organization": "x", "role": "casusoverleg-deelnemer"}]}
        [seen_by_noord] = client.post("/consent/decisions", headers=team,
                                      json=ask).json()["recipients"]
        assert seen_by_noord["decision"] == "permit"
        assert (seen_by_noord["records"], seen_by_noord["records_of_others"]) == ([], 1)
        [seen_by_zuid] = client.post("/consent/decisions", headers=zuid,
                                     json=ask).json()["recipients"]
        assert (seen_by_zuid["records"], seen_by_zuid["records_of_others"]) == ([theirs["id"]], 0)

    def test_decision_at_a_past_time(self, client: TestClient, team: dict) -> None:
        person = resident(client, team)
        client.post("/fhir/Consent", headers=team, json=consent_resource(
            person, activity="casusoverleg", start="2026-01-01"))
        ask = {"activity": "casusoverleg", "patient": person,
               "recipients": [{"organization": "x", "role": "casusoverleg-deelnemer"}]}
        assert client.post("/consent/decisions", headers=team, json={
            **ask, "at": "2025-06-01T00:00:00Z"}).json()["decision"] == "deny"
        assert client.post("/consent/decisions", headers=team, json={
            **ask, "at": "2026-06-01T00:00:00Z"}).json()["decision"] == "permit"

    def test_meldrecht_override_is_stored_for_review(self, client: TestClient, team: dict,
                                                     sessions) -> None:  # noqa: ANN001
        person = resident(client, team, age=9)
        justification = "Acuut gevaar; overleg gevoerd, stap 5 van de meldcode bereikt."
        response = client.post("/consent/decisions", headers=team, json={
            "activity": "report-to-veilig-thuis", "patient": person,
            "recipients": [{"organization": "veilig-thuis-groningen", "role": "veilig-thuis"}],
            "override": {"justification": justification, "meldcode_step": 5}})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["decision"], body["needs_review"]) == ("permit", True)
        assert body["override"]["review_status"] == "pending"
        with sessions() as session:
            stored = session.get(OverrideRow, body["override"]["id"])
            assert (stored.justification, stored.meldcode_step) == (justification, 5)

    @pytest.mark.parametrize("change,status,expression", [
        ({"activity": "shoe-sales"}, 400, "activity"),
        ({"categories": ["shoe-size"]}, 400, "categories"),
        ({"recipients": []}, 400, "body.recipients"),
        ({"recipients": [{"organization": "x"}]}, 400, "body.recipients.0.role"),
        ({"patient": "123456789"}, 422, "patient"),
        ({"at": "2026-01-01T00:00:00"}, 400, "body.at"),
        ({"override": {"justification": "too short", "meldcode_step": 5}}, 400,
         "body.override.justification"),
        ({"override": {"justification": "x" * 40, "meldcode_step": 9}}, 400,
         "body.override.meldcode_step"),
        ({"override": {"justification": "x" * 40, "meldcode_step": 5}}, 400, "override"),
        ({"surprise": 1}, 400, "body.surprise"),
        ({"Fatima123456782": 1}, 400, "body.?"),  # a key that holds a BSN is not repeated
    ])
    def test_bad_questions(self, client: TestClient, team: dict, sessions,  # noqa: ANN001
                           change: dict, status: int, expression: str) -> None:
        person = resident(client, team)
        before = row_counts(sessions)
        response = client.post("/consent/decisions", headers=team, json={
            "activity": "casusoverleg", "patient": person,
            "recipients": [{"organization": "x", "role": "casusoverleg-deelnemer"}], **change})
        assert response.status_code == status, response.text
        assert expression in response.json()["issue"][0]["expression"]
        assert row_counts(sessions) == before

    def test_needs_consent_read_scope(self, client: TestClient, gp: dict) -> None:
        response = client.post("/consent/decisions", headers=gp, json={})
        assert response.status_code == 403
