"""Every claim of ``/fhir/metadata`` is exercised: each interaction, search parameter,
include, supported profile and format it declares has a probe here that makes the request and
checks the answer. The claims are read from the statement itself, so a claim without a probe
fails ("declared but never exercised"), and so does a probe whose behaviour is missing.

SQLite only: this is the API's behaviour, not the database's."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlalchemy.orm import Session, sessionmaker

from gateway.api.fhir.metadata import capability_statement
from gateway.auth.actors import add_actor
from gateway.auth.bearer import Actor
from gateway.cli.demo_data import DEMO_TEAM_IDENTIFIERS
from schemas.household import MEMBER_ROLE_EXTENSION, household_system
from tests.conftest import BASE_URL, bearer, get_token, involve
from tests.support.markers import SQLITE_ONLY
from tests.support.plans import care_plan, goal
from tests.support.samples import (
    REFERRAL_SYSTEM,
    VALID_BSNS,
    consent_resource,
    patient,
    related_person,
    service_request,
    subscription,
)

STATEMENT = capability_statement(BASE_URL, "0")
RESOURCES = {r["type"]: r for r in STATEMENT["rest"][0]["resource"]}
INTERACTIONS = [(t, i["code"]) for t, r in RESOURCES.items() for i in r["interaction"]]
SEARCH_PARAMS = [(t, p["name"]) for t, r in RESOURCES.items() for p in r.get("searchParam", ())]
INCLUDES = [(t, kind, value) for t, r in RESOURCES.items()
            for kind, key in (("_include", "searchInclude"), ("_revinclude", "searchRevInclude"))
            for value in r.get(key, ())]
PROFILES = [(t, p) for t, r in RESOURCES.items() for p in r.get("supportedProfile", ())]
OPERATIONS = [(t, o["name"]) for t, r in RESOURCES.items() for o in r.get("operation", ())]
INTERACTION_ROUTES = {"create": ("POST", ""), "read": ("GET", "/{id}"),
                      "vread": ("GET", "/{id}/_history/{id}"),
                      "history-instance": ("GET", "/{id}/_history"),
                      "search-type": ("GET", ""), "update": ("PUT", "/{id}"),
                      "patch": ("PATCH", "/{id}"), "delete": ("DELETE", "/{id}")}
JSON = "application/fhir+json"
URA = "http://fhir.nl/fhir/NamingSystem/ura"
OTHER_BSN = VALID_BSNS[1]
HOUSEHOLD_SYSTEM, HOUSEHOLD_ID = household_system("conformance"), "gezin-1"
LEADER = Actor("leider-volw", "team-leader", "adult")
pytestmark = SQLITE_ONLY


@dataclass
class World:
    """One of each resource type, and who may use it."""

    client: TestClient
    ids: dict[str, str]
    headers: dict[str, dict[str, str]]
    bsn: str

    def get(self, resource_type: str, path: str = "", **params: str):  # noqa: ANN201
        return self.client.get(f"/fhir/{resource_type}{path}", params=params,
                               headers=self.headers[resource_type])

    def send(self, method: str, resource_type: str, path: str = "", body: object = None,
             content_type: str = JSON):  # noqa: ANN201
        return self.client.request(method, f"/fhir/{resource_type}{path}", json=body,
                                   headers={**self.headers[resource_type],
                                            "Content-Type": content_type})


@pytest.fixture
def world(client: TestClient, gp: dict, team: dict, sessions: sessionmaker[Session]) -> World:
    bsn = VALID_BSNS[0]
    referral = client.post("/fhir/ServiceRequest", headers=gp, json=service_request(
        bsn=bsn, consent="self", identifier="conformance-1")).json()
    task = client.get(f"/fhir/Task?focus=ServiceRequest/{referral['id']}",
                      headers=gp).json()["entry"][0]["resource"]
    hook = client.post("/fhir/Subscription", headers=gp, json=subscription(
        "http://127.0.0.1:9/hook", f"Task?focus=ServiceRequest/{referral['id']}")).json()
    person = involve(client, OTHER_BSN)
    assert client.post("/fhir/Patient", headers=team, json=patient(OTHER_BSN)).status_code == 200
    relative = client.post("/fhir/RelatedPerson", headers=team,
                           json=related_person(person)).json()
    consent = client.post("/fhir/Consent", headers=team, json=consent_resource(
        person, organization="wijkteam-noord")).json()
    household = client.post("/fhir/Group", headers=team, json=household_group(
        person, "parent", HOUSEHOLD_ID)).json()
    officer = bearer(client, "demo-privacy-officer")
    plan = client.post("/fhir/CarePlan", headers=team, json=care_plan(
        f"Group/{household['id']}", goal("g-1", person, "financien"), title="Plan")).json()
    with sessions.begin() as session:
        add_actor(session, "demo-wijkteam-noord", LEADER.id, LEADER.role, LEADER.unit)
    leader = {"Authorization": f"Bearer {get_token(client, 'demo-wijkteam-noord', actor=LEADER)}",
              "Content-Type": JSON}
    return World(client, {
        "ServiceRequest": referral["id"], "Task": task["id"], "Subscription": hook["id"],
        "Organization": "wijkteam-noord", "Consent": consent["id"],
        "Patient": person.split("/")[1], "RelatedPerson": relative["id"], "AuditEvent": "",
        "OperationDefinition": "who-else-helps", "Group": household["id"],
        "CarePlan": plan["id"]},
        {"ServiceRequest": gp, "Task": team, "Subscription": gp, "Organization": gp,
         "Consent": team, "Patient": team, "RelatedPerson": team, "AuditEvent": officer,
         "OperationDefinition": {}, "Group": team, "CarePlan": team,
         "CarePlan$approve": leader}, bsn)


def _ids(bundle: dict) -> set[str]:
    return {e["resource"]["id"] for e in bundle.get("entry", ())
            if e.get("search", {}).get("mode", "match") == "match"}


# ---- interactions -------------------------------------------------------------------------

CREATE_BODIES: dict[str, Callable[[World], dict]] = {
    "ServiceRequest": lambda w: service_request(),
    "Subscription": lambda w: subscription("http://127.0.0.1:9/other"),
    "Consent": lambda w: consent_resource(f"Patient/{w.ids['Patient']}",
                                          activity="casusoverleg"),
    "Patient": lambda w: patient(OTHER_BSN),
    "RelatedPerson": lambda w: related_person(f"Patient/{w.ids['Patient']}", "FTH"),
    "Group": lambda w: household_group(f"Patient/{w.ids['Patient']}", "other"),
    "CarePlan": lambda w: care_plan(f"Group/{_second_household(w)}",
                                    goal("g-1", f"Patient/{w.ids['Patient']}", "huisvesting")),
}


def _second_household(w: World) -> str:
    """A household of its own for a new plan (the world's household has one)."""
    made = w.send("POST", "Group", body=household_group(f"Patient/{w.ids['Patient']}",
                                                        "other", "gezin-2"))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])
