"""FHIR Consent, Patient and RelatedPerson: record, read, search, revoke; every bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.auth.scopes import TEAM_SCOPES
from gateway.cli.demo_data import demo_secret
from tests.conftest import add_test_client, bearer, involve, row_counts
from tests.support.flows import post_consent, resident
from tests.support.samples import (
    ACTIVITY_SYSTEM,
    BSN,
    VALID_BSNS,
    consent_resource,
    patient,
    related_person,
    service_request,
)

ADULT_BSN, CHILD_BSN = VALID_BSNS[1], VALID_BSNS[2]


class TestPatientAndRelatedPerson:
    def test_register_a_birth_date_once(self, client: TestClient, team: dict) -> None:
        involve(client, ADULT_BSN)
        first = client.post("/fhir/Patient", json=patient(ADULT_BSN, "1980-03-01"), headers=team)
        assert first.status_code == 200
        assert first.json()["birthDate"] == "1980-03-01"
        again = client.post("/fhir/Patient", json=patient(ADULT_BSN, "1980-03-01"), headers=team)
        assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
        other = client.post("/fhir/Patient", json=patient(ADULT_BSN, "1981-03-01"), headers=team)
        assert other.status_code == 409
        assert other.json()["issue"][0]["expression"] == ["Patient.birthDate"]

    @pytest.mark.parametrize("body,expression", [
        ({**patient(), "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn",
                                       "value": "123456789"}]}, "Patient.identifier[0].value"),
        ({**patient(), "identifier": []}, "Patient.identifier"),
        ({k: v for k, v in patient().items() if k != "birthDate"}, "Patient.birthDate"),
        ({**patient(), "birthDate": "1980"}, "Patient.birthDate"),
    ])
    def test_bad_patients(self, client: TestClient, team: dict, body: dict,
                          expression: str) -> None:
        response = client.post("/fhir/Patient", json=body, headers=team)
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == [expression]

    def test_parent_is_registered_and_read_back(self, client: TestClient, team: dict) -> None:
        child = resident(client, team, CHILD_BSN, age=8)
        created = client.post("/fhir/RelatedPerson", json=related_person(child, "GUARD"),
                              headers=team)
        assert created.status_code == 201
        read = client.get(f"/fhir/RelatedPerson/{created.json()['id']}", headers=team)
        assert read.json()["relationship"][0]["coding"][0]["code"] == "GUARD"
        assert read.json()["patient"] == {"reference": child}

    def test_only_parents_and_guardians(self, client: TestClient, team: dict) -> None:
        child = resident(client, team, CHILD_BSN, age=8)
        response = client.post("/fhir/RelatedPerson", json=related_person(child, "NBOR"),
                               headers=team)
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == ["RelatedPerson.relationship"]
        unknown = client.post("/fhir/RelatedPerson", json=related_person("Patient/nobody"),
                              headers=team)
        assert unknown.status_code == 403
        assert "not involved" in unknown.json()["issue"][0]["diagnostics"]


class TestRecordAndRevoke:
    def test_record_read_and_search(self, client: TestClient, team: dict) -> None:
        person = resident(client, team)
        created = post_consent(client, team, consent_resource(person, organization="wijkteam-noord",
                                                       categories=("health",)))
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["status"], body["meta"]["versionId"]) == ("active", "1")
        assert created.headers["ETag"] == 'W/"1"'
        assert body["provision"]["actor"][0]["reference"] == {
            "reference": "Organization/wijkteam-noord"}
        read = client.get(f"/fhir/Consent/{body['id']}", headers=team).json()
        assert read == body
        for query in (f"patient={person}", f"patient={ADULT_BSN}", f"patient={BSN}|{ADULT_BSN}",
                      "status=active", "actor=Organization/wijkteam-noord",
                      f"purpose={ACTIVITY_SYSTEM}|gp-referral-to-wijkteam",
                      "purpose=gp-referral-to-wijkteam"):
            found = client.get(f"/fhir/Consent?{query}", headers=team).json()
            assert [e["resource"]["id"] for e in found["entry"]] == [body["id"]], query
        for query in ("status=inactive", "actor=Organization/wijkteam-zuid", "purpose=casusoverleg",
                      "actor:identifier=wijkteam", "purpose=http://example.org|casusoverleg",
                      "actor:identifier=http://example.org|wijkteam"):  # another system: none
            assert client.get(f"/fhir/Consent?{query}", headers=team).json()["total"] == 0

    @pytest.mark.parametrize("query,expression", [
        ("status=revoked", "status"), ("actor=Patient/1", "actor"),
        ("actor=https://elders.example/fhir/Organization/wijkteam-noord", "actor"),
        ("patient=Patient/a,Patient/b", "patient"), ("subject=Patient/1", "subject"),
        (f"patient=http://elders.example|{ADULT_BSN}", "patient"),
    ])
    def test_bad_searches(self, client: TestClient, team: dict, query: str,
                          expression: str) -> None:
        response = client.get(f"/fhir/Consent?{query}", headers=team)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == [expression]

    def test_role_consent_is_found_by_role(self, client: TestClient, team: dict) -> None:
        person = resident(client, team)
        created = post_consent(client, team, consent_resource(person, role="wijkteam")).json()
        found = client.get("/fhir/Consent?actor:identifier=wijkteam", headers=team).json()
        assert [e["resource"]["id"] for e in found["entry"]] == [created["id"]]

    def test_duplicate_submission_answers_with_the_first(self, client: TestClient, team: dict,
                                                         sessions) -> None:  # noqa: ANN001
        resource = consent_resource(resident(client, team))
        first = post_consent(client, team, resource)
        before = row_counts(sessions)
        again = post_consent(client, team, resource)
        assert (again.status_code, again.json()) == (200, first.json())
        assert row_counts(sessions) == before

    def test_revoking_adds_a_version_and_twice_answers_the_same(
            self, client: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
        created = post_consent(client, team, consent_resource(resident(client, team))).json()
        url = f"/fhir/Consent/{created['id']}"
        revoked = client.put(url, json={**created, "status": "inactive"},
                             headers={**team, "If-Match": 'W/"1"'})
        assert revoked.status_code == 200, revoked.text
        assert (revoked.json()["status"], revoked.json()["meta"]["versionId"]) == ("inactive", "2")
        before = row_counts(sessions)
        again = client.put(url, json={**created, "status": "inactive"},
                           headers={**team, "If-Match": 'W/"1"'})
        assert (again.status_code, again.json()) == (200, revoked.json())
        assert row_counts(sessions) == before
        assert before["consent_records"] == 2  # history kept: the grant and its revocation
        assert client.get("/fhir/Consent?status=inactive", headers=team).json()["total"] == 1
        assert client.get("/fhir/Consent?status=active", headers=team).json()["total"] == 0

    def test_the_same_body_after_a_revocation_is_a_new_consent(self, client: TestClient,
                                                                team: dict) -> None:
        resource = consent_resource(resident(client, team), verdict="deny")
        first = post_consent(client, team, resource).json()
        client.put(f"/fhir/Consent/{first['id']}", json={**first, "status": "inactive"},
                   headers=team)
        again = post_consent(client, team, resource)
        assert again.status_code == 201
        assert again.json()["id"] != first["id"] and again.json()["status"] == "active"

    @pytest.mark.parametrize("change,expression,status", [
        ({"status": "draft"}, "Consent.status", 422),
        ({"provision": {"type": "deny"}}, "Consent.provision", 422),
        ({"id": "other"}, "Consent.id", 400),
    ])
    def test_a_consent_cannot_be_changed_only_revoked(self, client: TestClient, team: dict,
                                                      change: dict, expression: str,
                                                      status: int) -> None:
        created = post_consent(client, team, consent_resource(resident(client, team))).json()
        response = client.put(f"/fhir/Consent/{created['id']}", json={**created, **change},
                              headers=team)
        assert response.status_code == status, response.text
        assert response.json()["issue"][0]["expression"] == [expression]

    def test_a_revocation_without_the_id_is_400(self, client: TestClient, team: dict) -> None:
        """FHIR update: the body names the resource it changes, as on Task and Subscription."""
        created = post_consent(client, team, consent_resource(resident(client, team))).json()
        body = {k: v for k, v in created.items() if k != "id"}
        response = client.put(f"/fhir/Consent/{created['id']}",
                              json={**body, "status": "inactive"}, headers=team)
        assert (response.status_code, response.json()["issue"][0]["expression"],
                response.json()["issue"][0]["diagnostics"]) == (
            400, ["Consent.id"], "the body's id must be the id in the URL")

    def test_revoked_stays_revoked(self, client: TestClient, team: dict) -> None:
        created = post_consent(client, team, consent_resource(resident(client, team))).json()
        url = f"/fhir/Consent/{created['id']}"
        client.put(url, json={**created, "status": "inactive"}, headers=team)
        response = client.put(url, json={**created, "status": "active"}, headers=team)
        assert response.status_code == 422
        assert "only a revocation" in response.json()["issue"][0]["diagnostics"]

    def test_stale_if_match_on_revocation(self, client: TestClient, team: dict) -> None:
        created = post_consent(client, team, consent_resource(resident(client, team))).json()
        response = client.put(f"/fhir/Consent/{created['id']}",
                              json={**created, "status": "inactive"},
                              headers={**team, "If-Match": 'W/"7"'})
        assert response.status_code == 412

    @pytest.mark.parametrize("header", ["", "bogus"])
    def test_malformed_if_match_on_revocation_is_400(self, header: str, client: TestClient,
                                                     team: dict) -> None:
        """An empty If-Match is malformed, as on Task, not a missing one (strict mode)."""
        created = post_consent(client, team, consent_resource(resident(client, team))).json()
        response = client.put(f"/fhir/Consent/{created['id']}",
                              json={**created, "status": "inactive"},
                              headers={**team, "If-Match": header})
        assert (response.status_code, response.json()["issue"][0]["expression"]) == (
            400, ["If-Match"])

    def test_another_team_cannot_see_or_revoke(self, client: TestClient, team: dict,
                                               sessions) -> None:  # noqa: ANN001
        created = post_consent(client, team, consent_resource(resident(client, team))).json()
        with sessions.begin() as session:
            add_test_client(session, "Zuid", list(TEAM_SCOPES), team_id="wijkteam-zuid",
                            client_id="zuid-registratie", secret=demo_secret("zuid-registratie"))
        zuid = {**bearer(client, "zuid-registratie"), "Content-Type": "application/fhir+json"}
        url = f"/fhir/Consent/{created['id']}"
        assert client.get(url, headers=zuid).status_code == 404
        assert client.put(url, json={**created, "status": "inactive"},
                          headers=zuid).status_code == 404
        assert client.get("/fhir/Consent", headers=zuid).json()["total"] == 0


class TestBadConsents:
    """Each bad consent is refused naming the element, and nothing is written."""

    @pytest.mark.parametrize("make,status,expression,words", [
        (lambda p: consent_resource(p, activity="shoe-sales"), 400,
         "Consent.provision.purpose", "unknown processing activity 'shoe-sales'"),
        (lambda p: consent_resource(p, categories=("shoe-size",)), 400,
         "Consent.provision.code[0]", "unknown data category"),
        (lambda p: consent_resource(p, categories=("safety-signals",)), 422,
         "Consent.provision.code[0]", "not part of this activity"),
        (lambda p: consent_resource(p, start="2026-05-01", end="2026-04-01"), 422,
         "Consent.provision.period", "ends before it starts"),
        (lambda p: consent_resource(p, start="2026-05"), 422,
         "Consent.provision.period.start", "full date"),
        (lambda p: consent_resource(p, start="0001-01-01T00:00:00+01:00"), 422,
         "Consent.provision.period.start", "between the years 1 and 9999"),
        (lambda p: consent_resource(p, end="9999-12-31T23:59:59-14:00"), 422,
         "Consent.provision.period.end", "between the years 1 and 9999"),
        (lambda p: consent_resource(p, role="school"), 422,
         "Consent.provision.actor[0].reference", "one of the activity's roles"),
        (lambda p: consent_resource(p, performer="RelatedPerson/nobody"), 422,
         "Consent.performer[0]", "registered parents or guardians"),
        (lambda p: {**consent_resource(p), "status": "proposed"}, 422, "Consent.status",
         "status 'active'"),
        (lambda p: {**consent_resource(p), "provision": {"type": "maybe"}}, 422,
         "Consent.provision.type", ""),
        (lambda p: {k: v for k, v in consent_resource(p).items() if k != "scope"}, 422,
         "Consent.scope", "required"),
    ])
    def test_refused(self, client: TestClient, team: dict, sessions,  # noqa: ANN001
                     make, status: int, expression: str, words: str) -> None:
        person = resident(client, team)
        before = row_counts(sessions)
        response = post_consent(client, team, make(person))
        assert response.status_code == status, response.text
        issue = response.json()["issue"][0]
        assert issue["expression"] == [expression]
        assert words in issue["diagnostics"]
        assert row_counts(sessions) == before

    def test_unknown_birth_date(self, client: TestClient, team: dict, gp: dict) -> None:
        """A referral by BSN alone makes the person known, but not their age."""
        referral = client.post("/fhir/ServiceRequest", json=service_request(bsn=ADULT_BSN),
                               headers=gp)
        assert referral.status_code == 201
        by_bsn = {"identifier": {"system": BSN, "value": ADULT_BSN}}
        response = post_consent(client, team, {**consent_resource("x"), "patient": by_bsn,
                                        "performer": [by_bsn]})
        assert response.status_code == 422
        assert "birth date is unknown" in response.json()["issue"][0]["diagnostics"]

    @pytest.mark.parametrize("age,grantor,words", [
        (8, "self", "a child under 12 does not consent"),
        (17, "parent", "from 16 the person decides alone"),
    ])
    def test_grantor_not_entitled(self, client: TestClient, team: dict, age: int, grantor: str,
                                  words: str) -> None:
        person = resident(client, team, CHILD_BSN, age=age)
        performer = person
        if grantor == "parent":
            performer = "RelatedPerson/" + client.post(
                "/fhir/RelatedPerson", json=related_person(person), headers=team).json()["id"]
        response = post_consent(client, team, consent_resource(person, performer=performer))
        assert response.status_code == 422
        issue = response.json()["issue"][0]
        assert (issue["expression"], words in issue["diagnostics"]) == (["Consent.performer[0]"],
                                                                        True)

    def test_parent_of_someone_else_is_not_a_grantor(self, client: TestClient,
                                                     team: dict) -> None:
        child = resident(client, team, CHILD_BSN, age=8)
        other = resident(client, team, ADULT_BSN, age=9)
        parent_of_other = client.post("/fhir/RelatedPerson", json=related_person(other),
                                      headers=team).json()["id"]
        response = post_consent(client, team, consent_resource(
            child, performer=f"RelatedPerson/{parent_of_other}"))
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == ["Consent.performer[0]"]
