"""The one household plan through the FHIR API (docs/household-plan.md): drafted by one unit,
completed by the other, agreed and approved, each member's goals shown as their consent
allows, concurrent changes merged item by item, and bad input refused with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gateway.cli.demo_data import demo_secret
from gateway.plans.fhir import MANDATORY
from tests.adapters.test_zcd import GEZIN
from tests.conftest import add_test_client, row_counts
from tests.support.flows import post_consent
from tests.support.plans import (
    PLAN_ADULTS,
    PLAN_YOUTH,
    SCOPES,
    YOUTH_LIST,
    action,
    care_plan,
    goal,
    headers,
    leader,
    plan_systems,
    roles,
    score,
)
from tests.support.samples import consent_resource
from tests.support.units import Units, child_case, client_message, debt

PROTECTION = "jeugdbescherming-noord"  # youth protection: owns the minimum requirements


class Household:
    """The youth dossier's household (mother, father, child, unborn) and its members' ids."""

    def __init__(self, client: TestClient, units: Units, systems: dict[str, dict[str, str]]):
        self.group = units.zcd(GEZIN)["household"]
        units.zcd(child_case("c-1"))  # the team helps the child: it may read the household
        units.menscentraal(client_message("a-1"))  # and the mother, with her debts
        units.menscentraal(debt("a-2", "T-1"))
        read = client.get(f"/fhir/{self.group}", headers=systems[PLAN_YOUTH])
        assert read.status_code == 200, read.text
        self.mother, self.father, self.child, self.unborn = (
            m["entity"]["reference"] for m in read.json()["member"])


@pytest.fixture
def systems(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    return plan_systems(client, sessions)


@pytest.fixture
def home(client: TestClient, units: Units, systems: dict[str, dict[str, str]]) -> Household:
    return Household(client, units, systems)


def _draft(client: TestClient, systems: dict[str, dict[str, str]], home: Household,
           *contained: dict[str, Any]) -> dict[str, Any]:
    made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
        home.group, *(contained or (
            goal("g-opvoeding", home.child, "opvoeding", YOUTH_LIST),
            goal("g-schulden", home.mother, "financien"),
            score("s-1", "g-opvoeding", "start", 2)))))
    assert made.status_code == 201, made.text
    return made.json()


def _ids(plan: dict[str, Any]) -> list[str]:
    return [item["id"] for item in plan.get("contained", [])]


def _plan_consent(client: TestClient, team: dict[str, str], patient: str, role: str) -> None:
    given = post_consent(client, team, consent_resource(
        patient, activity="household-plan", role=role))
    assert given.status_code == 201, given.text


def test_a_draft_is_read_back_by_its_author_whole(
        client: TestClient, systems: dict[str, dict[str, str]], home: Household) -> None:
    plan = _draft(client, systems, home)
    assert plan["status"] == "draft" and plan["meta"]["versionId"] == "1"
    assert plan["subject"] == {"reference": home.group, "type": "Group"}
    assert _ids(plan) == ["g-opvoeding", "g-schulden", "s-1"]
    assert plan["goal"] == [{"reference": "#g-opvoeding"}, {"reference": "#g-schulden"}]


def test_the_other_unit_sees_a_members_goals_only_with_consent(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        home: Household) -> None:
    plan = _draft(client, systems, home)
    seen = client.get(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_ADULTS]).json()
    assert _ids(seen) == []
    assert seen["meta"]["security"][0]["code"] == "REDACTED"
    _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
    seen = client.get(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_ADULTS]).json()
    assert _ids(seen) == ["g-schulden"]  # the child's upbringing still withheld


def test_two_changes_to_different_goals_are_both_kept(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        home: Household) -> None:
    plan = _draft(client, systems, home)
    _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
    adults = client.get(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_ADULTS]).json()
    youth_change = {**plan, "contained": [*plan["contained"],
                                          goal("g-school", home.child, "school", YOUTH_LIST)]}
    first = client.put(f"/fhir/CarePlan/{plan['id']}", headers={
        **systems[PLAN_YOUTH], "If-Match": 'W/"1"'}, json=youth_change)
    assert first.status_code == 200, first.text
    adult_change = {**adults, "contained": [*adults["contained"],
                                            action("t-budget", "g-schulden", home.mother)]}
    second = client.put(f"/fhir/CarePlan/{plan['id']}", headers={
        **systems[PLAN_ADULTS], "If-Match": 'W/"1"'}, json=adult_change)
    assert second.status_code == 200, second.text
    youth = client.get(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_YOUTH]).json()
    # the mother's consent names the adult unit: the youth unit sees her goal (it wrote it)
    # but not the adult unit's action under it
    assert _ids(youth) == ["g-opvoeding", "g-school", "g-schulden", "s-1"]
    adults = client.get(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_ADULTS]).json()
    assert _ids(adults) == ["g-schulden", "t-budget"]
    assert youth["meta"]["versionId"] == adults["meta"]["versionId"] == "3"


def test_the_same_goal_changed_twice_is_refused_naming_both_versions(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        home: Household, sessions: sessionmaker[Session]) -> None:
    plan = _draft(client, systems, home)
    _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
    adults = client.get(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_ADULTS]).json()

    def reworded(resource: dict[str, Any], text: str) -> dict[str, Any]:
        return {**resource, "contained": [
            {**item, "description": {"text": text}} if item["id"] == "g-schulden" else item
            for item in resource["contained"]]}
    first = client.put(f"/fhir/CarePlan/{plan['id']}", headers={
        **systems[PLAN_YOUTH], "If-Match": 'W/"1"'}, json=reworded(plan, "schulden regelen"))
    assert first.status_code == 200, first.text
    before = row_counts(sessions)
    refused = client.put(f"/fhir/CarePlan/{plan['id']}", headers={
        **systems[PLAN_ADULTS], "If-Match": 'W/"1"'}, json=reworded(adults, "budgetplan"))
    assert refused.status_code == 412, refused.text
    text = refused.json()["issue"][0]["diagnostics"]
    assert "Goal/g-schulden" in text and "version 2" in text and "version 1" in text
    assert row_counts(sessions) == before


def test_a_system_without_etag_merges_on_what_it_last_read(
        client: TestClient, systems: dict[str, dict[str, str]], home: Household) -> None:
    plan = _draft(client, systems, home)
    client.put(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_YOUTH], json={
        **plan, "title": "Plan van de familie"})
    stale = {**plan, "contained": [*plan["contained"], action("t-1", "g-opvoeding",
                                                              home.child)]}
    merged = client.put(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_YOUTH],
                        json=stale)
    assert merged.status_code == 200, merged.text
    # its base was version 2 (its own write), so leaving out the title removed it
    assert "title" not in merged.json() and "t-1" in _ids(merged.json())


def test_agreed_and_approved_by_both_units_leaders_the_plan_is_active(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        home: Household) -> None:
    plan = _draft(client, systems, home)
    _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
    agreed = client.post(f"/fhir/CarePlan/{plan['id']}/$agree", headers=systems[PLAN_YOUTH],
                         json={"resourceType": "Parameters", "parameter": [
                             {"name": "who", "valueReference": {"reference": home.mother}}]})
    assert agreed.status_code == 200, agreed.text
    youth = client.post(f"/fhir/CarePlan/{plan['id']}/$approve",
                        headers=leader(client, PLAN_YOUTH, "youth"))
    assert youth.status_code == 200, youth.text
    assert youth.json()["status"] == "draft"  # the adult part waits
    adult = client.post(f"/fhir/CarePlan/{plan['id']}/$approve",
                        headers=leader(client, PLAN_ADULTS, "adult"))
    assert adult.status_code == 200, adult.text
    assert adult.json()["status"] == "active"
    changed = client.put(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_YOUTH], json={
        **plan, "status": "active", "contained": [*plan["contained"],
                                                  goal("g-2", home.child, "school",
                                                       YOUTH_LIST)]})
    assert changed.json()["status"] == "draft"  # a new goal needs agreement and approval


def test_a_worker_cannot_approve(client: TestClient, systems: dict[str, dict[str, str]],
                                 home: Household) -> None:
    plan = _draft(client, systems, home)
    refused = client.post(f"/fhir/CarePlan/{plan['id']}/$approve",
                          headers=systems[PLAN_YOUTH])
    assert refused.status_code == 403, refused.text


def test_a_leader_approves_only_a_part_their_unit_has(
        client: TestClient, systems: dict[str, dict[str, str]], home: Household) -> None:
    plan = _draft(client, systems, home, goal("g-1", home.child, "opvoeding", YOUTH_LIST))
    refused = client.post(f"/fhir/CarePlan/{plan['id']}/$approve",
                          headers=leader(client, PLAN_ADULTS, "adult"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["issue"][0]["expression"] == ["CarePlan.goal"]


@pytest.mark.parametrize(("make", "expression"), [
    (lambda h: care_plan("Group/nope", goal("g", h.mother, "financien")), "CarePlan.subject"),
    (lambda h: care_plan(h.group, goal("g", h.mother, "astrologie")),
     "CarePlan.contained[0].category"),
    (lambda h: care_plan(h.group, goal("g", "Patient/someone-else", "financien")),
     "CarePlan.contained[0].subject"),
    (lambda h: care_plan(h.group, goal("g", h.mother, "financien"),
                         action("t", "g-missing", h.mother)),
     "CarePlan.contained[1].reasonReference"),
    (lambda h: care_plan(h.group, goal("g", h.mother, "financien"), score("s", "g", "start", 7)),
     "CarePlan.contained[1].valueInteger"),
    (lambda h: {**care_plan(h.group), "status": "active"}, "CarePlan.status"),
    (lambda h: care_plan(h.group, roles(baas={"reference": h.mother})),
     "CarePlan.contained[0].participant[0].role"),
])
def test_bad_plans_are_refused_naming_the_element(
        client: TestClient, systems: dict[str, dict[str, str]], home: Household,
        sessions: sessionmaker[Session], make: Any, expression: str) -> None:
    before = row_counts(sessions)
    refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=make(home))
    assert 400 <= refused.status_code < 500, refused.text
    assert refused.json()["issue"][0]["expression"] == [expression], refused.text
    assert row_counts(sessions) == before


def test_only_youth_protection_sets_and_lifts_a_mandatory_goal(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        home: Household, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_test_client(session, PROTECTION, SCOPES, client_id=PROTECTION,
                        secret=demo_secret(PROTECTION), team_id="wijkteam-noord",
                        role="jeugdbescherming")
    protection = headers(client, PROTECTION)
    bodemeis = goal("g-jb", home.mother, "veiligheid", YOUTH_LIST,
                    extension=[{"url": MANDATORY, "valueCode": "youth-protection"}])
    refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH],
                          json=care_plan(home.group, bodemeis))
    assert refused.status_code == 422, refused.text
    assert refused.json()["issue"][0]["expression"] == ["CarePlan.contained[id=g-jb]"]
    plan = _draft(client, systems, home)
    read = client.get(f"/fhir/CarePlan/{plan['id']}", headers=protection).json()
    set_by_owner = client.put(f"/fhir/CarePlan/{plan['id']}", headers=protection,
                              json={**read, "contained": [*read.get("contained", []),
                                                          bodemeis]})
    assert set_by_owner.status_code == 200, set_by_owner.text
    _plan_consent(client, team, home.mother, "wijkteam-jeugd")
    youth = client.get(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_YOUTH]).json()
    assert "g-jb" in _ids(youth)
    removed = client.put(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_YOUTH], json={
        **youth, "contained": [i for i in youth["contained"] if i["id"] != "g-jb"]})
    assert removed.status_code == 422, removed.text
    assert removed.json()["issue"][0]["expression"] == ["CarePlan.contained[id=g-jb]"]
    own = client.get(f"/fhir/CarePlan/{plan['id']}", headers=protection).json()
    assert _ids(own) == ["g-jb"]  # the rest is the mother's and the child's, not consented
    lifted = client.put(f"/fhir/CarePlan/{plan['id']}", headers=protection, json={
        **own, "contained": []})
    assert lifted.status_code == 200, lifted.text
