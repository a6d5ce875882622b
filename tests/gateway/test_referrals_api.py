"""POST/GET /fhir/ServiceRequest: create, read back, retry safely, see only your own."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from gateway.fhir.subset import MASKED
from tests.conftest import BASE_URL, OTHER_GP, bearer, row_counts
from tests.support.samples import REFERRAL_SYSTEM, service_request


class TestCreate:
    def test_created_referral_is_stored_with_server_id_and_version(self, client: TestClient,
                                                                   gp: dict) -> None:
        sent = service_request(identifier="ref-42")
        response = client.post("/fhir/ServiceRequest", json=sent, headers=gp)
        assert response.status_code == 201
        body = response.json()
        assert response.headers["location"] == \
            f"{BASE_URL}/fhir/ServiceRequest/{body['id']}/_history/1"
        assert response.headers["etag"] == 'W/"1"'
        assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"
        assert body["meta"]["versionId"] == "1"
        assert {k: v for k, v in body.items() if k not in ("id", "meta")} == sent
        ServiceRequest.model_validate(body)
        read = client.get(f"/fhir/ServiceRequest/{body['id']}", headers=gp)
        assert read.status_code == 200
        assert read.json() == body

    def test_a_task_is_created_for_the_receiving_team(self, client: TestClient, gp: dict) -> None:
        created = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp).json()
        bundle = client.get(f"/fhir/Task?focus=ServiceRequest/{created['id']}", headers=gp).json()
        assert bundle["resourceType"] == "Bundle"
        assert bundle["type"] == "searchset"
        assert bundle["total"] == 1
        task = bundle["entry"][0]["resource"]
        Task.model_validate(task)
        assert task["status"] == "requested"
        assert task["focus"] == {"reference": f"ServiceRequest/{created['id']}"}
        assert task["owner"] == {"reference": "Organization/wijkteam-noord"}
        assert task["intent"] == "order"
        assert "for" not in task  # no resident data on the feedback channel

    def test_resident_without_bsn_by_contained_patient(self, client: TestClient,
                                                       gp: dict) -> None:
        response = client.post("/fhir/ServiceRequest",
                               json=service_request(no_bsn=True, contained_requester=True),
                               headers=gp)
        assert response.status_code == 201
        assert response.json()["contained"][0]["birthDate"] == "2011-04-03"

    def test_dutch_profile_extensions_are_kept(self, client: TestClient, gp: dict) -> None:
        sent = service_request(dutch_profile=True)
        body = client.post("/fhir/ServiceRequest", json=sent, headers=gp).json()
        assert body["extension"] == sent["extension"]
        assert body["meta"]["profile"] == sent["meta"]["profile"]

    def test_same_bsn_links_to_one_person(self, client: TestClient, gp: dict,
                                          sessions) -> None:  # noqa: ANN001
        for _ in range(2):
            assert client.post("/fhir/ServiceRequest", json=service_request(),
                               headers=gp).status_code == 201
        counts = row_counts(sessions)
        assert (counts["service_requests"], counts["persons"], counts["tasks"]) == (2, 1, 2)


class TestRetries:
    def test_if_none_exist_returns_the_existing_referral(self, client: TestClient, gp: dict,
                                                         sessions) -> None:  # noqa: ANN001
        sent = service_request(identifier="ref-7")
        headers = {**gp, "If-None-Exist": f"identifier={REFERRAL_SYSTEM}|ref-7"}
        first = client.post("/fhir/ServiceRequest", json=sent, headers=headers)
        second = client.post("/fhir/ServiceRequest", json=sent, headers=headers)
        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json() == first.json()
        assert row_counts(sessions)["service_requests"] == 1

    def test_idempotency_key_replays_the_first_answer(self, client: TestClient, gp: dict,
                                                      sessions) -> None:  # noqa: ANN001
        sent = service_request()
        headers = {**gp, "Idempotency-Key": "0f8fad5b-d9cb-469f-a165-70867728950e"}
        first = client.post("/fhir/ServiceRequest", json=sent, headers=headers)
        second = client.post("/fhir/ServiceRequest", json=sent, headers=headers)
        assert (first.status_code, second.status_code) == (201, 201)
        assert second.json() == first.json()
        assert second.headers["location"] == first.headers["location"]
        assert row_counts(sessions)["service_requests"] == 1
        assert row_counts(sessions)["outbox"] == 0
        metrics = client.get("/metrics").text
        assert "wijkgateway_referrals_received_total 1.0" in metrics

    def test_a_retry_serialised_differently_is_the_same_request(self, client: TestClient,
                                                                gp: dict, sessions) -> None:  # noqa: ANN001
        """Keys in another order and other white space: the same JSON, so the same request."""
        sent = service_request()
        headers = {**gp, "Idempotency-Key": "retry-1"}
        first = client.post("/fhir/ServiceRequest", content=json.dumps(sent), headers=headers)
        again = client.post("/fhir/ServiceRequest", headers=headers,
                            content=json.dumps(dict(reversed(sent.items())), indent=2))
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json()["id"] == first.json()["id"]
        assert row_counts(sessions)["service_requests"] == 1

    def test_idempotency_key_reused_for_another_body_is_refused(self, client: TestClient,
                                                                gp: dict) -> None:
        headers = {**gp, "Idempotency-Key": "key-1"}
        client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)
        response = client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == ["Idempotency-Key"]

    def test_duplicate_identifier_without_condition_is_a_conflict(self, client: TestClient,
                                                                  gp: dict) -> None:
        sent = service_request(identifier="ref-dup")
        first = client.post("/fhir/ServiceRequest", json=sent, headers=gp).json()
        response = client.post("/fhir/ServiceRequest", json=sent, headers=gp)
        assert response.status_code == 409
        issue = response.json()["issue"][0]
        assert issue["expression"] == ["ServiceRequest.identifier"]
        assert f"ServiceRequest/{first['id']}" in issue["diagnostics"]


class TestVisibility:
    def test_another_practice_cannot_read_or_find_the_referral(self, client: TestClient,
                                                               gp: dict) -> None:
        created = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp).json()
        other = bearer(client, OTHER_GP)
        assert client.get(f"/fhir/ServiceRequest/{created['id']}", headers=other).status_code \
            == 404
        assert client.get("/fhir/ServiceRequest", headers=other).json()["total"] == 0
        assert client.get("/fhir/Task", headers=other).json()["total"] == 0

    def test_the_receiving_team_reads_the_referral(self, client: TestClient, gp: dict,
                                                   team: dict) -> None:
        created = client.post("/fhir/ServiceRequest", json=service_request(consent="self"),
                              headers=gp).json()
        response = client.get(f"/fhir/ServiceRequest/{created['id']}", headers=team)
        assert response.status_code == 200
        assert response.json()["subject"] == created["subject"]
        assert "supportingInfo" not in response.json()  # minimised as its webhook would be

    def test_without_consent_the_team_reads_only_the_envelope(self, client: TestClient,
                                                               gp: dict, team: dict) -> None:
        created = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp).json()
        seen = client.get(f"/fhir/ServiceRequest/{created['id']}", headers=team).json()
        assert {"reasonCode", "note"}.isdisjoint(seen)
        assert seen["subject"] == MASKED  # required in R4B: present, identifying no one
        assert [t["code"] for t in seen["meta"]["tag"]] == ["SUBSETTED"]
        assert (seen["id"], seen["performer"]) == (created["id"], created["performer"])
        found = client.get("/fhir/ServiceRequest", headers=team).json()["entry"][0]["resource"]
        assert found == seen
        own = client.get(f"/fhir/ServiceRequest/{created['id']}", headers=gp).json()
        assert own["subject"] == created["subject"]

    def test_search_by_identifier_and_paging(self, client: TestClient, gp: dict) -> None:
        for n in range(3):
            client.post("/fhir/ServiceRequest", json=service_request(identifier=f"p-{n}"),
                        headers=gp)
        found = client.get(f"/fhir/ServiceRequest?identifier={REFERRAL_SYSTEM}|p-1",
                           headers=gp).json()
        assert [e["resource"]["identifier"][0]["value"] for e in found["entry"]] == ["p-1"]
        page = client.get("/fhir/ServiceRequest?_count=2", headers=gp).json()
        assert (page["total"], len(page["entry"])) == (3, 2)
        next_link = {link["relation"]: link["url"] for link in page["link"]}["next"]
        assert next_link == f"{BASE_URL}/fhir/ServiceRequest?_count=2&_offset=2"
