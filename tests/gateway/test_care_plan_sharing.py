"""The plan pushed to the other systems after every accepted change, each in its own format
and as far as consent allows it (docs/household-plan.md): the youth dossier's XML ``plan``, the
adult records' JSON ``plan``; a consent revoked before the push leaves takes the member's goals
out of it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker

from gateway.platform.db.models import CarePlanRow
from tests.gateway.test_care_plan import Household, _draft, _plan_consent
from tests.support.plans import PLAN_YOUTH, YOUTH_LIST, goal, registries_and_plan_systems
from tests.support.units import ADULTS, YOUTH, Units

Z = {"zcd": "urn:wijkgateway:zcd:1.0"}


@pytest.fixture
def systems(client: TestClient, units: Units, sessions: sessionmaker[Session]
            ) -> dict[str, dict[str, str]]:
    return registries_and_plan_systems(client, units, sessions)


@pytest.fixture
def home(client: TestClient, units: Units, systems: dict[str, dict[str, str]]) -> Household:
    return Household(client, units, systems)


def _plans(units: Units, unit: str) -> list[Any]:
    """The plan notices new in the unit's feed (trajectories left aside)."""
    notices = units.news(unit)
    if unit == ADULTS:
        return [n["plan"] for n in notices if n["soort"] == "plan"]
    return [etree.fromstring(n.encode()).find("zcd:plan", Z) for n in notices
            if "<zcd:plan>" in n]


def test_each_registry_gets_the_plan_in_its_format_as_far_as_consent_allows(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        units: Units, home: Household) -> None:
    units.news(YOUTH), units.news(ADULTS)  # the trajectories so far
    _draft(client, systems, home)
    [adult_plan] = _plans(units, ADULTS)
    assert (adult_plan["status"], adult_plan["onvolledig"], adult_plan["doelen"]) == \
        ("concept", True, [])
    [youth_plan] = _plans(units, YOUTH)  # its own unit's plan system wrote it all
    assert youth_plan.findtext("zcd:onvolledig", namespaces=Z) == "false"
    assert [d.findtext("zcd:leefgebied", namespaces=Z) for d in
            youth_plan.findall("zcd:doel", Z)] == ["opvoeding", "financien"]
    _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
    plan = client.get(f"/fhir/CarePlan/{_plan_id(client, systems, home)}",
                      headers=systems[PLAN_YOUTH]).json()
    changed = client.put(f"/fhir/CarePlan/{plan['id']}", headers=systems[PLAN_YOUTH], json={
        **plan, "contained": [*plan["contained"], goal("g-school", home.child, "school",
                                                       YOUTH_LIST)]})
    assert changed.status_code == 200, changed.text
    [adult_plan] = _plans(units, ADULTS)
    assert [(d["doelId"], d["domein"]) for d in adult_plan["doelen"]] == \
        [("g-schulden", "financien")]  # the mother's, not the child's
    assert adult_plan["versie"] == 2 and adult_plan["onvolledig"] is True


def test_a_consent_revoked_before_the_push_leaves_takes_the_goal_out(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        units: Units, home: Household) -> None:
    units.news(ADULTS)
    given = client.post("/fhir/Consent", headers=team, json=_consent(home.mother))
    assert given.status_code == 201, given.text
    _draft(client, systems, home)  # queued with the mother's debt goal in it
    revoked = client.put(f"/fhir/Consent/{given.json()['id']}", headers=team,
                         json={**given.json(), "status": "inactive"})
    assert revoked.status_code == 200, revoked.text
    [adult_plan] = _plans(units, ADULTS)
    assert adult_plan["doelen"] == [] and adult_plan["onvolledig"] is True


def _consent(patient: str) -> dict[str, Any]:
    from tests.support.samples import consent_resource
    return consent_resource(patient, activity="household-plan", role="wijkteam-volwassenen")


def _plan_id(client: TestClient, systems: dict[str, dict[str, str]], home: Household) -> str:
    found = client.get("/fhir/CarePlan", params={"subject": home.group},
                       headers=systems[PLAN_YOUTH]).json()
    return str(found["entry"][0]["resource"]["id"])


