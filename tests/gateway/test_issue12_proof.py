"""Issue 12, end to end through two systems: the GP adapter (FHIR ServiceRequest) and the fake
registry system (its own JSON at /adapters/fake/messages, the youth unit of wijkteam-zuid).

- a mother referred by a GP and registered by the fake system by BSN is one person, in one
  household, involved with both systems' organisations;
- her child, without BSN in both, is a probable match in the review queue, not merged;
- after a merge through the review API, who-else-helps names both systems' organisations to an
  involved caller, and refuses an uninvolved one;
- a parent without parental authority cannot consent for the child;
- a bewindvoerder's consent covers finances only.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import SCOPE_WHO_ELSE_HELPS, TEAM_SCOPES, adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.platform.db.models import Involvement, Person, ServiceRequestRow
from tests.conftest import add_test_client, bearer
from tests.gateway.test_households_bad_input import related
from tests.support.flows import post_consent
from tests.support.samples import VALID_BSNS, consent_resource, service_request

MOTHER_BSN = VALID_BSNS[3]
POSTCODE = "9711AB"
CHILD = {"familyName": "Jansen-de Vries", "givenName": "Fatima", "birthDate": "2011-04-03",
         "postcode": POSTCODE}
MOTHER = {"bsn": MOTHER_BSN, "familyName": "Jansen", "givenName": "Anna",
          "birthDate": "1985-02-14", "postcode": POSTCODE}
YOUTH = "fake-jeugd"  # the fake registry system: the youth unit of wijkteam-zuid
SCHOOL = "school-klimop"  # helps nobody here
FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def youth(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions.begin() as session:
        add_test_client(session, "Jeugd registratie (fake)",
                        [adapter_scope("fake"), *TEAM_SCOPES], client_id=YOUTH,
                        secret=demo_secret(YOUTH), team_id="wijkteam-zuid", system="fake")
        add_test_client(session, "School De Klimop", [SCOPE_WHO_ELSE_HELPS], client_id=SCHOOL,
                        secret=demo_secret(SCHOOL), role="school", organization="ura:90000401")
    return bearer(client, YOUTH)


def _message(client: TestClient, headers: dict[str, str], message: dict[str, Any]) -> Any:
    answer = client.post("/adapters/fake/messages", content=json.dumps(message),
                         headers={**headers, "Content-Type": "application/json"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _refer(client: TestClient, gp: dict[str, str], referral: dict[str, Any]) -> str:
    """The person id a GP referral was linked to."""
    answer = client.post("/fhir/ServiceRequest", json=referral, headers=gp)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _person_of(sessions: sessionmaker[Session], referral_id: str) -> str:
    with sessions() as session:
        row = session.get(ServiceRequestRow, referral_id)
        assert row is not None
        return row.person_id


def _organizations(sessions: sessionmaker[Session], person_id: str) -> dict[str, str]:
    """organisation -> the source of its involvement with the person."""
    with sessions() as session:
        return {row.organization: row.source for row in session.scalars(
            select(Involvement).where(Involvement.person_id == person_id,
                                      Involvement.ended_at.is_(None)))}


def _child_referral() -> dict[str, Any]:
    """The GP's referral of the child: no BSN, a contained Patient with name, birth date and
    postcode, as the fake system knows her."""
    referral = service_request(no_bsn=True)
    patient = referral["contained"][0]
    patient["name"] = [{"family": CHILD["familyName"], "given": [CHILD["givenName"]]}]
    patient["birthDate"] = CHILD["birthDate"]
    patient["address"] = [{"postalCode": POSTCODE}]
    return referral


@pytest.fixture
def family(client: TestClient, gp: dict[str, str], youth: dict[str, str],
           sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The GP refers the mother (BSN) and her child (no BSN); the fake system registers their
    household (the mother by BSN, the child by its own id) and opens a case for each."""
    mother_referral = _refer(client, gp, service_request(bsn=MOTHER_BSN, consent="self"))
    household = _message(client, youth, {
        "kind": "register-household", "id": "gezin-1", "household": {
            "localId": "g-1", "members": [
                {"person": MOTHER, "role": "parent", "start": "2011-04-03"},
                {"person": {"localId": "k-1", **CHILD}, "role": "child",
                 "start": "2011-04-03"}]}})
    mother_case = _message(client, youth, {"kind": "open-case", "id": "case-1",
                                           "person": {"bsn": MOTHER_BSN}, "caseId": "j-1"})
    child_case = _message(client, youth, {"kind": "open-case", "id": "case-2",
                                          "person": {"localId": "k-1"}, "caseId": "j-2"})
    child_referral = _refer(client, gp, _child_referral())
    return {"household": household["household"], "mother_case": mother_case,
            "child_case": child_case,
            "mother": _person_of(sessions, mother_referral),
            "child_by_gp": _person_of(sessions, child_referral),
            "child_by_youth": child_case["person"].removeprefix("Patient/")}