# (the changed element, its new value) for update and patch
CHANGES: dict[str, tuple[str, object]] = {
    "Task": ("status", "accepted"), "Subscription": ("reason", "other feedback"),
    "Consent": ("status", "inactive"),
    "Group": ("member", lambda w: household_group(f"Patient/{w.ids['Patient']}", "parent",
                                                  end="2030-12-31")["member"]),
    "CarePlan": ("title", "Plan van het gezin")}


def household_group(patient_ref: str, role: str, identifier: str | None = None,
                    end: str | None = None) -> dict:
    """A household (Group) of one member with a role (and a membership end)."""
    return {"resourceType": "Group", "type": "person", "actual": True,
            **({"identifier": [{"system": HOUSEHOLD_SYSTEM, "value": identifier}]}
               if identifier else {}),
            "member": [{"extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": role}],
                        "entity": {"reference": patient_ref},
                        **({"period": {"end": end}} if end else {})}]}


def _create(w: World, resource_type: str) -> None:
    created = w.send("POST", resource_type, body=CREATE_BODIES[resource_type](w))
    assert created.status_code in (200, 201), created.text
    assert created.headers["etag"] == f'W/"{created.json()["meta"]["versionId"]}"'
    location = created.headers["location"]
    assert re.fullmatch(rf"{BASE_URL}/fhir/{resource_type}/[^/]+/_history/\d+", location)
    assert w.get(resource_type, location.removeprefix(f"{BASE_URL}/fhir/{resource_type}")
                 ).status_code == 200


