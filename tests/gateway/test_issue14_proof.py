"""Issue 14's proof, end to end through both registries' own formats: a plan drafted from the
youth dossier, completed from the adult records, agreed and approved, read back in both
formats with the right domains withheld; two concurrent changes to different goals both kept;
the same goal changed twice refused; a revoked consent stops the next push."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker

from adapters.zcd.render import check_notice
from tests.adapters.test_zcd import bericht, xml
from tests.gateway.test_care_plan import Household, _plan_consent
from tests.gateway.test_care_plan_sharing import Z, _plans
from tests.support.plans import PLAN_ADULTS, PLAN_YOUTH, leader, registries_and_plan_systems
from tests.support.units import ADULTS, XML, YOUTH, Units


@pytest.fixture
def systems(client: TestClient, units: Units, sessions: sessionmaker[Session]
            ) -> dict[str, dict[str, str]]:
    return registries_and_plan_systems(client, units, sessions)


def _youth_plan(message_id: str, goal_text: str, base: int | None = None,
                received: Any = None) -> str:
    """The youth dossier's plan: the child's upbringing, with a score at the start, and what
    it ``received`` of the others' goals and actions (a plan notice), kept as they came."""
    return bericht(
        "<zcd:plan><zcd:gezinId>h-1</zcd:gezinId>"
        + (f"<zcd:basisversie>{base}</zcd:basisversie>" if base else "")
        + "<zcd:doel><zcd:doelId>opvoeding</zcd:doelId><zcd:leefgebied>opvoeding"
        f"</zcd:leefgebied><zcd:omschrijving>{goal_text}</zcd:omschrijving><zcd:persoon>"
        "<zcd:lokaalId>k-7</zcd:lokaalId></zcd:persoon><zcd:status>active</zcd:status>"
        "</zcd:doel>" + _echo(received, "opvoeding")
        + "<zcd:score><zcd:scoreId>opvoeding-start</zcd:scoreId><zcd:doelId>opvoeding</zcd:doelId>"
        "<zcd:soort>start</zcd:soort><zcd:waarde>2</zcd:waarde>"
        "<zcd:datum>2026-11-20</zcd:datum></zcd:score></zcd:plan>", message_id)


def _echo(received: Any, own: str) -> str:
    """The others' goals and actions of a plan notice, as the dossier sends them back."""
    if received is None:
        return ""
    def text(item: Any, name: str) -> str:
        return str(item.findtext(f"zcd:{name}", namespaces=Z))
    goals = "".join(
        f"<zcd:doel><zcd:doelId>{text(d, 'doelId')}</zcd:doelId><zcd:leefgebied>"
        f"{text(d, 'leefgebied')}</zcd:leefgebied><zcd:omschrijving>{text(d, 'omschrijving')}"
        f"</zcd:omschrijving><zcd:persoonId>{text(d, 'persoonId')}</zcd:persoonId>"
        f"<zcd:status>{text(d, 'status')}</zcd:status></zcd:doel>"
        for d in received.findall("zcd:doel", Z) if text(d, "doelId") != own)
    actions = "".join(
        f"<zcd:actie><zcd:actieId>{text(a, 'actieId')}</zcd:actieId><zcd:doelId>"
        f"{text(a, 'doelId')}</zcd:doelId><zcd:persoonId>{text(a, 'persoonId')}"
        f"</zcd:persoonId><zcd:uitvoerder>{text(a, 'uitvoerder')}</zcd:uitvoerder>"
        f"<zcd:omschrijving>{text(a, 'omschrijving')}</zcd:omschrijving><zcd:status>"
        f"{text(a, 'status')}</zcd:status></zcd:actie>"
        for a in received.findall("zcd:actie", Z))
    return goals + actions


def _adult_plan(message_id: str, goal_text: str, base: int) -> dict[str, Any]:
    """The adult records' plan: the mother's debts and a budget plan."""
    return {"berichtId": message_id, "soort": "plan", "plan": {
        "huishoudnummer": "HH-77", "basisversie": base,
        "doelen": [{"doelId": "schulden", "domein": "financien", "omschrijving": goal_text,
                    "persoon": {"clientnummer": "C-1"}, "status": "active"}],
        "acties": [{"actieId": "budget", "doelId": "schulden",
                    "persoon": {"clientnummer": "C-1"}, "uitvoerder": "wijkteam-noord",
                    "omschrijving": "Budgetplan maken", "status": "requested"}]}}


