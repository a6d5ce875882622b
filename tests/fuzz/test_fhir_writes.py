"""Hypothesis-made FHIR bodies for every FHIR write endpoint: never a 5xx, every 4xx an
OperationOutcome. schemathesis (``test_openapi_schemathesis.py``) sends bodies built from the
OpenAPI document's loose schemas; this test mutates valid resources, so it reaches deeper.

Each example starts from a valid resource of the endpoint and applies one to four structural
mutations: a value of the wrong type, a missing element, an odd reference, deep nesting, unicode,
huge numbers, extensions where none are expected. Deterministic: a fixed number of examples,
derandomized, without hypothesis' example database. ``FUZZED`` must name every POST, PUT and
PATCH route under ``/fhir`` (``test_every_fhir_write_route_is_fuzzed``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.platform.settings import Settings
from schemas.household import MEMBER_ROLE_EXTENSION
from tests.conftest import BASE_URL, TEST_KEYS, involve
from tests.support.markers import SQLITE_ONLY
from tests.support.plans import care_plan, goal
from tests.support.samples import (
    VALID_BSNS,
    consent_resource,
    patient,
    related_person,
    service_request,
    subscription,
)

EXAMPLES = 60
HOOK = "https://93.184.215.14/hook"  # an address literal: no name lookup in a test
JSON_PATCH = "application/json-patch+json"
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Known:
    """Resources the setup created, so updates reach an existing resource."""

    task: dict[str, Any]
    consent: dict[str, Any]
    patient_ref: str
    subscription: dict[str, Any]
    household: dict[str, Any]
    plan: dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    caller: str  # the fixture whose headers it uses: "gp" or "team"
    url: Callable[[Known], str]
    body: Callable[[Known], Any]
    media_type: str = "application/fhir+json"


FUZZED: dict[tuple[str, str], Endpoint] = {
    ("POST", "/fhir/ServiceRequest"): Endpoint(
        "gp", lambda k: "/fhir/ServiceRequest", lambda k: service_request(consent="parent")),
    ("PUT", "/fhir/Task/{task_id}"): Endpoint(
        "team", lambda k: f"/fhir/Task/{k.task['id']}",
        lambda k: {**k.task, "status": "rejected", "statusReason": {"text": "elders"}}),
    ("PATCH", "/fhir/Task/{task_id}"): Endpoint(
        "team", lambda k: f"/fhir/Task/{k.task['id']}",
        lambda k: [{"op": "replace", "path": "/status", "value": "accepted"},
                   {"op": "add", "path": "/statusReason", "value": {"text": "ja"}}],
        JSON_PATCH),
    ("POST", "/fhir/Subscription"): Endpoint(
        "team", lambda k: "/fhir/Subscription",
        lambda k: subscription(HOOK, header=["X-Team: noord"])),
    ("PUT", "/fhir/Subscription/{subscription_id}"): Endpoint(
        "team", lambda k: f"/fhir/Subscription/{k.subscription['id']}",
        lambda k: {**k.subscription, "status": "requested", "reason": "andere reden"}),
    ("POST", "/fhir/Consent"): Endpoint(
        "team", lambda k: "/fhir/Consent",
        lambda k: consent_resource(k.patient_ref, organization="wijkteam-noord",
                                   categories=("contact",), start="2026-01-01")),
    ("PUT", "/fhir/Consent/{consent_id}"): Endpoint(
        "team", lambda k: f"/fhir/Consent/{k.consent['id']}",
        lambda k: {**k.consent, "status": "inactive"}),
    ("POST", "/fhir/Patient"): Endpoint(
        "team", lambda k: "/fhir/Patient", lambda k: patient(VALID_BSNS[0], "1985-02-14")),
    ("POST", "/fhir/RelatedPerson"): Endpoint(
        "team", lambda k: "/fhir/RelatedPerson", lambda k: related_person(k.patient_ref)),
    ("POST", "/fhir/Group"): Endpoint(
        "team", lambda k: "/fhir/Group", lambda k: household(k.patient_ref)),
    ("PUT", "/fhir/Group/{group_id}"): Endpoint(
        "team", lambda k: f"/fhir/Group/{k.household['id']}",
        lambda k: {**k.household, "member": [{**k.household["member"][0],
                                              "period": {"start": "2024-01-01"}}]}),
    ("POST", "/fhir/CarePlan"): Endpoint(
        "team", lambda k: "/fhir/CarePlan", lambda k: care_plan(
            f"Group/{k.household['id']}", goal("g-2", k.patient_ref, "huisvesting"))),
    ("PUT", "/fhir/CarePlan/{plan_id}"): Endpoint(
        "team", lambda k: f"/fhir/CarePlan/{k.plan['id']}",
        lambda k: {**k.plan, "title": "Plan van het gezin"}),
    ("PATCH", "/fhir/CarePlan/{plan_id}"): Endpoint(
        "team", lambda k: f"/fhir/CarePlan/{k.plan['id']}",
        lambda k: [{"op": "replace", "path": "/title", "value": "Ander plan"}], JSON_PATCH),
    ("POST", "/fhir/CarePlan/{plan_id}/$agree"): Endpoint(
        "team", lambda k: f"/fhir/CarePlan/{k.plan['id']}/$agree",
        lambda k: {"resourceType": "Parameters", "parameter": [
            {"name": "who", "valueReference": {"reference": k.patient_ref}}]}),
    ("POST", "/fhir/CarePlan/{plan_id}/$approve"): Endpoint(
        "team", lambda k: f"/fhir/CarePlan/{k.plan['id']}/$approve", lambda k: {}),
}


def household(patient_ref: str) -> dict[str, Any]:
    """A one-parent household of the known person."""
    return {"resourceType": "Group", "type": "person", "actual": True, "member": [
        {"extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "parent"}],
         "entity": {"reference": patient_ref}}]}


def _write_routes() -> set[tuple[str, str]]:
    settings = Settings(environment="test", database_url="sqlite://", public_base_url=BASE_URL,
                        **TEST_KEYS)
    app = create_app(settings, configure_logs=False)
    return {(method, route.path) for route in iter_route_contexts(app.routes)
            for method in (route.methods or ()) if method in {"POST", "PUT", "PATCH"}
            and route.path.startswith("/fhir/")}


def test_every_fhir_write_route_is_fuzzed() -> None:
    assert sorted(_write_routes()) == sorted(FUZZED)


# ---- the mutations --------------------------------------------------------------------------

ODD_STRINGS = ["", " ", "#", "#nobody", "Patient/", "Patient/../../etc/passwd",
               "Organization/wijkteam-noord/_history/1", "urn:uuid:", "RelatedPerson/%00",
               "http://elsewhere.example/fhir/Patient/1", "Patient/1?_format=xml", "\u0000",
               "\u202e\u0645\u0631\u062d\u0628\u0627", "\U0001f600" * 40, "é" * 300,
               "2026-13-45", "9999-12-31T23:59:60Z", "1985-02-14T25:00:00+99:00",
               "123456782", "Organization/" + "x" * 500, "W/\"1\"", "<script>"]
FHIR_KEYS = ["resourceType", "id", "meta", "extension", "modifierExtension", "contained",
             "status", "_status", "reference", "identifier", "system", "value", "code",
             "coding", "patient", "subject", "performer", "provision", "period", "start",
             "url", "valueString", "valueReference", "op", "path", "channel", "header"]
LEAVES = (st.none() | st.booleans()
          | st.integers(min_value=-(10**30), max_value=10**30)
          | st.sampled_from([2**63, -(2**63) - 1, 10**300, 1e308, -0.0, 0.1])
          | st.floats(allow_nan=False, allow_infinity=False)
          | st.text(max_size=40) | st.sampled_from(ODD_STRINGS))
VALUES = st.recursive(LEAVES, lambda children: st.lists(children, max_size=4)
                      | st.dictionaries(st.sampled_from(FHIR_KEYS) | st.text(max_size=8),
                                        children, max_size=4), max_leaves=12)
EXTENSIONS = st.lists(st.fixed_dictionaries(
    {"url": st.sampled_from(ODD_STRINGS) | st.just("http://nictiz.nl/fhir/ext-x")},
    optional={"valueString": st.text(max_size=20), "valueInteger": LEAVES,
              "valueReference": st.fixed_dictionaries({"reference": st.sampled_from(
                  ODD_STRINGS)}), "extension": VALUES}), min_size=1, max_size=3)


def _paths(value: Any, path: Path = ()) -> Iterator[Path]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


def _get(document: Any, path: Path) -> Any:
    for part in path:
        document = document[part]
    return document


def _set(document: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    _get(document, path[:-1])[path[-1]] = value
    return document


def _nested(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = [value] if level % 2 else {"extension": value}
    return value


def mutate(data: st.DataObject, document: Any) -> Any:
    """One to four structural mutations of ``document`` (a deep copy)."""
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        path = data.draw(st.sampled_from(list(_paths(document))), label="path")
        kind = data.draw(st.sampled_from(["replace", "delete", "add", "extend", "nest",
                                          "odd-string", "repeat"]), label="kind")
        target = _get(document, path)
        if kind == "replace":
            document = _set(document, path, data.draw(VALUES, label="value"))
        elif kind == "delete" and path:
            parent = _get(document, path[:-1])
            del parent[path[-1]]
        elif kind == "add" and isinstance(target, dict):
            target[data.draw(st.sampled_from(FHIR_KEYS), label="key")] = data.draw(VALUES)
        elif kind == "add" and isinstance(target, list):
            target.append(data.draw(VALUES, label="item"))
        elif kind == "extend" and isinstance(target, dict):
            target[data.draw(st.sampled_from(["extension", "modifierExtension"]))] = \
                data.draw(EXTENSIONS, label="extensions")
        elif kind == "nest":
            depth = data.draw(st.integers(1, 60), label="depth")
            document = _set(document, path, _nested(target, depth))
        elif kind == "odd-string" and isinstance(target, str):
            document = _set(document, path, data.draw(st.sampled_from(ODD_STRINGS)))
        elif kind == "repeat" and isinstance(target, list) and target:
            target.extend([target[0]] * data.draw(st.integers(1, 200), label="copies"))
    return document


def check_contract(status: int, body: bytes) -> None:
    """Never a 5xx; a 4xx is an OperationOutcome with an issue."""
    assert status < 500, body[:500]
    if status >= 400:
        assert len(OperationOutcome.model_validate_json(body).issue) >= 1


# ---- the test -------------------------------------------------------------------------------

@pytest.fixture
def known(client: TestClient, gp: dict, team: dict) -> Known:
    referral = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp)
    assert referral.status_code == 201, referral.text
    tasks = client.get(f"/fhir/Task?focus=ServiceRequest/{referral.json()['id']}", headers=team)
    patient_ref = involve(client, VALID_BSNS[0])
    born = client.post("/fhir/Patient", json=patient(VALID_BSNS[0], "1985-02-14"), headers=team)
    assert born.status_code == 200, born.text  # known: the administrator registered the person
    consent = client.post("/fhir/Consent", json=consent_resource(patient_ref), headers=team)
    assert consent.status_code == 201, consent.text
    hook = client.post("/fhir/Subscription", json=subscription(HOOK), headers=team)
    assert hook.status_code == 201, hook.text
    group = client.post("/fhir/Group", json=household(patient_ref), headers=team)
    assert group.status_code == 201, group.text
    plan = client.post("/fhir/CarePlan", headers=team, json=care_plan(
        f"Group/{group.json()['id']}", goal("g-1", patient_ref, "financien"), title="Plan"))
    assert plan.status_code == 201, plan.text
    return Known(tasks.json()["entry"][0]["resource"], consent.json(), patient_ref, hook.json(),
                 group.json(), plan.json())


@SQLITE_ONLY
@pytest.mark.parametrize("route", sorted(FUZZED), ids=[f"{m} {p}" for m, p in sorted(FUZZED)])
def test_fhir_write_never_answers_5xx(route: tuple[str, str], client: TestClient, gp: dict,
                                      team: dict, known: Known) -> None:
    method, _ = route
    endpoint = FUZZED[route]
    base = endpoint.body(known)
    headers = {**(gp if endpoint.caller == "gp" else team), "Content-Type": endpoint.media_type}
    url = endpoint.url(known)

    @examples(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        body = json.dumps(mutate(data, base)).encode()
        etag = client.get(url, headers=headers).headers.get("etag", 'W/"1"') \
            if method != "POST" else None
        response = client.request(method, url, content=body,
                                  headers={**headers, **({"If-Match": etag} if etag else {})})
        check_contract(response.status_code, response.content)

    run()


# What this test found, kept as plain regressions: each was a 500 (AttributeError).
FOUND = {
    "Subscription.channel null": ({"channel": None}, "Subscription.channel"),
    "Subscription.channel.header [null]": (
        {"channel": {**subscription(HOOK)["channel"], "header": [None]}},
        "Subscription.channel.header[0]"),
}


@SQLITE_ONLY
@pytest.mark.parametrize("case", FOUND, ids=list(FOUND))
def test_found_by_fuzzing(case: str, client: TestClient, team: dict) -> None:
    change, expression = FOUND[case]
    response = client.post("/fhir/Subscription", json={**subscription(HOOK), **change},
                           headers=team)
    assert (response.status_code, response.json()["issue"][0]["expression"]) == \
        (422, [expression])
