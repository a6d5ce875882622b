"""The team moves a referral's Task; illegal moves and stale versions are refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from schemas import TASK_TRANSITIONS
from tests.conftest import OTHER_GP, bearer
from tests.support.samples import service_request

PATCH = "application/json-patch+json"


def _referral_task(client: TestClient, gp: dict) -> dict:
    created = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp).json()
    bundle = client.get(f"/fhir/Task?focus=ServiceRequest/{created['id']}", headers=gp).json()
    return bundle["entry"][0]["resource"]


def _patch(client: TestClient, headers: dict, task: dict, ops: list, version: str) -> object:
    return client.patch(f"/fhir/Task/{task['id']}", json=ops,
                        headers={**headers, "Content-Type": PATCH, "If-Match": version})


def _status(status: str, reason: str | None = None) -> list[dict]:
    ops = [{"op": "replace", "path": "/status", "value": status}]
    if reason:
        ops.append({"op": "add", "path": "/statusReason", "value": {"text": reason}})
    return ops


class TestStatusFlow:
    def test_requested_accepted_in_progress_completed(self, client: TestClient, gp: dict,
                                                      team: dict) -> None:
        task = _referral_task(client, gp)
        for version, status in enumerate(["accepted", "in-progress", "completed"], start=1):
            response = _patch(client, team, task, _status(status), f'W/"{version}"')
            assert response.status_code == 200, response.text
            assert response.json()["status"] == status
            assert response.headers["etag"] == f'W/"{version + 1}"'
        seen_by_gp = client.get(f"/fhir/Task/{task['id']}", headers=gp).json()
        assert (seen_by_gp["status"], seen_by_gp["meta"]["versionId"]) == ("completed", "4")

    def test_reject_with_reason_by_put(self, client: TestClient, gp: dict, team: dict) -> None:
        task = _referral_task(client, gp)
        body = {**task, "status": "rejected", "statusReason": {"text": "past niet bij wijkteam"}}
        response = client.put(f"/fhir/Task/{task['id']}", json=body,
                              headers={**team, "If-Match": 'W/"1"'})
        assert response.status_code == 200, response.text
        assert response.json()["statusReason"] == {"text": "past niet bij wijkteam"}

    def test_unchanged_put_creates_no_new_version(self, client: TestClient, gp: dict,
                                                  team: dict) -> None:
        task = _referral_task(client, gp)
        response = client.put(f"/fhir/Task/{task['id']}", json=task,
                              headers={**team, "If-Match": 'W/"1"'})
        assert response.json()["meta"]["versionId"] == "1"


@pytest.mark.parametrize("target", ["completed", "in-progress", "requested-unknown"])
def test_illegal_or_unknown_status_is_refused(target: str, client: TestClient, gp: dict,
                                              team: dict) -> None:
    task = _referral_task(client, gp)
    response = _patch(client, team, task, _status(target), 'W/"1"')
    assert response.status_code == (422 if target not in TASK_TRANSITIONS else 409)
    assert response.json()["issue"][0]["expression"] == ["Task.status"]
    assert client.get(f"/fhir/Task/{task['id']}", headers=team).json()["status"] == "requested"


def test_reject_without_reason_is_422(client: TestClient, gp: dict, team: dict) -> None:
    task = _referral_task(client, gp)
    response = _patch(client, team, task, _status("rejected"), 'W/"1"')
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Task.statusReason"]


class TestPreconditions:
    def test_without_if_match_the_patch_applies(self, client: TestClient, gp: dict,
                                                team: dict) -> None:
        """As on HAPI FHIR; strict mode (428) is in test_versions.py."""
        task = _referral_task(client, gp)
        response = client.patch(f"/fhir/Task/{task['id']}", json=_status("accepted"),
                                headers={**team, "Content-Type": PATCH})
        assert (response.status_code, response.headers["etag"]) == (200, 'W/"2"')

    def test_stale_if_match_is_412(self, client: TestClient, gp: dict, team: dict) -> None:
        task = _referral_task(client, gp)
        assert _patch(client, team, task, _status("accepted"), 'W/"1"').status_code == 200
        response = _patch(client, team, task, _status("in-progress"), 'W/"1"')
        assert response.status_code == 412
        assert response.json()["issue"][0]["expression"] == ["If-Match"]

    def test_malformed_if_match_is_400(self, client: TestClient, gp: dict, team: dict) -> None:
        task = _referral_task(client, gp)
        assert _patch(client, team, task, _status("accepted"), "one").status_code == 400


class TestWhoMayChange:
    def test_the_referring_gp_cannot_move_the_status(self, client: TestClient, gp: dict) -> None:
        task = _referral_task(client, gp)
        gp_with_write = bearer(client, "demo-huisarts")
        response = _patch(client, gp_with_write, task, _status("accepted"), 'W/"1"')
        assert response.status_code == 403  # lacks system/Task.write

    def test_another_practice_does_not_see_the_task(self, client: TestClient, gp: dict) -> None:
        task = _referral_task(client, gp)
        assert client.get(f"/fhir/Task/{task['id']}",
                          headers=bearer(client, OTHER_GP)).status_code == 404


@pytest.mark.parametrize("element,value", [("owner", {"reference": "Organization/x"}),
                                           ("focus", {"reference": "ServiceRequest/x"}),
                                           ("intent", "plan")])
def test_gateway_managed_elements_cannot_change(element: str, value: object, client: TestClient,
                                                gp: dict, team: dict) -> None:
    task = _referral_task(client, gp)
    response = client.put(f"/fhir/Task/{task['id']}", json={**task, element: value},
                          headers={**team, "If-Match": 'W/"1"'})
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == [f"Task.{element}"]


# RFC 5789 section 2.2: a malformed patch document is a 400; a well-formed patch that cannot
# be applied to the current Task is a 422.
@pytest.mark.parametrize("ops,status,diagnostics", [
    ({"op": "replace"}, 400, "a JSON Patch body is an array of operations"),
    ([{"op": "replace", "path": "/status"}], 400, "each JSON Patch operation is an object"),
    ([{"op": "jump"}], 400, "each JSON Patch operation is an object"),
    ([{"path": "/status", "value": "accepted"}], 400, "each JSON Patch operation is an object"),
    (["replace"], 400, "each JSON Patch operation is an object"),
    ([{"op": "remove", "path": "/nothing"}], 422, "the patch cannot be applied"),
    ([{"op": "test", "path": "/status", "value": "completed"}], 422,
     "the patch cannot be applied"),
    ([{"op": "replace", "path": "", "value": []}], 422, "the patched Task must stay a JSON"),
])
def test_malformed_patch_is_refused(ops: object, status: int, diagnostics: str,
                                    client: TestClient, gp: dict, team: dict) -> None:
    task = _referral_task(client, gp)
    response = _patch(client, team, task, ops, 'W/"1"')  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.json()["issue"][0]["diagnostics"].startswith(diagnostics)


def test_a_json_patch_array_sent_as_merge_patch_is_400(client: TestClient, gp: dict,
                                                        team: dict) -> None:
    """``application/fhir+json`` is read as a merge patch (a partial Task, as fhirpy sends)."""
    task = _referral_task(client, gp)
    response = client.patch(f"/fhir/Task/{task['id']}", json=_status("accepted"),
                            headers={**team, "If-Match": 'W/"1"'})
    assert response.status_code == 400
    assert response.json()["issue"][0]["diagnostics"].startswith(
        "a JSON Merge Patch body is a JSON object")