def _youth_goals(plan: Any) -> dict[str, str]:
    """A youth dossier plan notice's goals: id -> life domain (its own codes)."""
    return {d.findtext("zcd:doelId", namespaces=Z): d.findtext("zcd:leefgebied", namespaces=Z)
            for d in plan.findall("zcd:doel", Z)}


def test_one_plan_through_both_registries(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],
        units: Units) -> None:
    home = Household(client, units, systems)
    units.news(YOUTH), units.news(ADULTS)
    _plan_consent(client, team, home.mother, "wijkteam-volwassenen")

    # drafted from the youth dossier: the adult records get it without the child's upbringing
    drafted = units.zcd(_youth_plan("p-1", "Vaste bedtijden"))
    [received] = _plans(units, ADULTS)
    assert (received["status"], received["doelen"], received["onvolledig"]) == \
        ("concept", [], True)

    # completed from the adult records: the youth dossier hears of the debts only with consent
    completed = units.menscentraal(_adult_plan("a-p-1", "Schulden op een rij", 1))
    assert completed["version"] == 2, completed
    [youth_view] = _plans(units, YOUTH)
    assert _youth_goals(youth_view) == {"opvoeding": "opvoeding"}
    _plan_consent(client, team, home.mother, "wijkteam-jeugd")

    # agreed and approved (team systems, acting team leaders); each registry hears of it
    plan_id = drafted["plan"].removeprefix("CarePlan/")
    agreed = client.post(f"/fhir/CarePlan/{plan_id}/$agree", headers=systems[PLAN_YOUTH],
                         json={"resourceType": "Parameters", "parameter": [
                             {"name": "who", "valueReference": {"reference": home.mother}}]})
    assert agreed.status_code == 200, agreed.text
    for system, unit in ((PLAN_YOUTH, "youth"), (PLAN_ADULTS, "adult")):
        approved = client.post(f"/fhir/CarePlan/{plan_id}/$approve",
                               headers=leader(client, system, unit))
        assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"

    # read back in both formats, each schema-checked on the way: the right domains withheld
    *_, youth_view = _plans(units, YOUTH)
    check_notice(etree.tostring(youth_view.getparent()))
    assert youth_view.findtext("zcd:status", namespaces=Z) == "actief"
    assert _youth_goals(youth_view) == {"opvoeding": "opvoeding", "schulden": "financien"}
    *_, adult_view = _plans(units, ADULTS)
    assert adult_view["status"] == "actief"
    assert [(d["doelId"], d["domein"]) for d in adult_view["doelen"]] == \
        [("schulden", "financien")]
    assert [a["actieId"] for a in adult_view["acties"]] == ["budget"]
    version = adult_view["versie"]

    # two concurrent changes to different goals, both made on the same version: both kept
    youth_change = units.zcd(_youth_plan("p-2", "Rust in huis", version, youth_view))
    adult_change = units.menscentraal(_adult_plan("a-p-2", "Eerst de huur", version))
    assert adult_change["version"] == youth_change["version"] + 1
    [adult_view] = _plans(units, ADULTS)  # the youth dossier's change; not its own
    assert adult_view["versie"] == youth_change["version"]
    *_, youth_view = _plans(units, YOUTH)
    assert {d.findtext("zcd:omschrijving", namespaces=Z) for d in
            youth_view.findall("zcd:doel", Z)} == {"Rust in huis", "Eerst de huur"}
    assert youth_view.findtext("zcd:status", namespaces=Z) == "concept"  # approval again

    # the same goal changed twice on one version: the second is refused, naming both versions
    stale = client.post("/adapters/zcd/messages", content=xml(_youth_plan(
        "p-3", "Nog iets anders", version, youth_view)),
        headers={**units.youth, "Content-Type": XML})
    assert stale.status_code == 412, stale.text
    assert f"version {version}" in stale.text and "Goal/opvoeding" in stale.text

    # a revoked consent stops the next push to the youth dossier
    consents = client.get("/fhir/Consent", params={"patient": home.mother},
                          headers=team).json()
    for entry in consents["entry"]:
        given = entry["resource"]
        if given["status"] == "active" and "wijkteam-jeugd" in str(given["provision"]):
            revoked = client.put(f"/fhir/Consent/{given['id']}", headers=team,
                                 json={**given, "status": "inactive"})
            assert revoked.status_code == 200, revoked.text
    units.menscentraal(_adult_plan("a-p-3", "Eerst de huur, dan de rest",
                                   adult_change["version"]))
    *_, youth_view = _plans(units, YOUTH)
    assert _youth_goals(youth_view) == {"opvoeding": "opvoeding"}
    assert youth_view.findtext("zcd:onvolledig", namespaces=Z) == "true"
