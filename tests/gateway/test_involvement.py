"""Only organisations involved with a resident may speak for them; a refusal is no oracle."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.auth.scopes import TEAM_SCOPES
from gateway.cli.demo_data import demo_secret
from gateway.delivery.worker import Worker
from gateway.platform.db.models import (
    ConsentRow,
    Involvement,
    OutboxMessage,
    Person,
    ProcessingLogEntry,
)
from tests.conftest import OTHER_GP, add_test_client, bearer, involve, row_counts
from tests.support.samples import (
    VALID_BSNS,
    consent_resource,
    patient,
    related_person,
    service_request,
    subscription,
)
from tests.support.webhooks import WebhookReceiver

KNOWN, UNKNOWN = VALID_BSNS[1], VALID_BSNS[3]
FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def zuid(client: TestClient, sessions) -> dict[str, str]:  # noqa: ANN001
    """A second team's system; the gateway knows KNOWN through wijkteam-noord only."""
    with sessions.begin() as session:
        add_test_client(session, "Zuid", list(TEAM_SCOPES), team_id="wijkteam-zuid",
                        client_id="zuid-registratie", secret=demo_secret("zuid-registratie"))
    involve(client, KNOWN)
    return {**bearer(client, "zuid-registratie"), **FHIR}


def _denials(sessions) -> list[tuple[str, str]]:  # noqa: ANN001
    with sessions() as session:
        return [(e.action, e.outcome) for e in session.scalars(
            select(ProcessingLogEntry).where(ProcessingLogEntry.kind == "denial")
            .order_by(ProcessingLogEntry.seq))]


def _same_refusal(known: Any, unknown: Any) -> None:
    assert (known.status_code, unknown.status_code) == (403, 403)
    assert known.json() == unknown.json()
    assert "not involved" in known.json()["issue"][0]["diagnostics"]


class TestNoOracle:
    """A team not involved gets the same answer for a known person and an unknown one."""

    def test_patient_registration(self, client: TestClient, zuid: dict, sessions) -> None:  # noqa: ANN001
        before = row_counts(sessions)
        known = client.post("/fhir/Patient", json=patient(KNOWN), headers=zuid)
        unknown = client.post("/fhir/Patient", json=patient(UNKNOWN), headers=zuid)
        _same_refusal(known, unknown)
        after = row_counts(sessions)
        assert after["persons"] == before["persons"]
        assert _denials(sessions) == [("person.refused", "denied")] * 2

    def test_patient_registration_as_a_conditional_create(
            self, client: TestClient, zuid: dict, team: dict) -> None:
        """FHIR's conditional create answers 200 for a match and 201 for a new one; here a
        POST never makes a person, so a stranger gets the same 403 and the team that helps
        the same 200 (the same Location), with ``If-None-Exist`` or without."""
        def condition(bsn: str) -> dict[str, str]:
            return {"If-None-Exist": f"identifier=http://fhir.nl/fhir/NamingSystem/bsn|{bsn}"}

        _same_refusal(*(client.post("/fhir/Patient", json=patient(bsn),
                                    headers={**zuid, **condition(bsn)})
                        for bsn in (KNOWN, UNKNOWN)))
        plain, conditional = (client.post("/fhir/Patient", json=patient(KNOWN), headers={
            **team, **extra}) for extra in ({}, condition(KNOWN)))
        assert (plain.status_code, plain.json(), plain.headers["Location"]) == (
            conditional.status_code, conditional.json(), conditional.headers["Location"])
        assert plain.status_code == 200

    def test_consent(self, client: TestClient, zuid: dict, sessions) -> None:  # noqa: ANN001
        by_bsn = {"identifier": {"system": "http://fhir.nl/fhir/NamingSystem/bsn"}}
        answers = [client.post("/fhir/Consent", headers=zuid, json={
            **consent_resource("x"), "patient": {**by_bsn, "identifier": {
                **by_bsn["identifier"], "value": bsn}}}) for bsn in (KNOWN, UNKNOWN)]
        _same_refusal(*answers)
        assert _denials(sessions) == [("consent.refused", "denied")] * 2

    def test_decisions(self, client: TestClient, zuid: dict) -> None:
        ask = {"activity": "casusoverleg",
               "recipients": [{"organization": "x", "role": "casusoverleg-deelnemer"}]}
        _same_refusal(*(client.post("/consent/decisions", headers=zuid,
                                    json={**ask, "patient": bsn}) for bsn in (KNOWN, UNKNOWN)))

    def test_related_person_and_consent_search(self, client: TestClient, zuid: dict,
                                               team: dict) -> None:
        reference = involve(client, KNOWN)
        _same_refusal(client.post("/fhir/RelatedPerson", json=related_person(reference),
                                  headers=zuid),
                      client.post("/fhir/RelatedPerson", json=related_person("Patient/nobody"),
                                  headers=zuid))
        _same_refusal(client.get(f"/fhir/Consent?patient={reference}", headers=zuid),
                      client.get("/fhir/Consent?patient=Patient/nobody", headers=zuid))
        assert client.get(f"/fhir/Consent?patient={reference}", headers=team).status_code == 200