def _read(w: World, resource_type: str) -> None:
    read = w.get(resource_type, f"/{w.ids[resource_type]}")
    assert read.status_code == 200, read.text
    assert (read.json()["resourceType"], read.json()["id"]) == (resource_type,
                                                                w.ids[resource_type])


def _vread(w: World, resource_type: str) -> None:
    """readHistory: version 1 stays readable after an update made version 2."""
    assert RESOURCES[resource_type]["readHistory"] is True
    if resource_type in CHANGES:
        _update(w, resource_type)
    first = w.get(resource_type, f"/{w.ids[resource_type]}/_history/1")
    assert first.status_code == 200, first.text
    assert (first.json()["id"], first.json()["meta"]["versionId"]) == (w.ids[resource_type], "1")
    assert w.get(resource_type, f"/{w.ids[resource_type]}/_history/99").status_code == 404


def _history(w: World, resource_type: str) -> None:
    bundle = w.get(resource_type, f"/{w.ids[resource_type]}/_history").json()
    assert bundle["type"] == "history"
    assert {e["resource"]["id"] for e in bundle["entry"]} == {w.ids[resource_type]}


def _search(w: World, resource_type: str) -> None:
    params = {"patient": w.bsn} if resource_type == "AuditEvent" else {}
    bundle = w.get(resource_type, **params).json()
    assert bundle["type"] == "searchset"
    if resource_type == "AuditEvent":
        assert bundle["total"] > 0
    else:
        assert w.ids[resource_type] in _ids(bundle)


def _update(w: World, resource_type: str) -> None:
    current = w.get(resource_type, f"/{w.ids[resource_type]}").json()
    name, value = CHANGES[resource_type]
    value = value(w) if callable(value) else value
    updated = w.send("PUT", resource_type, f"/{current['id']}", {**current, name: value})
    assert updated.status_code == 200, updated.text
    assert updated.json()[name] == value
    assert int(updated.json()["meta"]["versionId"]) == int(current["meta"]["versionId"]) + 1


def _patch(w: World, resource_type: str) -> None:
    """Each declared patch format (JSON Patch, JSON Merge Patch) changes the resource."""
    path = f"/{w.ids[resource_type]}"
    name, value = CHANGES[resource_type]
    for content_type, body in (
            ("application/json-patch+json", [{"op": "replace", "path": f"/{name}",
                                              "value": value}]),
            ("application/merge-patch+json", {name: "in-progress"})):
        assert content_type in STATEMENT["patchFormat"]
        patched = w.send("PATCH", resource_type, path, body, content_type)
        assert patched.status_code == 200, patched.text
    assert w.get(resource_type, path).json()[name] == "in-progress"


def _delete(w: World, resource_type: str) -> None:
    path = f"/{w.ids[resource_type]}"
    assert w.send("DELETE", resource_type, path).status_code == 204
    assert w.get(resource_type, path).status_code == 410


PROBES: dict[str, Callable[[World, str], None]] = {
    "create": _create, "read": _read, "vread": _vread, "history-instance": _history,
    "search-type": _search, "update": _update, "patch": _patch, "delete": _delete}


@pytest.mark.parametrize(("resource_type", "interaction"), INTERACTIONS)
def test_every_declared_interaction_works(world: World, resource_type: str,
                                          interaction: str) -> None:
    PROBES[interaction](world, resource_type)


# (type, operation) -> (method, body, the answer's resourceType); the world's headers for
# "{type}${operation}" when the operation wants other ones (a team leader's approval)
OPERATION_PROBES: dict[tuple[str, str], tuple[str, Callable[[World], object], str]] = {
    ("Patient", "who-else-helps"): ("GET", lambda w: None, "CareTeam"),
    ("Group", "who-else-helps"): ("GET", lambda w: None, "Bundle"),
    ("CarePlan", "agree"): ("POST", lambda w: {"resourceType": "Parameters", "parameter": [
        {"name": "who", "valueReference": {"reference": f"Patient/{w.ids['Patient']}"}}]},
        "CarePlan"),
    ("CarePlan", "approve"): ("POST", lambda w: None, "CarePlan"),
}


