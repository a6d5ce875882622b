"""Every household and representation mistake is a 4xx OperationOutcome naming the element,
and leaves every table as it was."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy.orm import Session, sessionmaker

from schemas import BSN_SYSTEM
from schemas.household import REPRESENTATION_SYSTEM
from tests.conftest import involve, row_counts
from tests.gateway.test_households import BSNS, YOUTH, group, member, post
from tests.support.flows import born
from tests.support.samples import ROLE_CODE_SYSTEM, patient

URA = "http://fhir.nl/fhir/NamingSystem/ura"


def related(patient_ref: str, kind: str | None, *, v3: str | None = None,
            bsn: str | None = None, start: str | None = None,
            end: str | None = None) -> dict[str, Any]:
    codings = ([{"system": ROLE_CODE_SYSTEM, "code": v3}] if v3 else []) + \
        ([{"system": REPRESENTATION_SYSTEM, "code": kind}] if kind else [])
    resource: dict[str, Any] = {"resourceType": "RelatedPerson",
                                "patient": {"reference": patient_ref},
                                "relationship": [{"coding": [c]} for c in codings]}
    if bsn:
        resource["identifier"] = [{"system": BSN_SYSTEM, "value": bsn}]
    period = {k: v for k, v in (("start", start), ("end", end)) if v}
    return {**resource, **({"period": period} if period else {})}


def person(client: TestClient, team: dict[str, str], bsn: str, age: int) -> str:
    """``Patient/{id}`` of a person the demo team helps, ``age`` years old."""
    reference = involve(client, bsn)
    assert client.post("/fhir/Patient", json=patient(bsn, born(age)),
                       headers=team).status_code == 200
    return reference


@pytest.fixture
def people(client: TestClient, team: dict[str, str]) -> dict[str, str]:
    """A mother (40), her son (10) in her household, a neighbour's child (8) who is not, and
    a man of 70; the household is registered."""
    refs = {"mother": person(client, team, BSNS[0], 40), "son": person(client, team, BSNS[1], 10),
            "other-child": person(client, team, BSNS[2], 8),
            "elder": person(client, team, BSNS[3], 70)}
    refs["household"] = post(client, team, group(
        member(refs["mother"], "parent"), member(refs["son"], "child"),
        identifier=(YOUTH, "gezin-1")))["id"]
    return refs


def group_cases(p: dict[str, str]) -> dict[str, tuple[str, str, dict[str, Any], int, str]]:
    """name -> (method, path, body, status, expression)."""
    household = f"/fhir/Group/{p['household']}"
    return {
        "unknown household": ("PUT", "/fhir/Group/no-such-household",
                              {**group(member(p["mother"], "parent")),
                               "id": "no-such-household"}, 404, "Group.id"),
        "a member twice": ("POST", "/fhir/Group", group(member(p["mother"], "parent"),
                                                        member(p["mother"], "partner")),
                           422, "Group.member[1].entity"),
        "a member twice, by BSN and by id": (
            "POST", "/fhir/Group", group(member(p["mother"], "parent"),
                                         member(BSNS[0], "partner")),
            422, "Group.member[1].entity"),
        "unknown member role": ("POST", "/fhir/Group", group(member(p["mother"], "grandma")),
                                422, "Group.member[0].extension"),
        "no member role": ("POST", "/fhir/Group", group(member(p["mother"], None)), 422,
                           "Group.member[0].extension"),
        "membership ends before it starts": (
            "POST", "/fhir/Group", group(member(p["mother"], "parent", "2024-02-01",
                                                "2024-01-31")),
            422, "Group.member[0].period.end"),
        "membership by the minute": (
            "POST", "/fhir/Group", group(member(p["mother"], "parent",
                                                "2024-02-01T10:00:00Z")),
            422, "Group.member[0].period.start"),
        "membership by the month": ("POST", "/fhir/Group",
                                    group(member(p["mother"], "parent", "2024-02")),
                                    422, "Group.member[0].period.start"),
        "no members": ("POST", "/fhir/Group", group(), 422, "Group.member"),
        "not a person group": ("POST", "/fhir/Group",
                               {**group(member(p["mother"], "parent")), "type": "animal"},
                               422, "Group.type"),
        "not an actual group": ("POST", "/fhir/Group",
                                {**group(member(p["mother"], "parent")), "actual": False},
                                422, "Group.actual"),
        "a member that is no Patient": (
            "POST", "/fhir/Group",
            group({**member(p["mother"], "parent"),
                   "entity": {"reference": "Practitioner/1"}}),
            422, "Group.member[0].entity"),
        "an invalid BSN": ("POST", "/fhir/Group", group(member("123456789", "parent")), 422,
                           "Group.member[0].entity.identifier.value"),
        "an unborn child with a BSN": ("POST", "/fhir/Group",
                                       group(member(p["son"], "unborn")), 422,
                                       "Group.member[0].extension"),
        "a person the team does not help": (
            "POST", "/fhir/Group", group(member("Patient/somebody-else", "parent")), 403,
            ""),
        "a household id another household holds, on PUT": (
            "PUT", household, {**group(member(p["mother"], "parent"), identifier=(YOUTH, "b")),
                               "id": p["household"]}, 409, "Group.identifier[0]"),
        "a PUT without its id": ("PUT", household, group(member(p["mother"], "parent")), 400,
                                 "Group.id"),
    }


RELATED_CASES: dict[str, tuple[Any, int, str]] = {
    # name -> (function of people -> body, status, expression)
    "authority for a person who is not a child of the household": (
        lambda p: related(p["other-child"], "parental-authority", v3="MTH", bsn=BSNS[0]),
        422, "RelatedPerson.patient"),
    "authority without the parent's BSN": (
        lambda p: related(p["son"], "parental-authority", v3="MTH"),
        422, "RelatedPerson.identifier"),
    "a bewindvoerder over a minor": (
        lambda p: related(p["son"], "financial-administrator"),
        422, "RelatedPerson.relationship"),
    "a mentor over a minor": (lambda p: related(p["son"], "mentor"), 422,
                              "RelatedPerson.relationship"),
    "a guardian over an adult": (lambda p: related(p["elder"], "guardian"), 422,
                                 "RelatedPerson.relationship"),
    "gezag over an adult": (
        lambda p: related(p["mother"], "parental-authority", v3="MTH", bsn=BSNS[3]),
        422, "RelatedPerson.relationship"),
    "an unknown representation": (lambda p: related(p["elder"], "godparent"), 422,
                                  "RelatedPerson.relationship"),
    "period ends before it starts": (
        lambda p: related(p["elder"], "mentor", start="2024-03-01", end="2024-02-01"),
        422, "RelatedPerson.period.end"),
    "period by the month": (lambda p: related(p["elder"], "curator", start="2024-03"),
                            422, "RelatedPerson.period.start"),
    "neither family nor representation": (lambda p: related(p["elder"], None, v3="FRND"),
                                          422, "RelatedPerson.relationship"),
    "an institution with an invalid URA": (
        lambda p: {**related(p["son"], "guardian"),
                   "identifier": [{"system": URA, "value": "12"}]},
        422, "RelatedPerson.identifier[0].value"),
}


def _assert_refused(response: Any, status: int, expression: str) -> None:
    assert response.status_code == status, response.text
    OperationOutcome.model_validate(response.json())
    if expression:
        assert response.json()["issue"][0]["expression"] == [expression]


def _counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows per table but the processing log, where a refusal (403) is recorded."""
    return {k: v for k, v in row_counts(sessions).items() if k != "processing_log"}


