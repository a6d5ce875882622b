"""Who speaks for whom: representations registered as RelatedPersons, each with its source
and period, logged, and returned by ``representatives_in_force`` for the consent engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.relatedperson import RelatedPerson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from consent import Representative
from gateway.households.representation import representatives_in_force
from gateway.platform.db.models import ProcessingLogEntry, RelatedPersonRow
from schemas.household import REPRESENTATION_SYSTEM
from tests.gateway.test_households import BSNS, YOUTH, group, member, post
from tests.gateway.test_households_bad_input import URA, person, related
from tests.support.samples import ROLE_CODE_SYSTEM

NOW = datetime.now(UTC)


def register(client: TestClient, team: dict[str, str], body: dict) -> dict:
    response = client.post("/fhir/RelatedPerson", json=body, headers=team)
    assert response.status_code == 201, response.text
    RelatedPerson.model_validate(response.json())
    return response.json()


def in_force(sessions: sessionmaker[Session], patient_ref: str,
             at: datetime = NOW) -> tuple[Representative, ...]:
    with sessions() as session:
        return representatives_in_force(session, patient_ref.removeprefix("Patient/"), at)


@pytest.fixture
def household(client: TestClient, team: dict[str, str]) -> dict[str, str]:
    """Mother and father (both parents) and their daughter of 10."""
    refs = {"mother": person(client, team, BSNS[0], 40),
            "father": person(client, team, BSNS[1], 42),
            "daughter": person(client, team, BSNS[2], 10)}
    post(client, team, group(member(refs["mother"], "parent"), member(refs["father"], "parent"),
                             member(refs["daughter"], "child"), identifier=(YOUTH, "gezin-1")))
    return refs


def test_parental_authority_per_parent(client: TestClient, team: dict[str, str],
                                       household: dict[str, str],
                                       sessions: sessionmaker[Session]) -> None:
    """The mother holds authority; the father is registered as a father without it, so the
    consent engine asks her and not him."""
    mother = register(client, team, related(household["daughter"], "parental-authority",
                                            v3="MTH", bsn=BSNS[0], start="2016-01-01"))
    father = register(client, team, related(household["daughter"], None, v3="FTH",
                                            bsn=BSNS[1]))
    assert mother["relationship"] == [
        {"coding": [{"system": ROLE_CODE_SYSTEM, "code": "MTH"}]},
        {"coding": [{"system": REPRESENTATION_SYSTEM, "code": "parental-authority"}]}]
    assert mother["period"] == {"start": "2016-01-01T00:00:00+00:00"}
    assert "period" not in father
    assert in_force(sessions, household["daughter"]) == (Representative(
        f"RelatedPerson/{mother['id']}", "parental-authority",
        datetime(2016, 1, 1, tzinfo=UTC), None),)
    read = client.get(f"/fhir/RelatedPerson/{mother['id']}", headers=team)
    assert read.json() == mother


def test_a_parent_who_moved_out_keeps_authority(client: TestClient, team: dict[str, str],
                                                household: dict[str, str],
                                                sessions: sessionmaker[Session]) -> None:
    """After a divorce the father's membership ends, his gezag does not: he is still asked.
    Someone never a parent in the daughter's household is still refused."""
    moved = group(member(household["mother"], "parent"),
                  member(household["father"], "parent", start="2014-01-01", end="2025-06-30"),
                  member(household["daughter"], "child"), identifier=(YOUTH, "gezin-1"))
    post(client, team, moved)
    father = register(client, team, related(household["daughter"], "parental-authority",
                                            v3="FTH", bsn=BSNS[1]))
    assert [r.id for r in in_force(sessions, household["daughter"])] == [
        f"RelatedPerson/{father['id']}"]
    stranger = person(client, team, BSNS[3], 45)
    refused = client.post("/fhir/RelatedPerson", headers=team, json=related(
        household["daughter"], "parental-authority", v3="FTH", bsn=BSNS[3]))
    assert refused.status_code == 422, stranger
    assert refused.json()["issue"][0]["expression"] == ["RelatedPerson.patient"]


def test_authority_ends_at_18(client: TestClient, team: dict[str, str],
                              household: dict[str, str],
                              sessions: sessionmaker[Session]) -> None:
    register(client, team, related(household["daughter"], "parental-authority", v3="MTH",
                                   bsn=BSNS[0]))
    assert len(in_force(sessions, household["daughter"])) == 1
    at_18 = NOW.replace(year=NOW.year + 9)  # born on 1 January ten years ago
    assert in_force(sessions, household["daughter"], at_18) == ()


def test_a_certified_institution_as_guardian(client: TestClient, team: dict[str, str],
                                             household: dict[str, str],
                                             sessions: sessionmaker[Session]) -> None:
    body = {**related(household["daughter"], "guardian", start="2025-06-01",
                      end="2027-06-01"),
            "identifier": [{"system": URA, "value": "12345678"}]}
    guardian = register(client, team, body)
    assert guardian["identifier"] == [{"system": URA, "value": "12345678"}]
    with sessions() as session:
        row = session.get(RelatedPersonRow, guardian["id"])
        assert (row.organization, row.bsn, row.relationship, row.client_id) == (
            "ura:12345678", None, None, "demo-wijkteam-noord")
    assert guardian["period"] == {"start": "2025-06-01T00:00:00+00:00",
                                  "end": "2027-06-02T00:00:00+00:00"}  # the end day included
    last_day = datetime(2027, 6, 1, 23, 59, tzinfo=UTC)
    assert [r.kind for r in in_force(sessions, household["daughter"], last_day)] == ["guardian"]
    assert in_force(sessions, household["daughter"], datetime(2027, 6, 2, tzinfo=UTC)) == ()
    assert in_force(sessions, household["daughter"], datetime(2025, 5, 31, tzinfo=UTC)) == ()


def test_an_adults_mentor_curator_and_bewindvoerder(client: TestClient, team: dict[str, str],
                                                    sessions: sessionmaker[Session]) -> None:
    elder = person(client, team, BSNS[4], 80)
    mentor = register(client, team, related(elder, "mentor", bsn=BSNS[5],
                                            start="2020-01-01"))
    ended = register(client, team, related(elder, "curator", start="2019-01-01",
                                           end="2019-12-31"))
    money = register(client, team, {**related(elder, "financial-administrator",
                                              start="2020-01-01"),
                                    "identifier": [{"system": URA, "value": "87654321"}]})
    assert in_force(sessions, elder) == (
        Representative(f"RelatedPerson/{mentor['id']}", "mentor",
                       datetime(2020, 1, 1, tzinfo=UTC), None),
        Representative(f"RelatedPerson/{money['id']}", "financial-administrator",
                       datetime(2020, 1, 1, tzinfo=UTC), None))
    assert [r.id for r in in_force(sessions, elder, datetime(2019, 6, 1, tzinfo=UTC))] == [
        f"RelatedPerson/{ended['id']}"]


def test_each_representation_is_logged(client: TestClient, team: dict[str, str],
                                       household: dict[str, str],
                                       sessions: sessionmaker[Session]) -> None:
    mother = register(client, team, related(household["daughter"], "parental-authority",
                                            v3="MTH", bsn=BSNS[0]))
    with sessions() as session:
        entries = session.scalars(select(ProcessingLogEntry).where(
            ProcessingLogEntry.action == "related_person.registered")).all()
    assert [(e.actor_id, json.loads(e.details or "{}")) for e in entries] == [
        ("demo-wijkteam-noord", {"related_person": mother["id"], "relationship": "MTH",
                                 "representation": "parental-authority"})]
