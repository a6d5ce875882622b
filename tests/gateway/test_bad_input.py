"""Every client mistake gets a 4xx OperationOutcome naming the element, and leaves no row."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import row_counts
from tests.support.samples import AGB, BSN, service_request

UZI = "http://fhir.nl/fhir/NamingSystem/uzi-nr-pers"
URA = "http://fhir.nl/fhir/NamingSystem/ura"


def _with(**changes: Any) -> dict[str, Any]:
    resource = service_request()
    for key, value in changes.items():
        if value is None:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


# (body, status, expression of the first issue)
INVALID_REFERRALS = {
    "wrong resourceType": ({**service_request(), "resourceType": "Patient"}, 400,
                           "ServiceRequest.resourceType"),
    "invalid BSN (elfproef)": (service_request(bsn="123456789"), 422,
                               "ServiceRequest.subject.identifier.value"),
    "BSN too short": (service_request(bsn="12345678"), 422,
                      "ServiceRequest.subject.identifier.value"),
    "masked BSN": (_with(subject={"identifier": {"system": BSN, "_value": {"extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
         "valueCode": "masked"}]}}}), 422, "ServiceRequest.subject.identifier.value"),
    "invalid AGB": (service_request(agb="1234"), 422, "ServiceRequest.requester.identifier.value"),
    "requester without AGB": (_with(requester={"identifier": {"system": "urn:x", "value": "1"}}),
                              422, "ServiceRequest.requester"),
    "missing subject": (_with(subject=None), 422, "ServiceRequest.subject"),
    "missing requester": (_with(requester=None), 422, "ServiceRequest.requester"),
    "missing performer": (_with(performer=None), 422, "ServiceRequest.performer"),
    "unknown team": (service_request(team="wijkteam-atlantis"), 422,
                     "ServiceRequest.performer[0].reference"),
    "two teams": (_with(performer=[{"reference": "Organization/a"},
                                   {"reference": "Organization/b"}]), 422,
                  "ServiceRequest.performer"),
    "literal Patient reference": (_with(subject={"reference": "Patient/123"}), 422,
                                  "ServiceRequest.subject.reference"),
    "dangling contained reference": (_with(subject={"reference": "#nobody"}), 422,
                                     "ServiceRequest.subject.reference"),
    "contained patient without birth date": (_with(
        contained=[{"resourceType": "Patient", "id": "p", "name": [{"family": "X"}]}],
        subject={"reference": "#p"}), 422, "ServiceRequest.contained[0]"),
    "subject is not a Patient": (_with(subject={"type": "Group", "identifier": {
        "system": BSN, "value": "111222333"}}), 422, "ServiceRequest.subject.type"),
    "requester is an Organization": (_with(requester={"type": "Organization", "identifier": {
        "system": AGB, "value": "01234567"}}), 422, "ServiceRequest.requester.type"),
    "status draft": (_with(status="draft"), 422, "ServiceRequest.status"),
    "unknown element": (_with(bogus=1), 422, "ServiceRequest.bogus"),
    "wrong type for note text": (_with(note=[{"text": 5}]), 422, "ServiceRequest.note[0].text"),
    "missing intent": (_with(intent=None), 422, "ServiceRequest.intent"),
    "invalid UZI": (_with(requester={"type": "Practitioner", "identifier": {
        "system": UZI, "value": "90001234"}}), 422, "ServiceRequest.requester.identifier.value"),
    "invalid practice URA": (_with(
        contained=[{"resourceType": "PractitionerRole", "id": "gp",
                    "organization": {"identifier": {"system": URA, "value": "1234"}}}],
        requester={"reference": "#gp"}), 422,
        "ServiceRequest.contained[0].organization.identifier.value"),
    "unknown team identifier": (_with(performer=[{"identifier": {
        "system": URA, "value": "99999999"}}]), 422, "ServiceRequest.performer[0].identifier"),
    "team named by a UZI": (_with(performer=[{"identifier": {
        "system": UZI, "value": "900012345"}}]), 422,
        "ServiceRequest.performer[0].identifier.system"),
    "invalid team URA": (_with(performer=[{"identifier": {"system": URA, "value": "1234567"}}]),
                         422, "ServiceRequest.performer[0].identifier.value"),
    "bad date": (_with(authoredOn="yesterday"), 422, "ServiceRequest.authoredOn"),
}


@pytest.mark.parametrize("case", INVALID_REFERRALS, ids=list(INVALID_REFERRALS))
def test_invalid_referral_is_refused_naming_the_element(case: str, client: TestClient,
                                                        gp: dict, sessions) -> None:  # noqa: ANN001
    body, status, expression = INVALID_REFERRALS[case]
    before = row_counts(sessions)
    response = client.post("/fhir/ServiceRequest", json=body, headers=gp)
    assert response.status_code == status, response.text
    outcome = response.json()
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["expression"] == [expression]
    assert outcome["issue"][0]["severity"] == "error"
    assert row_counts(sessions) == before


RAW_BODIES = {
    "not JSON": (b"<ServiceRequest/>", 400),
    "truncated JSON": (b'{"resourceType": "ServiceRequest"', 400),
    "empty body": (b"", 400),
    "JSON array": (b"[]", 400),
    "JSON string": (b'"ServiceRequest"', 400),
    "invalid UTF-8": (b'{"resourceType": "\xff\xfe"}', 400),
    "too deep": (b'{"a":' * 100 + b"1" + b"}" * 100, 400),
    "recursion bomb": (b"[" * 100_000, 400),
}


@pytest.mark.parametrize("case", RAW_BODIES, ids=list(RAW_BODIES))
def test_malformed_body_is_400(case: str, client: TestClient, gp: dict,
                               sessions) -> None:  # noqa: ANN001
    body, status = RAW_BODIES[case]
    response = client.post("/fhir/ServiceRequest", content=body, headers=gp)
    assert response.status_code == status, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert row_counts(sessions)["service_requests"] == 0


def test_body_over_the_limit_is_413(client: TestClient, gp: dict) -> None:
    body = json.dumps({**service_request(), "note": [{"text": "x" * 1_100_000}]})
    response = client.post("/fhir/ServiceRequest", content=body, headers=gp)
    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-costly"


def test_body_over_the_limit_without_content_length_is_413(client: TestClient,
                                                           gp: dict) -> None:
    def chunks():  # noqa: ANN202 - streamed, so no Content-Length is sent
        for _ in range(20):
            yield b"x" * 100_000

    response = client.post("/fhir/ServiceRequest", content=chunks(), headers=gp)
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml",
                                          "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(content_type: str, client: TestClient, gp: dict) -> None:
    headers = {**gp, "Content-Type": content_type}
    response = client.post("/fhir/ServiceRequest", content=json.dumps(service_request()),
                           headers=headers)
    assert response.status_code == 415
    assert response.json()["issue"][0]["expression"] == ["Content-Type"]


@pytest.mark.parametrize("header", ["identifier", "identifier=x", "_id=1",
                                    "identifier=a|b&identifier=c|d"])
def test_malformed_if_none_exist_is_400(header: str, client: TestClient, gp: dict) -> None:
    response = client.post("/fhir/ServiceRequest", json=service_request(),
                           headers={**gp, "If-None-Exist": header})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["If-None-Exist"]


@pytest.mark.parametrize("query", ["bogus=1", "_count=-1", "_count=abc", "_count=201",
                                   "_offset=-1", "identifier=a&identifier=b"])
def test_bad_search_parameters_are_400(query: str, client: TestClient, gp: dict) -> None:
    response = client.get(f"/fhir/ServiceRequest?{query}", headers=gp)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"]


def _get_paths_with_parameters(client: TestClient) -> list[str]:
    return sorted({route.path for route in iter_route_contexts(client.app.routes)
                   if "GET" in (route.methods or ()) and "{" in route.path})


def test_a_nul_in_any_path_parameter_is_a_400_naming_it(client: TestClient, gp: dict) -> None:
    """PostgreSQL refuses a NUL in text: every GET route with a path parameter, on both
    databases, answers 400 before a query runs (the GP's token passes the scope checks of
    the FHIR routes; the others refuse earlier or the same)."""
    paths = _get_paths_with_parameters(client)
    assert len(paths) > 15
    for path in paths:
        url = re.sub(r"\{[^}]+\}", "a%00b", path)
        response = client.get(url, headers=gp)
        assert response.status_code < 500, (path, response.text)
        if response.status_code == 400:
            assert "control character" in response.text, (path, response.text)
    response = client.get("/fhir/Patient/a%00b", headers=gp)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["patient_id"]


@pytest.mark.parametrize("query", ["identifier=a%00", "status=%01", "x%00=1"])
def test_a_control_character_in_a_query_is_a_400(query: str, client: TestClient,
                                                 gp: dict) -> None:
    response = client.get(f"/fhir/ServiceRequest?{query}", headers=gp)
    assert response.status_code == 400
    assert "control character" in response.json()["issue"][0]["diagnostics"]


def test_a_query_parameter_named_like_a_bsn_is_not_echoed(client: TestClient,
                                                          gp: dict) -> None:
    """Hypothesis found it: the parameter's name went into ``expression`` verbatim."""
    response = client.get("/fhir/ServiceRequest?123456782=%1f", headers=gp)
    assert response.status_code == 400
    assert "123456782" not in response.text
    assert response.json()["issue"][0]["expression"] == ["?"]