@pytest.mark.parametrize("name", list(group_cases({k: "x" for k in (
    "household", "mother", "son", "other-child", "elder")})))
def test_group_mistakes(name: str, client: TestClient, team: dict[str, str],
                        people: dict[str, str], sessions: sessionmaker[Session]) -> None:
    if name.startswith("a household id another"):
        post(client, team, group(member(people["elder"], "parent"), identifier=(YOUTH, "b")))
    method, path, body, status, expression = group_cases(people)[name]
    before = _counts(sessions)
    response = client.request(method, path, json=body, headers=team)
    _assert_refused(response, status, expression)
    assert _counts(sessions) == before


def test_ids_of_two_households_conflict(client: TestClient, team: dict[str, str],
                                        people: dict[str, str],
                                        sessions: sessionmaker[Session]) -> None:
    post(client, team, group(member(people["elder"], "parent"), identifier=(YOUTH, "other")))
    before = _counts(sessions)
    response = client.post("/fhir/Group", json={**group(member(people["elder"], "parent")),
                                                "identifier": [
        {"system": YOUTH, "value": "gezin-1"}, {"system": YOUTH, "value": "other"}]},
        headers=team)
    _assert_refused(response, 409, "Group.identifier")
    assert _counts(sessions) == before


@pytest.mark.parametrize("name", RELATED_CASES)
def test_representation_mistakes(name: str, client: TestClient, team: dict[str, str],
                                 people: dict[str, str],
                                 sessions: sessionmaker[Session]) -> None:
    body, status, expression = RELATED_CASES[name]
    before = _counts(sessions)
    response = client.post("/fhir/RelatedPerson", json=body(people), headers=team)
    _assert_refused(response, status, expression)
    assert _counts(sessions) == before