@pytest.mark.parametrize(("resource_type", "name"), OPERATIONS)
def test_every_declared_operation_answers_with_its_definition(world: World, resource_type: str,
                                                              name: str) -> None:
    declared = next(o for o in RESOURCES[resource_type]["operation"] if o["name"] == name)
    definition = world.client.get(declared["definition"].replace(
        "https://wijkgateway.nl/fhir", "/fhir")).json()
    assert definition["code"] == name and resource_type in definition["resource"]
    method, body, answer_type = OPERATION_PROBES[resource_type, name]
    headers = world.headers.get(f"{resource_type}${name}", world.headers[resource_type])
    answer = world.client.request(method, f"/fhir/{resource_type}/{world.ids[resource_type]}"
                                  f"/${name}", json=body(world), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["resourceType"] == answer_type


# ---- search parameters --------------------------------------------------------------------

# (type, parameter) -> (a value that finds the world's resource, one that does not)
SEARCH_PROBES: dict[tuple[str, str], Callable[[World], tuple[str, str]]] = {
    ("ServiceRequest", "identifier"): lambda w: (f"{REFERRAL_SYSTEM}|conformance-1",
                                                 f"{REFERRAL_SYSTEM}|conformance-2"),
    ("Task", "focus"): lambda w: (f"ServiceRequest/{w.ids['ServiceRequest']}",
                                  "ServiceRequest/another"),
    ("Task", "status"): lambda w: ("requested,accepted", "completed"),
    ("Organization", "identifier"): lambda w: (
        f"{URA}|{DEMO_TEAM_IDENTIFIERS['wijkteam-noord'].removeprefix('ura:')}", f"{URA}|90000199"),
    # the referral's person: involved, with the referral's own consent only
    ("Consent", "patient"): lambda w: (f"Patient/{w.ids['Patient']}", w.bsn),
    ("Consent", "status"): lambda w: ("active", "inactive"),
    ("Consent", "actor"): lambda w: ("Organization/wijkteam-noord", "Organization/wijkteam-zuid"),
    ("Consent", "purpose"): lambda w: (
        "https://wijkgateway.nl/fhir/CodeSystem/processing-activity|gp-referral-to-wijkteam",
        "https://wijkgateway.nl/fhir/CodeSystem/processing-activity|casusoverleg"),
    ("AuditEvent", "patient"): lambda w: (w.bsn, VALID_BSNS[3]),
    ("Group", "member"): lambda w: (f"Patient/{w.ids['Patient']}", "Patient/another"),
    ("Group", "identifier"): lambda w: (f"{HOUSEHOLD_SYSTEM}|{HOUSEHOLD_ID}",
                                        f"{HOUSEHOLD_SYSTEM}|another"),
    ("CarePlan", "subject"): lambda w: (f"Group/{w.ids['Group']}", "Group/another"),
    ("CarePlan", "member"): lambda w: (f"Patient/{w.ids['Patient']}", "Patient/another"),
    ("CarePlan", "status"): lambda w: ("draft,active", "completed"),
}
LAST_UPDATED = ("ge2000-01-01", "lt2000-01-01")


@pytest.mark.parametrize(("resource_type", "name"), SEARCH_PARAMS)
def test_every_declared_search_parameter_filters(world: World, resource_type: str,
                                                 name: str) -> None:
    probe = SEARCH_PROBES.get((resource_type, name))
    if name == "_lastUpdated":
        found, missed = LAST_UPDATED
    elif probe is None:
        pytest.fail(f"{resource_type}?{name} is declared but never exercised here")
    else:
        found, missed = probe(world)
    hit = world.get(resource_type, **{name: found})
    miss = world.get(resource_type, **{name: missed})
    assert (hit.status_code, miss.status_code) == (200, 200), hit.text + miss.text
    if resource_type == "AuditEvent":
        assert (hit.json()["total"] > 0, miss.json()["total"]) == (True, 0)
    else:
        assert world.ids[resource_type] in _ids(hit.json())
        assert world.ids[resource_type] not in _ids(miss.json())


@pytest.mark.parametrize(("resource_type", "kind", "value"), INCLUDES)
def test_every_declared_include_adds_the_other_side(world: World, resource_type: str,
                                                    kind: str, value: str) -> None:
    bundle = world.get(resource_type, **{kind: value}).json()
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    other = "ServiceRequest" if resource_type == "Task" else "Task"
    assert world.ids[other] in {r["id"] for r in included if r["resourceType"] == other}


def test_undeclared_parameters_are_refused(world: World) -> None:
    for resource_type, resource in RESOURCES.items():
        if "search-type" in {i["code"] for i in resource["interaction"]}:
            answer = world.get(resource_type, **{"not-a-parameter": "x"})
            assert answer.status_code == 400, resource_type


# ---- profiles, formats, the statement itself ------------------------------------------------

NL_CORE_PATIENT = next(c for c in json.loads(
    (Path(__file__).parents[1] / "fixtures" / "referrals" / "practitionerrole-contained.json")
    .read_text())["contained"] if c["resourceType"] == "Patient")
NL_NAME = {"use": "official", "family": "Jansen", "given": ["Piet"],  # nl-core name parts
           "_family": {"extension": [
               {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name",
                "valueString": "Jansen"}]}}
PROFILED: dict[str, Callable[[World], dict]] = {
    # the nl-core Patient a GP system sends (name parts, nl-core address), this resident's BSN
    "Patient": lambda w: {**{k: v for k, v in NL_CORE_PATIENT.items() if k != "id"},
                          "identifier": patient(OTHER_BSN)["identifier"],
                          "birthDate": patient(OTHER_BSN)["birthDate"]},
    "RelatedPerson": lambda w: {**related_person(f"Patient/{w.ids['Patient']}", "FTH"),
                                "name": [NL_NAME],
                                "telecom": [{"system": "phone", "value": "0612345678"}]},
}


@pytest.mark.parametrize(("resource_type", "profile"), PROFILES)
def test_every_supported_profile_is_accepted(world: World, resource_type: str,
                                             profile: str) -> None:
    """An instance shaped as the profile says (its extensions included) is taken in."""
    body = {**PROFILED[resource_type](world), "meta": {"profile": [profile]}}
    answer = world.send("POST", resource_type, body=body)
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["identifier" if resource_type == "Patient" else "patient"] == \
        (body["identifier"] if resource_type == "Patient" else body["patient"])


@pytest.mark.parametrize("media_type", STATEMENT["format"])
def test_every_declared_format_is_served(world: World, media_type: str) -> None:
    read = world.client.get(f"/fhir/ServiceRequest/{world.ids['ServiceRequest']}",
                            headers={**world.headers["ServiceRequest"], "Accept": media_type})
    assert (read.status_code, read.headers["content-type"].split(";")[0]) == (200, media_type)


def test_the_served_statement_is_this_one_and_matches_the_routes(client: TestClient) -> None:
    served = client.get("/fhir/metadata").json()
    CapabilityStatement.model_validate(served)
    assert served == {**STATEMENT, "software": served["software"]}
    routed = {(method.upper(), re.sub(r"\{[^}]+\}", "{id}", path))
              for path, operations in client.app.openapi()["paths"].items()
              if path.startswith("/fhir/") and path != "/fhir/metadata"
              and not path.startswith("/fhir/.well-known/")  # discovery, not a resource
              for method in operations}
    declared = {(method, f"/fhir/{t}{suffix}") for t, code in INTERACTIONS
                for method, suffix in [INTERACTION_ROUTES[code]]} | {
        (OPERATION_PROBES[t, name][0], f"/fhir/{t}/{{id}}/${name}") for t, name in OPERATIONS} | {
        ("GET", "/fhir/Patient/$who-else-helps")}  # type level: its identifier is Patient's
    assert declared == routed
