"""Versions and the RESTful write behaviour of HAPI FHIR: vread and ``_history`` (decided,
minimised and logged like a plain read, an old version under today's consent), 410 for a
deleted Subscription, Location and ETag on every create, optional ``If-Match`` (strict mode
428), JSON Merge Patch next to JSON Patch, and ``Prefer: return=``."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from gateway.app import create_app
from gateway.auth.scopes import TEAM_SCOPES
from gateway.cli.demo_data import demo_secret
from gateway.platform.settings import Settings
from tests.conftest import BASE_URL, OTHER_GP, add_test_client, bearer, row_counts
from tests.gateway.test_tasks_api import _referral_task
from tests.support.flows import born, post_consent, resident
from tests.support.samples import (
    NOTE_TEXT,
    VALID_BSNS,
    consent_resource,
    patient,
    related_person,
    service_request,
    subscription,
)

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED", "display": "subsetted"}
ENDPOINT = "http://127.0.0.1:9/hook"  # never called: no message is sent in these tests


def _path(location: str) -> str:
    assert location.startswith(BASE_URL + "/fhir/")
    return location.removeprefix(BASE_URL)


def _merge(client: TestClient, headers: dict, task: dict, body: Any,
           content_type: str = MERGE_PATCH, **extra: str) -> Any:
    return client.patch(f"/fhir/Task/{task['id']}", json=body,
                        headers={**headers, "Content-Type": content_type, **extra})


def _moved(client: TestClient, gp: dict, team: dict) -> dict:
    """A Task in three versions: requested (POST), accepted (PATCH), in-progress (PUT)."""
    task = _referral_task(client, gp)
    assert _merge(client, team, task, {"status": "accepted"}).status_code == 200
    current = client.get(f"/fhir/Task/{task['id']}", headers=team).json()
    response = client.put(f"/fhir/Task/{task['id']}", headers=team,
                          json={**current, "status": "in-progress", "note": [{"text": "gebeld"}]})
    assert response.status_code == 200, response.text
    return task


class TestLocationOfEveryCreate:
    def test_each_location_names_a_version_that_answers(self, client: TestClient, gp: dict,
                                                        team: dict) -> None:
        patient_ref = resident(client, team)
        creates = [
            ("ServiceRequest", gp, service_request(), 201),
            ("Subscription", gp, subscription(ENDPOINT), 201),
            ("Consent", team, consent_resource(patient_ref), 201),
            ("RelatedPerson", team, related_person(patient_ref), 201),
            ("Patient", team, patient(VALID_BSNS[1], born(40)), 200),
        ]
        for resource_type, headers, body, status in creates:
            created = client.post(f"/fhir/{resource_type}", json=body, headers=headers)
            assert created.status_code == status, created.text
            resource_id = created.json()["id"]
            assert created.headers["etag"] == 'W/"1"'
            assert created.headers["location"] == \
                f"{BASE_URL}/fhir/{resource_type}/{resource_id}/_history/1"
            read = client.get(_path(created.headers["location"]), headers=headers)
            assert (read.status_code, read.json()["id"], read.headers["etag"]) == (
                200, resource_id, 'W/"1"'), resource_type


class TestVreadAndHistory:
    def test_every_task_version_and_the_history_bundle(self, client: TestClient, gp: dict,
                                                       team: dict) -> None:
        task = _moved(client, gp, team)
        url = f"/fhir/Task/{task['id']}"
        statuses = [client.get(f"{url}/_history/{v}", headers=team).json()["status"]
                    for v in (1, 2, 3)]
        assert statuses == ["requested", "accepted", "in-progress"]
        assert client.get(f"{url}/_history/2", headers=team).headers["etag"] == 'W/"2"'
        bundle = client.get(f"{url}/_history", headers=team).json()
        Bundle.model_validate(bundle)
        assert (bundle["type"], bundle["total"]) == ("history", 3)
        assert [e["resource"]["meta"]["versionId"] for e in bundle["entry"]] == ["3", "2", "1"]
        assert [e["request"] for e in bundle["entry"]] == [
            {"method": "PUT", "url": f"Task/{task['id']}"},
            {"method": "PUT", "url": f"Task/{task['id']}"}, {"method": "POST", "url": "Task"}]
        assert [(e["response"]["status"], e["response"]["etag"]) for e in bundle["entry"]] == [
            ("200 OK", 'W/"3"'), ("200 OK", 'W/"2"'), ("201 Created", 'W/"1"')]
        assert bundle["entry"][0]["fullUrl"] == f"{BASE_URL}/fhir/Task/{task['id']}"

    @pytest.mark.parametrize("path", ["/fhir/Task/_history", "/fhir/ServiceRequest/_history",
                                      "/fhir/Practitioner/_history?_since=2026-01-01"])
    def test_a_whole_type_history_says_what_to_do_instead(self, client: TestClient,
                                                          path: str) -> None:
        response = client.get(path)  # not 'no such Task' for an id '_history'
        assert (response.status_code, response.json()["issue"]) == (400, [{
            "severity": "error", "code": "invalid", "expression": ["_history"],
            "diagnostics": "the history of a whole type is not supported: read one "
                           "resource's at {type}/{id}/_history, or search with "
                           "_lastUpdated=gt{time} for what changed"}])

    def test_the_referrer_sees_old_versions_as_it_sees_the_current_one(
            self, client: TestClient, gp: dict, team: dict) -> None:
        task = _moved(client, gp, team)
        url = f"/fhir/Task/{task['id']}"
        current = client.get(url, headers=gp).json()
        assert client.get(f"{url}/_history/3", headers=gp).json() == current
        assert "note" not in current and SUBSETTED in current["meta"]["tag"]
        as_gp = client.get(f"{url}/_history", headers=gp)
        assert "gebeld" not in as_gp.text
        Bundle.model_validate(as_gp.json())

    def test_unknown_version_is_404_naming_it(self, client: TestClient, gp: dict) -> None:
        task = _referral_task(client, gp)
        response = client.get(f"/fhir/Task/{task['id']}/_history/9", headers=gp)
        assert response.status_code == 404
        assert response.json()["issue"][0]["diagnostics"] == \
            "no version 9 of this Task; the newest is 1"
        assert response.json()["issue"][0]["expression"] == ["vid"]

    @pytest.mark.parametrize("vid", ["abc", "-1", "1.0", "1234567890"])
    def test_a_version_id_that_is_no_number_is_400(self, vid: str, client: TestClient,
                                                   gp: dict) -> None:
        created = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp).json()
        response = client.get(f"/fhir/ServiceRequest/{created['id']}/_history/{vid}",
                              headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == ["vid"]

    def test_a_reader_that_cannot_read_the_resource_gets_the_same_404(
            self, client: TestClient, gp: dict) -> None:
        created = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp).json()
        other = bearer(client, OTHER_GP)
        url = f"/fhir/ServiceRequest/{created['id']}"
        plain = client.get(url, headers=other)
        assert plain.status_code == 404
        for path in (f"{url}/_history/1", f"{url}/_history"):
            response = client.get(path, headers=other)
            assert (response.status_code, response.json()) == (404, plain.json())

    def test_history_takes_no_parameters(self, client: TestClient, gp: dict) -> None:
        task = _referral_task(client, gp)
        response = client.get(f"/fhir/Task/{task['id']}/_history?_count=1", headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == ["_count"]


class TestOldVersionUnderTodaysConsent:
    def test_a_revocation_after_v1_minimises_v1_as_it_does_a_read(
            self, client: TestClient, gp: dict, team: dict, sessions) -> None:  # noqa: ANN001
        created = client.post("/fhir/ServiceRequest", json=service_request(consent="self"),
                              headers=gp).json()
        url = f"/fhir/ServiceRequest/{created['id']}"
        before = client.get(f"{url}/_history/1", headers=team).json()
        assert before["subject"] == {"reference": "#patient"}
        ServiceRequest.model_validate(before)
        given = client.get("/fhir/Consent", headers=team).json()["entry"][0]["resource"]
        assert client.put(f"/fhir/Consent/{given['id']}", json={**given, "status": "inactive"},
                          headers=team).status_code == 200
        logged = row_counts(sessions)["processing_log"]
        old = client.get(f"{url}/_history/1", headers=team)
        assert row_counts(sessions)["processing_log"] == logged + 1  # logged as a read is
        plain = client.get(url, headers=team).json()
        assert old.json() == plain
        assert "contained" not in plain and SUBSETTED in plain["meta"]["tag"]
        assert NOTE_TEXT not in old.text and VALID_BSNS[0] not in old.text
        ServiceRequest.model_validate(old.json())  # minimised, still valid R4B
        history = client.get(f"{url}/_history", headers=team).json()
        assert [e["resource"] for e in history["entry"]] == [plain]


class TestConsentHistory:
    def test_the_rows_of_a_consent_are_its_versions(self, client: TestClient, team: dict,
                                                    sessions) -> None:  # noqa: ANN001
        created = post_consent(client, team, consent_resource(resident(client, team))).json()
        url = f"/fhir/Consent/{created['id']}"
        client.put(url, json={**created, "status": "inactive"}, headers=team)
        logged = row_counts(sessions)["processing_log"]
        bundle = client.get(f"{url}/_history", headers=team).json()
        assert row_counts(sessions)["processing_log"] == logged + 2  # each version read
        Bundle.model_validate(bundle)
        assert [(e["resource"]["status"], e["request"]["method"]) for e in bundle["entry"]] \
            == [("inactive", "PUT"), ("active", "POST")]
        assert client.get(f"{url}/_history/1", headers=team).json() == created


class TestSubscriptionDeletion:
    def test_posted_off_stays_readable(self, client: TestClient, gp: dict) -> None:
        created = client.post("/fhir/Subscription", headers=gp,
                              json={**subscription(ENDPOINT), "status": "off"}).json()
        read = client.get(f"/fhir/Subscription/{created['id']}", headers=gp)
        assert (read.status_code, read.json()["status"]) == (200, "off")

    def test_a_search_lists_one_that_is_off_but_not_one_deleted(self, client: TestClient,
                                                                gp: dict) -> None:
        off = client.post("/fhir/Subscription", headers=gp,
                          json={**subscription(ENDPOINT), "status": "off"}).json()
        gone = client.post("/fhir/Subscription", headers=gp, json=subscription(ENDPOINT)).json()
        client.delete(f"/fhir/Subscription/{gone['id']}", headers=gp)
        bundle = client.get("/fhir/Subscription", headers=gp).json()
        assert (bundle["total"], [e["resource"]["id"] for e in bundle["entry"]]) == \
            (1, [off["id"]])

    def test_deleted_is_410_and_its_history_stays(self, client: TestClient, gp: dict) -> None:
        created = client.post("/fhir/Subscription", headers=gp,
                              json=subscription(ENDPOINT)).json()
        url = f"/fhir/Subscription/{created['id']}"
        assert client.delete(url, headers=gp).status_code == 204
        gone = client.get(url, headers=gp)
        assert gone.status_code == 410
        assert gone.json()["issue"][0]["code"] == "deleted"
        assert client.get(f"{url}/_history/1", headers=gp).json() == created
        assert client.get(f"{url}/_history/2", headers=gp).status_code == 410
        assert client.delete(url, headers=gp).status_code == 204  # again: no new version
        bundle = client.get(f"{url}/_history", headers=gp).json()
        Bundle.model_validate(bundle)
        assert [(e["request"]["method"], e["response"]["status"], "resource" in e)
                for e in bundle["entry"]] == [("DELETE", "204 No Content", False),
                                              ("POST", "201 Created", True)]

    def test_another_clients_subscription_is_404_not_410(self, client: TestClient,
                                                          gp: dict) -> None:
        created = client.post("/fhir/Subscription", headers=gp,
                              json=subscription(ENDPOINT)).json()
        client.delete(f"/fhir/Subscription/{created['id']}", headers=gp)
        other = bearer(client, OTHER_GP)
        for path in ("", "/_history/1", "/_history"):
            response = client.get(f"/fhir/Subscription/{created['id']}{path}", headers=other)
            assert response.status_code == 404


class TestConditionalUpdate:
    def test_without_if_match_the_update_applies_and_meta_version_is_ignored(
            self, client: TestClient, gp: dict, team: dict) -> None:
        task = _referral_task(client, gp)
        response = client.put(f"/fhir/Task/{task['id']}", headers=team, json={
            **task, "status": "accepted", "meta": {**task["meta"], "versionId": "7"}})
        assert (response.status_code, response.headers["etag"]) == (200, 'W/"2"')
        assert response.json()["meta"]["versionId"] == "2"

    def test_a_stale_if_match_on_merge_patch_is_412(self, client: TestClient, gp: dict,
                                                    team: dict) -> None:
        task = _referral_task(client, gp)
        assert _merge(client, team, task, {"status": "accepted"}).status_code == 200
        response = _merge(client, team, task, {"status": "in-progress"}, **{"If-Match": 'W/"1"'})
        assert response.status_code == 412
        assert response.json()["issue"][0]["expression"] == ["If-Match"]


@pytest.fixture
def strict_client(settings: Settings, seeded: None) -> Iterator[TestClient]:
    strict = settings.model_copy(update={"require_if_match": True})
    with TestClient(create_app(strict, configure_logs=False)) as test_client:
        yield test_client


def test_strict_mode_needs_if_match_on_every_update(strict_client: TestClient) -> None:
    client = strict_client
    gp = {**bearer(client, "demo-huisarts"), "Content-Type": "application/fhir+json"}
    team = {**bearer(client, "demo-wijkteam-noord"), "Content-Type": "application/fhir+json"}
    task = _referral_task(client, gp)
    consent = post_consent(client, team, consent_resource(resident(client, team))).json()
    refused = [
        client.put(f"/fhir/Task/{task['id']}", json={**task, "status": "accepted"}, headers=team),
        _merge(client, team, task, {"status": "accepted"}),
        client.put(f"/fhir/Consent/{consent['id']}", json={**consent, "status": "inactive"},
                   headers=team),
    ]
    assert [(r.status_code, r.json()["issue"][0]["expression"]) for r in refused] == [
        (428, ["If-Match"])] * 3
    with_it = _merge(client, team, task, {"status": "accepted"}, **{"If-Match": 'W/"1"'})
    assert with_it.status_code == 200


class TestMergePatch:
    @pytest.mark.parametrize("content_type", [MERGE_PATCH, "application/json",
                                              "application/fhir+json"])
    def test_a_partial_task_is_merged(self, content_type: str, client: TestClient, gp: dict,
                                      team: dict) -> None:
        task = _referral_task(client, gp)
        response = _merge(client, team, task, {"status": "accepted"}, content_type)
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.headers["etag"]) == ("accepted", 'W/"2"')

    def test_null_removes_an_element(self, client: TestClient, gp: dict, team: dict) -> None:
        task = _referral_task(client, gp)
        _merge(client, team, task, {"status": "accepted", "note": [{"text": "gebeld"}]})
        response = _merge(client, team, task, {"note": None})
        assert response.status_code == 200
        assert "note" not in response.json()
        assert response.json()["meta"]["versionId"] == "3"

    @pytest.mark.parametrize("body,status,expression,diagnostics", [
        ([{"op": "replace", "path": "/status", "value": "accepted"}], 400, None,
         "a JSON Merge Patch body is a JSON object of the elements to change"),
        ("accepted", 400, None, "a JSON Merge Patch body is a JSON object"),
        ({"id": "other"}, 400, ["Task.id"], "the body's id must be the id in the URL"),
        ({"status": "bogus"}, 422, ["Task.status"], None),
    ])
    def test_bad_merge_patch(self, body: Any, status: int, expression: list[str] | None,
                             diagnostics: str | None, client: TestClient, gp: dict,
                             team: dict, sessions) -> None:  # noqa: ANN001
        task = _referral_task(client, gp)
        before = row_counts(sessions)
        response = _merge(client, team, task, body)
        assert response.status_code == status, response.text
        issue = response.json()["issue"][0]
        assert issue.get("expression") == expression
        if diagnostics:
            assert issue["diagnostics"].startswith(diagnostics)
        assert row_counts(sessions) == before

    def test_other_media_type_is_415_naming_the_accepted(self, client: TestClient, gp: dict,
                                                         team: dict) -> None:
        task = _referral_task(client, gp)
        response = _merge(client, team, task, {"status": "accepted"}, "text/plain")
        assert response.status_code == 415
        assert response.json()["issue"][0]["diagnostics"] == (
            "Content-Type must be one of application/fhir+json, application/json, "
            "application/json-patch+json, application/merge-patch+json")


class TestPrefer:
    def test_return_minimal_is_headers_only(self, client: TestClient, gp: dict) -> None:
        response = client.post("/fhir/ServiceRequest", json=service_request(),
                               headers={**gp, "Prefer": "return=minimal"})
        assert (response.status_code, response.content) == (201, b"")
        assert response.headers["etag"] == 'W/"1"'
        assert response.headers["preference-applied"] == "return=minimal"
        assert client.get(_path(response.headers["location"]), headers=gp).status_code == 200

    def test_return_operation_outcome(self, client: TestClient, gp: dict, team: dict) -> None:
        task = _referral_task(client, gp)
        response = _merge(client, team, task, {"status": "accepted"},
                          Prefer="return=OperationOutcome")
        assert response.status_code == 200
        assert response.json() == {"resourceType": "OperationOutcome", "issue": [{
            "severity": "information", "code": "informational",
            "diagnostics": f"stored Task/{task['id']} version 2"}]}
        assert response.headers["etag"] == 'W/"2"'

    @pytest.mark.parametrize("prefer", ["return=representation", "return=everything",
                                        "respond-async", ""])
    def test_representation_is_the_default_and_unknown_values_are_ignored(
            self, prefer: str, client: TestClient, gp: dict) -> None:
        response = client.post("/fhir/ServiceRequest", json=service_request(),
                               headers={**gp, "Prefer": prefer})
        assert response.status_code == 201
        assert response.json()["resourceType"] == "ServiceRequest"
        assert "preference-applied" not in response.headers

    def test_return_among_other_preferences(self, client: TestClient, team: dict) -> None:
        response = post_consent(client, {**team, "Prefer": 'handling=lenient, return="minimal"'},
                         consent_resource(resident(client, team)))
        assert (response.status_code, response.content) == (201, b"")


class TestPatientRead:
    def test_an_involved_team_reads_what_the_decision_permits(
            self, client: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
        reference = resident(client, team)
        logged = row_counts(sessions)["processing_log"]
        without = client.get(f"/fhir/{reference}", headers=team)
        assert row_counts(sessions)["processing_log"] == logged + 1
        assert without.json() == {"resourceType": "Patient", "id": reference.split("/")[1],
                                  "meta": {"versionId": "1", "tag": [SUBSETTED],
                                           "lastUpdated": without.json()["meta"]["lastUpdated"]}}
        Patient.model_validate(without.json())
        consent = post_consent(client, team, consent_resource(reference)).json()
        assert consent["patient"] == {"reference": reference}
        read = client.get(f"/fhir/{consent['patient']['reference']}", headers=team)
        assert (read.status_code, read.headers["etag"]) == (200, 'W/"1"')
        assert read.json()["identifier"] == [
            {"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": VALID_BSNS[1]}]
        assert read.json()["birthDate"] == born(40)

    def test_not_involved_and_unknown_get_the_same_403(self, client: TestClient, team: dict,
                                                       gp: dict, sessions) -> None:  # noqa: ANN001
        reference = resident(client, team)
        with sessions.begin() as session:
            add_test_client(session, "Zuid", list(TEAM_SCOPES), team_id="wijkteam-zuid",
                            client_id="zuid-registratie", secret=demo_secret("zuid-registratie"))
        zuid = bearer(client, "zuid-registratie")
        refused = [client.get(f"/fhir/{reference}", headers=zuid),
                   client.get(f"/fhir/{reference}/_history/1", headers=zuid),
                   client.get("/fhir/Patient/no-such-person", headers=zuid)]
        assert [r.status_code for r in refused] == [403, 403, 403]
        assert refused[0].json() == refused[2].json()
        assert client.get(f"/fhir/{reference}", headers=gp).status_code == 403  # no scope

    def test_reading_needs_the_read_scope_not_the_write_scope(self, client: TestClient,
                                                              team: dict) -> None:
        """Registering a birth date (write) does not let a system read residents back."""
        reference = resident(client, team)
        writer = bearer(client, "demo-wijkteam-noord", "system/Patient.write")
        refused = client.get(f"/fhir/{reference}", headers=writer)
        assert (refused.status_code, refused.json()["issue"][0]["diagnostics"]) == (
            403, "this action needs the scope system/Patient.read")
        reader = bearer(client, "demo-wijkteam-noord", "system/Patient.read")
        assert client.get(f"/fhir/{reference}", headers=reader).status_code == 200


def test_concurrent_updates_without_if_match_each_make_a_version(client: TestClient, gp: dict,
                                                                   team: dict) -> None:
    """Updates of one Task queue on its row: none is lost and no version is kept twice."""
    task = _referral_task(client, gp)
    assert _merge(client, team, task, {"status": "accepted"}).status_code == 200
    notes = [{"note": [{"text": f"contact {i}"}]} for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda body: _merge(client, team, task, body).status_code,
                                 notes))
    assert statuses == [200] * 6
    bundle = client.get(f"/fhir/Task/{task['id']}/_history", headers=team).json()
    assert [e["resource"]["meta"]["versionId"] for e in bundle["entry"]] == [
        str(v) for v in range(8, 0, -1)]