def test_the_mother_is_one_person_in_one_household_helped_by_both_systems(
        client: TestClient, family: dict[str, Any], youth: dict[str, str],
        sessions: sessionmaker[Session]) -> None:
    mother = family["mother"]
    assert family["mother_case"]["person"] == f"Patient/{mother}"
    with sessions() as session:
        assert session.scalars(select(Person.id).where(Person.bsn == MOTHER_BSN)).all() == \
            [mother]
    group = client.get(f"/fhir/{family['household']}", headers=youth)
    assert group.status_code == 200, group.text
    members = [m["entity"]["reference"] for m in group.json()["member"]]
    assert f"Patient/{mother}" in members and len(members) == 2
    # one involvement from each system: the GP's referral (its team) and the fake system's case
    involved = _organizations(sessions, mother)
    assert involved["wijkteam-noord"].startswith("referral")
    assert involved["wijkteam-zuid"] == "fake"


def test_the_child_without_bsn_is_a_probable_match_not_merged(
        client: TestClient, family: dict[str, Any], sessions: sessionmaker[Session]) -> None:
    assert family["child_by_gp"] != family["child_by_youth"]
    reviews = client.get("/identity/reviews", headers=bearer(client, "demo-beheer"))
    assert reviews.status_code == 200, reviews.text
    probable = [r for r in reviews.json()["reviews"] if r["kind"] == "probable-match"]
    assert len(probable) == 1
    assert {probable[0]["patient"], probable[0]["candidate"]} == {
        f"Patient/{family['child_by_gp']}", f"Patient/{family['child_by_youth']}"}
    assert _organizations(sessions, family["child_by_gp"]).keys() >= {"wijkteam-noord"}
    assert "wijkteam-zuid" not in _organizations(sessions, family["child_by_gp"])


def _merge_the_child(client: TestClient) -> None:
    admin = bearer(client, "demo-beheer")
    [review] = [r for r in client.get("/identity/reviews", headers=admin).json()["reviews"]
                if r["kind"] == "probable-match"]
    merged = client.post(f"/identity/reviews/{review['id']}/resolve", headers=admin,
                         json={"resolution": "merge", "comment": "same child: checked by phone"})
    assert merged.status_code == 200, merged.text


def test_after_a_merge_who_else_helps_names_both_systems_organisations(
        client: TestClient, family: dict[str, Any], team: dict[str, str]) -> None:
    _merge_the_child(client)
    for person_id in (family["child_by_gp"], family["child_by_youth"]):
        answer = client.get(f"/fhir/Patient/{person_id}/$who-else-helps", headers=team)
        assert answer.status_code == 200, answer.text
        helpers = {p["member"]["identifier"]["value"] for p in answer.json()["participant"]}
        assert {"wijkteam-noord", "wijkteam-zuid"} <= helpers
    refused = client.get(f"/fhir/Patient/{family['child_by_gp']}/$who-else-helps",
                         headers=bearer(client, SCHOOL))
    assert refused.status_code == 403


def test_a_parent_without_authority_cannot_consent_for_the_child(
        client: TestClient, family: dict[str, Any], youth: dict[str, str]) -> None:
    child = f"Patient/{family['child_by_youth']}"
    holder = client.post("/fhir/RelatedPerson", headers={**youth, **FHIR}, json=related(
        child, "parental-authority", v3="MTH", bsn=MOTHER_BSN, start=CHILD["birthDate"]))
    assert holder.status_code == 201, holder.text
    father = client.post("/fhir/RelatedPerson", headers={**youth, **FHIR},
                         json=related(child, None, v3="FTH"))  # a father, without authority
    assert father.status_code == 201, father.text
    refused = post_consent(client, {**youth, **FHIR}, consent_resource(
        child, performer=f"RelatedPerson/{father.json()['id']}"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["issue"][0]["expression"] == ["Consent.performer[0]"]
    allowed = post_consent(client, {**youth, **FHIR}, consent_resource(
        child, performer=f"RelatedPerson/{holder.json()['id']}"))
    assert allowed.status_code == 201, allowed.text


def test_a_bewindvoerders_consent_covers_finances_only(
        client: TestClient, family: dict[str, Any], youth: dict[str, str]) -> None:
    mother = f"Patient/{family['mother']}"
    bewind = client.post("/fhir/RelatedPerson", headers={**youth, **FHIR},
                         json=related(mother, "financial-administrator",
                                      start=date.today().replace(day=1).isoformat()))
    assert bewind.status_code == 201, bewind.text
    consented = post_consent(client, {**youth, **FHIR}, consent_resource(
        mother, performer=f"RelatedPerson/{bewind.json()['id']}", activity="debt-support"))
    assert consented.status_code == 201, consented.text
    decision = client.post("/consent/decisions", headers=youth, json={
        "activity": "debt-support", "patient": mother,
        "recipients": [{"organization": "wijkteam-zuid", "role": "wijkteam"}]})
    assert decision.status_code == 200, decision.text
    assert decision.json()["recipients"][0]["permitted_categories"] == ["finances"]