def test_unknown_route_is_a_404_operation_outcome(client: TestClient) -> None:
    response = client.get("/fhir/Practitioner/1")
    assert response.status_code == 404
    assert response.json()["issue"] == [{
        "severity": "error", "code": "not-found",
        "diagnostics": "no such endpoint: /docs lists the API, /fhir/metadata the FHIR "
                       "interactions"}]


def test_an_unsupported_method_names_the_ones_the_path_takes(client: TestClient) -> None:
    response = client.patch("/fhir/Task", json=[])  # fhirpy's conditional patch
    assert (response.status_code, response.headers["Allow"]) == (405, "GET")
    assert response.json()["issue"] == [{
        "severity": "error", "code": "not-supported",
        "diagnostics": "PATCH is not supported on this path; it takes GET"}]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["resourceType", "status", "intent", "subject",
                                       "requester", "performer", "identifier", "reference",
                                       "system", "value", "contained", "id", "note"]),
                      children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=st.dictionaries(st.sampled_from(["subject", "requester", "performer",
                                                 "contained", "identifier", "status",
                                                 "resourceType", "note"]),
                                json_values, max_size=3))
def test_random_malformed_referrals_never_cause_a_5xx(mutation: dict, client: TestClient,
                                                      gp: dict) -> None:
    body = {**service_request(), **mutation}
    response = client.post("/fhir/ServiceRequest", json=body, headers=gp)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome"