class TestReferralsInvolve:
    def test_sender_and_team_become_involved(self, client: TestClient, gp: dict, team: dict,
                                             sessions) -> None:  # noqa: ANN001
        sent = client.post("/fhir/ServiceRequest", json=service_request(bsn=UNKNOWN),
                           headers=gp).json()
        with sessions() as session:
            rows = session.scalars(select(Involvement).order_by(Involvement.source)).all()
            assert [(r.organization, r.source, r.source_ref) for r in rows] == [
                ("wijkteam-noord", "referral-received", f"ServiceRequest/{sent['id']}"),
                ("client:demo-huisarts", "referral-sent", f"ServiceRequest/{sent['id']}")]
        assert client.post("/fhir/Patient", json=patient(UNKNOWN),
                           headers=team).status_code == 200

    def test_a_team_that_rejects_the_referral_stops_being_involved(
            self, client: TestClient, gp: dict, team: dict) -> None:
        sent = client.post("/fhir/ServiceRequest", json=service_request(bsn=UNKNOWN),
                           headers=gp).json()
        [task] = [e["resource"] for e in client.get(
            f"/fhir/Task?focus=ServiceRequest/{sent['id']}", headers=team).json()["entry"]]
        rejected = client.put(f"/fhir/Task/{task['id']}", headers={**team, "If-Match": 'W/"1"'},
                              json={**task, "status": "rejected",
                                    "statusReason": {"text": "Niet voor ons"}})
        assert rejected.status_code == 200, rejected.text
        assert client.post("/fhir/Patient", json=patient(UNKNOWN),
                           headers=team).status_code == 403


class TestRegistrationByAdministrators:
    def test_teams_and_gps_cannot_register_involvement(self, client: TestClient, team: dict,
                                                       gp: dict) -> None:
        for headers in (team, gp):
            response = client.post("/involvements", headers=headers,
                                   json={"organization": "wijkteam-noord", "patient": KNOWN})
            assert response.status_code == 403
            assert response.json()["issue"][0]["expression"] == ["Authorization"]

    def test_registration_is_logged_listed_and_ended(self, client: TestClient, team: dict,
                                                     sessions) -> None:  # noqa: ANN001
        admin = bearer(client, "demo-beheer")
        created = client.post("/involvements", headers=admin, json={
            "organization": "wijkteam-noord", "patient": KNOWN})
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["organization"], body["source"], body["end"]) == (
            "wijkteam-noord", "registration", None)
        listed = client.get(f"/involvements?patient={KNOWN}", headers=admin).json()
        assert [i["id"] for i in listed["involvements"]] == [body["id"]]
        with sessions() as session:
            entry = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.action == "involvement.registered")).one()
            assert (entry.actor_id, entry.acting_person, entry.acting_role) == (
                "demo-beheer", "beheerder-1", "administrator")
            assert KNOWN not in (entry.details or "")
        parent = client.post("/fhir/RelatedPerson", json=related_person(body["patient"]),
                             headers=team)
        assert parent.status_code == 201, parent.text
        ended = client.post(f"/involvements/{body['id']}/end", headers=admin, json={})
        assert ended.status_code == 200 and ended.json()["end"] is not None
        assert client.post("/fhir/Patient", json=patient(KNOWN),
                           headers=team).status_code == 403
        assert client.get(f"/fhir/RelatedPerson/{parent.json()['id']}",
                          headers=team).status_code == 403
        again = client.post(f"/involvements/{body['id']}/end", headers=admin, json={})
        assert again.status_code == 409

    @pytest.mark.parametrize("body,status,expression", [
        ({"organization": "Wijkteam Noord!", "patient": KNOWN}, 400, "body.organization"),
        ({"organization": "wijkteam-nergens", "patient": KNOWN}, 422, "organization"),
        ({"organization": "agb:99999999", "patient": KNOWN}, 422, "organization"),
        ({"organization": "wijkteam-noord", "patient": "123456789"}, 422, "patient"),
        ({"organization": "wijkteam-noord", "patient": KNOWN,
          "start": "2026-05-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}, 422, "end"),
        ({"organization": "wijkteam-noord", "patient": KNOWN,
          "start": "2026-05-01T00:00:00"}, 400, "body.start"),
        ({"organization": "wijkteam-noord", "patient": KNOWN, "extra": 1}, 400, "body.extra"),
        ({"organization": "wijkteam-noord", "patient": KNOWN,
          "start": "0001-01-01T00:00:00+01:00"}, 400, "body.start"),
    ])
    def test_bad_registrations(self, client: TestClient, sessions, body: dict,  # noqa: ANN001
                               status: int, expression: str) -> None:
        before = row_counts(sessions)
        response = client.post("/involvements", headers=bearer(client, "demo-beheer"),
                               json=body)
        assert response.status_code == status, response.text
        assert response.json()["issue"][0]["expression"] == [expression]
        assert row_counts(sessions) == before


class TestReferralConsentStaysWithTheReferral:
    @pytest.fixture
    def subscribed(self, client: TestClient, team: dict,
                   receiver: WebhookReceiver) -> WebhookReceiver:
        response = client.post("/fhir/Subscription", headers=team,
                               json=subscription(receiver.url, "ServiceRequest"))
        assert response.status_code == 201
        return receiver

    def test_another_gps_consent_does_not_release_a_withheld_referral(
            self, client: TestClient, gp: dict, subscribed: WebhookReceiver,
            sessions, settings) -> None:  # noqa: ANN001
        first = client.post("/fhir/ServiceRequest", json=service_request(bsn=UNKNOWN),
                            headers=gp).json()  # by BSN only: withheld
        other = {**bearer(client, OTHER_GP), **FHIR}
        second = client.post("/fhir/ServiceRequest", headers=other,
                             json=service_request(bsn=UNKNOWN, consent="self"))
        assert second.status_code == 201, second.text
        Worker(sessions, settings, jitter=lambda: 1.0).run_once()
        with sessions() as session:
            status = {m.resource_id: m.status for m in session.scalars(select(OutboxMessage))}
        assert status == {first["id"]: "withheld", second.json()["id"]: "delivered"}

    def test_a_referrals_consent_cannot_name_another_team_or_purpose(
            self, client: TestClient, gp: dict, sessions) -> None:  # noqa: ANN001
        for change, expression in (
                ({"actor": [{"role": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "IRCP"}]}, "reference": {
                        "reference": "Organization/wijkteam-zuid"}}]},
                 "ServiceRequest.contained[1].provision.actor"),):
            resource = service_request(bsn=UNKNOWN, consent="self")
            resource["contained"][1]["provision"].update(change)
            before = row_counts(sessions)
            response = client.post("/fhir/ServiceRequest", json=resource, headers=gp)
            assert response.status_code == 422, response.text
            assert response.json()["issue"][0]["expression"] == [expression]
            assert row_counts(sessions) == before