def _zcd_plan(base: str = "", goal_text: str = "Rust in huis", extra: str = "") -> str:
    from tests.adapters.test_zcd import bericht
    return bericht(
        f"<zcd:plan><zcd:gezinId>h-1</zcd:gezinId>{base}"
        "<zcd:doel><zcd:doelId>g-opvoeding</zcd:doelId><zcd:leefgebied>opvoeding"
        f"</zcd:leefgebied><zcd:omschrijving>{goal_text}</zcd:omschrijving><zcd:persoon>"
        "<zcd:lokaalId>k-7</zcd:lokaalId></zcd:persoon><zcd:status>active</zcd:status>"
        "</zcd:doel>"
        "<zcd:actie><zcd:actieId>t-1</zcd:actieId><zcd:doelId>g-opvoeding</zcd:doelId>"
        "<zcd:persoon><zcd:lokaalId>k-7</zcd:lokaalId></zcd:persoon>"
        "<zcd:uitvoerder>wijkteam-noord</zcd:uitvoerder><zcd:omschrijving>Opvoedcursus"
        "</zcd:omschrijving><zcd:status>requested</zcd:status>"
        "<zcd:uiterlijk>2027-02-01</zcd:uiterlijk></zcd:actie>"
        "<zcd:score><zcd:scoreId>s-1</zcd:scoreId><zcd:doelId>g-opvoeding</zcd:doelId>"
        "<zcd:soort>start</zcd:soort><zcd:waarde>2</zcd:waarde><zcd:datum>2026-11-20"
        f"</zcd:datum></zcd:score>{extra}</zcd:plan>", f"plan-{goal_text[:4]}{base[-8:-1]}")


def test_the_youth_dossier_drafts_and_changes_the_plan_in_its_own_xml(
        client: TestClient, systems: dict[str, dict[str, str]], units: Units,
        home: Household, sessions: sessionmaker[Session]) -> None:
    units.news(ADULTS)
    drafted = units.zcd(_zcd_plan())
    assert drafted["kind"] == "change-plan" and drafted["version"] == 1, drafted
    with sessions() as session:  # the youth dossier's own items, as stored
        plan = session.get(CarePlanRow, drafted["plan"].removeprefix("CarePlan/")).resource
    goal_read = next(i for i in plan["contained"] if i["id"] == "g-opvoeding")
    assert goal_read["subject"]["reference"] == home.child
    assert goal_read["category"][0]["coding"][0]["code"] == "parenting"
    changed = units.zcd(_zcd_plan(goal_text="Vaste bedtijden"))
    assert changed["version"] == 2, changed
    again = units.zcd(_zcd_plan(goal_text="Vaste bedtijden"))  # the same message: a replay
    assert again == changed


def test_a_plan_naming_someone_outside_the_household_names_the_element(
        client: TestClient, systems: dict[str, dict[str, str]], units: Units,
        home: Household) -> None:
    from tests.adapters.test_zcd import xml
    from tests.support.units import XML
    stranger = ("<zcd:rol><zcd:rol>contactpersoon</zcd:rol><zcd:persoon><zcd:lokaalId>"
                "vreemde</zcd:lokaalId></zcd:persoon></zcd:rol>")
    refused = client.post("/adapters/zcd/messages", content=xml(_zcd_plan(extra=stranger)),
                          headers={**units.youth, "Content-Type": XML})
    assert refused.status_code == 422, refused.text
    assert "zcd:plan" in refused.text


def test_the_adult_records_change_the_plan_they_received_in_their_own_json(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        units: Units, home: Household, sessions: sessionmaker[Session]) -> None:
    units.news(ADULTS)
    _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
    _draft(client, systems, home)
    [received] = _plans(units, ADULTS)
    [debt_goal] = received["doelen"]
    answer = units.menscentraal({"berichtId": "p-1", "soort": "plan", "plan": {
        "huishoudnummer": "HH-77", "basisversie": received["versie"],
        "doelen": received["doelen"],
        "acties": [{"actieId": "t-budget", "doelId": debt_goal["doelId"],
                    "persoon": {"clientnummer": "C-1"}, "uitvoerder": "wijkteam-noord",
                    "omschrijving": "Budgetplan", "status": "requested",
                    "uiterlijk": "2027-01-31"}]}})
    assert (answer["kind"], answer["version"]) == ("change-plan", 2), answer
    with sessions() as session:
        stored = session.get(CarePlanRow, answer["plan"].removeprefix("CarePlan/")).resource
    # the child's goal and score, withheld from the adult records, are kept as they were;
    # the debt goal keeps its list code (the ZRM's), though the system wrote its own
    assert [i["id"] for i in stored["contained"]] == ["g-opvoeding", "g-schulden", "t-budget",
                                                      "s-1"]
    assert stored["contained"][1]["category"][0]["coding"][0]["code"] == "financien"


def test_a_plan_for_a_household_the_system_does_not_know_names_it(
        client: TestClient, units: Units, home: Household) -> None:
    from tests.support.units import JSON
    refused = client.post("/adapters/menscentraal/messages", headers={
        **units.adults, "Content-Type": JSON}, json={
        "berichtId": "p-9", "soort": "plan", "plan": {"huishoudnummer": "HH-onbekend"}})
    assert refused.status_code == 422, refused.text
    assert refused.json()["issue"][0]["expression"] == ["/plan/huishoudnummer"]