def test_a_birth_date_conflict_is_queued_and_withholds_until_resolved(
        client: TestClient, gp: dict, team: dict, receiver: WebhookReceiver, sessions,
        settings) -> None:  # noqa: ANN001
    assert client.post("/fhir/Subscription", headers=team, json=subscription(
        receiver.url, "ServiceRequest")).status_code == 201
    first = client.post("/fhir/ServiceRequest", headers=gp,
                        json=service_request(bsn=UNKNOWN, consent="self")).json()
    other_date = service_request(bsn=UNKNOWN, consent="self", birth_date="1990-01-01")
    second = client.post("/fhir/ServiceRequest", headers=gp, json=other_date)
    assert second.status_code == 201, second.text
    with sessions() as session:
        held = session.scalars(select(OutboxMessage).where(
            OutboxMessage.resource_id == second.json()["id"])).one()
        assert (held.status, held.decision["reason"]) == ("withheld", "identity-conflict")
    assert _linked(sessions) == ({first["id"]}, 1)  # the held referral links nobody yet
    admin = bearer(client, "demo-beheer")
    [review] = client.get("/identity/reviews", headers=admin).json()["reviews"]
    assert (review["fact"], review["known"], review["claimed"], review["source"]) == (
        "birth_date", "1985-02-14", "1990-01-01", f"ServiceRequest/{second.json()['id']}")
    assert client.get("/identity/reviews", headers=team).status_code == 403
    resolved = client.post(f"/identity/reviews/{review['id']}/resolve", headers=admin,
                           json={"resolution": "known-is-right",
                                 "comment": "Huisarts bevestigt 1985"})
    assert (resolved.status_code, resolved.json()["released"]) == (200, 1)
    assert resolved.json()["consent"] == "recorded"
    assert _linked(sessions) == ({first["id"], second.json()["id"]}, 2)
    again = client.post(f"/identity/reviews/{review['id']}/resolve", headers=admin,
                        json={"resolution": "known-is-right", "comment": "nogmaals"})
    assert again.status_code == 409
    Worker(sessions, settings, jitter=lambda: 1.0).run_once()
    assert sorted(m.status for m in _messages(sessions)) == ["delivered", "delivered"]
    assert first["id"] != second.json()["id"]


def test_a_different_person_keeps_the_referral_withheld(client: TestClient, gp: dict,
                                                        team: dict, receiver: WebhookReceiver,
                                                        sessions) -> None:  # noqa: ANN001
    assert client.post("/fhir/Subscription", headers=team, json=subscription(
        receiver.url, "ServiceRequest")).status_code == 201
    client.post("/fhir/ServiceRequest", headers=gp,
                json=service_request(bsn=UNKNOWN, consent="self"))
    client.post("/fhir/ServiceRequest", headers=gp,
                json=service_request(bsn=UNKNOWN, consent="self", birth_date="1990-01-01"))
    admin = bearer(client, "demo-beheer")
    [review] = client.get("/identity/reviews", headers=admin).json()["reviews"]
    resolved = client.post(f"/identity/reviews/{review['id']}/resolve", headers=admin,
                           json={"resolution": "different-person", "comment": "Andere persoon"})
    assert resolved.json()["released"] == 0
    assert len(_linked(sessions)[0]) == 1 and _linked(sessions)[1] == 1
    assert sorted(m.status for m in _messages(sessions)) == ["pending", "withheld"]
    assert client.get("/identity/reviews?status=open", headers=admin).json()["reviews"] == []
    with sessions() as session:
        [person] = session.scalars(select(Person)).all()
        assert person.birth_date == date(1985, 2, 14)


def _linked(sessions) -> tuple[set[str], int]:  # noqa: ANN001
    """Referrals that started involvements, and how many consents are recorded."""
    with sessions() as session:
        refs = {r.source_ref.removeprefix("ServiceRequest/")
                for r in session.scalars(select(Involvement))}
        return refs, len(session.scalars(select(ConsentRow)).all())


def _messages(sessions) -> list[OutboxMessage]:  # noqa: ANN001
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.parametrize("grantor", ["self", "parent"])
def test_a_referrals_consent_tells_nothing_of_what_the_gateway_knows(
        client: TestClient, gp: dict, team: dict, sessions, grantor: str) -> None:  # noqa: ANN001
    """Checked against the birth date the referral gives, never a known one: a known child and
    an unknown BSN get the same answer, and nothing is written."""
    involve(client, KNOWN)
    assert client.post("/fhir/Patient", json=patient(KNOWN, "2019-01-01"),
                       headers=team).status_code == 200
    before = row_counts(sessions)
    answers = []
    for bsn in (KNOWN, UNKNOWN):
        resource = service_request(bsn=bsn, consent=grantor)
        del resource["contained"][0]["birthDate"]
        answers.append(client.post("/fhir/ServiceRequest", json=resource, headers=gp))
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].json() == answers[1].json()
    assert "needs the resident's birth date" in answers[0].json()["issue"][0]["diagnostics"]
    assert row_counts(sessions) == before


def test_a_claimed_age_is_checked_alike_for_known_and_unknown(
        client: TestClient, gp: dict, team: dict, sessions) -> None:  # noqa: ANN001
    """A referral claiming a child's birth date for a BSN known as an adult (a conflict) gets
    the answer an unknown BSN gets."""
    involve(client, KNOWN)
    assert client.post("/fhir/Patient", json=patient(KNOWN, "1985-02-14"),
                       headers=team).status_code == 200
    before = row_counts(sessions)
    answers = [client.post("/fhir/ServiceRequest", headers=gp, json=service_request(
        bsn=bsn, consent="self", birth_date="2019-05-05")) for bsn in (KNOWN, UNKNOWN)]
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].json() == answers[1].json()
    assert "a child under 12 does not consent" in answers[0].json()["issue"][0]["diagnostics"]
    assert row_counts(sessions) == before


def _read_as_team(client: TestClient, team: dict, referral_id: str) -> dict:
    response = client.get(f"/fhir/ServiceRequest/{referral_id}", headers=team)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_referral_held_for_review_is_read_as_its_envelope(client: TestClient, gp: dict,
                                                            team: dict) -> None:
    client.post("/fhir/ServiceRequest", headers=gp,
                json=service_request(bsn=UNKNOWN, consent="self"))
    held = client.post("/fhir/ServiceRequest", headers=gp, json=service_request(
        bsn=UNKNOWN, consent="self", birth_date="1990-01-01")).json()
    read = _read_as_team(client, team, held["id"])
    assert "reasonCode" not in read and "contained" not in read


def test_another_gps_consent_does_not_open_a_read_either(client: TestClient, gp: dict,
                                                         team: dict) -> None:
    """A consent inside GP B's referral counts for GP B's referrals, not for GP A's."""
    first = client.post("/fhir/ServiceRequest", headers=gp,
                        json=service_request(bsn=UNKNOWN)).json()
    other = {**bearer(client, OTHER_GP), **FHIR}
    second = client.post("/fhir/ServiceRequest", headers=other,
                         json=service_request(bsn=UNKNOWN, consent="self")).json()
    assert "reasonCode" not in _read_as_team(client, team, first["id"])
    assert _read_as_team(client, team, second["id"])["reasonCode"]
