"""Households as FHIR Group: create, read, search, versions, memberships with periods, and the
same-household rule (docs/households.md)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.group import Group
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.bearer import Caller
from gateway.auth.scopes import TEAM_SCOPES
from gateway.cli.demo_data import demo_secret
from gateway.households.service import register_household
from gateway.identity.merging import merge
from gateway.platform.db.models import IdentityReview, ProcessingLogEntry
from schemas import BSN_SYSTEM, Identifier, PersonClaim, is_valid_bsn
from schemas.household import (
    MEMBER_ROLE_EXTENSION,
    HouseholdClaim,
    MemberClaim,
    household_system,
)
from tests.conftest import add_test_client, bearer, involve

YOUTH = household_system("zcd")
ADULTS = household_system("menscentraal")


def valid_bsns() -> Iterator[str]:
    """Every valid BSN from 100000009 up, for tests that need more persons than samples."""
    return (f"{n:09d}" for n in itertools.count(100_000_000) if is_valid_bsn(f"{n:09d}"))


BSNS = list(itertools.islice(valid_bsns(), 12))


def member(entity: str, role: str | None, start: str | None = None,
           end: str | None = None) -> dict[str, Any]:
    """A Group.member: ``entity`` is ``Patient/{id}`` or a BSN."""
    result: dict[str, Any] = {"entity": {"reference": entity} if entity.startswith("Patient/")
                              else {"identifier": {"system": BSN_SYSTEM, "value": entity}}}
    if role is not None:
        result["extension"] = [{"url": MEMBER_ROLE_EXTENSION, "valueCode": role}]
    period = {k: v for k, v in (("start", start), ("end", end)) if v}
    return {**result, **({"period": period} if period else {})}


def group(*members: dict[str, Any], identifier: tuple[str, str] | None = None,
          **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Group", "type": "person", "actual": True,
                                "member": list(members), **extra}
    if identifier:
        resource["identifier"] = [{"system": identifier[0], "value": identifier[1]}]
    return resource


def post(client: TestClient, team: dict[str, str], resource: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/fhir/Group", json=resource, headers=team)
    assert response.status_code in (200, 201), response.text
    Group.model_validate(response.json())
    return response.json()


def entities(resource: dict[str, Any]) -> list[tuple[str, str, dict[str, str] | None]]:
    return [(m["entity"]["reference"], m["extension"][0]["valueCode"], m.get("period"))
            for m in resource["member"]]


@pytest.fixture
def family(client: TestClient) -> dict[str, str]:
    """Mother, father and child, each helped by the demo team: role -> ``Patient/{id}``."""
    return {role: involve(client, bsn) for role, bsn in zip(("mother", "father", "child"),
                                                            BSNS, strict=False)}


class TestCreateAndRead:
    def test_created_read_and_parsed(self, client: TestClient, team: dict[str, str],
                                     family: dict[str, str]) -> None:
        response = client.post("/fhir/Group", json=group(
            member(family["mother"], "parent", "2020-01-01"),
            member(family["child"], "child", "2021-03-04"),
            identifier=(YOUTH, "gezin-1")), headers=team)
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["ETag"] == 'W/"1"'
        assert response.headers["Location"].endswith(f"/fhir/Group/{created['id']}/_history/1")
        read = client.get(f"/fhir/Group/{created['id']}", headers=team)
        assert read.status_code == 200
        assert read.json() == created
        Group.model_validate(read.json())
        assert {k: v for k, v in created.items() if k not in ("id", "meta")} == {
            "resourceType": "Group", "identifier": [{"system": YOUTH, "value": "gezin-1"}],
            "active": True, "type": "person", "actual": True, "code": {"text": "household"},
            "member": [
                {"extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "parent"}],
                 "entity": {"reference": family["mother"]}, "period": {"start": "2020-01-01"}},
                {"extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "child"}],
                 "entity": {"reference": family["child"]}, "period": {"start": "2021-03-04"}}]}

    def test_a_read_is_logged_for_every_member(self, client: TestClient,
                                               team: dict[str, str], family: dict[str, str],
                                               sessions: sessionmaker[Session]) -> None:
        created = post(client, team, group(member(family["mother"], "parent"),
                                           member(family["child"], "child")))
        assert client.get(f"/fhir/Group/{created['id']}", headers=team).status_code == 200
        with sessions() as session:
            reads = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.action == "household.read")).all()
            members = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.action == "household.member_added")).all()
        assert [(e.kind, e.actor_id, e.recipient, json.loads(e.details or "")) for e in reads] \
            == [("read", "demo-wijkteam-noord", "wijkteam-noord",
                 {"resource": f"Group/{created['id']}", "version": "1"})] * 2
        assert sorted(e.subject or "" for e in reads) == sorted(e.subject or "" for e in members)

    def test_unknown_household_is_404(self, client: TestClient, team: dict[str, str]) -> None:
        response = client.get("/fhir/Group/no-such-household", headers=team)
        assert response.status_code == 404
        assert response.json()["issue"][0]["expression"] == ["Group.id"]

    def test_unborn_child_is_a_member_by_local_id(self, client: TestClient,
                                                  team: dict[str, str],
                                                  family: dict[str, str]) -> None:
        unborn = {"entity": {"identifier": {"system": "https://zcd.example/kind",
                                            "value": "zwangerschap-7"}},
                  "extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "unborn"}]}
        created = post(client, team, group(member(family["mother"], "parent"), unborn))
        assert [role for _, role, _ in entities(created)] == ["parent", "unborn"]

    def test_versions_kept_on_update(self, client: TestClient, team: dict[str, str],
                                     family: dict[str, str]) -> None:
        created = post(client, team, group(member(family["mother"], "parent")))
        url = f"/fhir/Group/{created['id']}"
        changed = {**created, "member": [*created["member"],
                                         member(family["child"], "child", "2024-05-01")]}
        response = client.put(url, json=changed, headers={**team, "If-Match": 'W/"1"'})
        assert response.status_code == 200, response.text
        assert response.json()["meta"]["versionId"] == "2"
        stale = client.put(url, json=changed, headers={**team, "If-Match": 'W/"1"'})
        assert stale.status_code == 412
        assert client.get(f"{url}/_history/1", headers=team).json()["member"] == \
            created["member"]
        history = client.get(f"{url}/_history", headers=team).json()
        Bundle.model_validate(history)
        assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]

    def test_an_unchanged_put_is_no_new_version(self, client: TestClient, team: dict[str, str],
                                                family: dict[str, str]) -> None:
        created = post(client, team, group(member(family["mother"], "parent")))
        response = client.put(f"/fhir/Group/{created['id']}", json=created, headers=team)
        assert response.status_code == 200
        assert response.json()["meta"]["versionId"] == "1"

    def test_another_team_sees_a_household_only_while_it_helps_a_member(
            self, client: TestClient, team: dict[str, str], family: dict[str, str],
            sessions: sessionmaker[Session]) -> None:
        created = post(client, team, group(member(family["mother"], "parent")))
        with sessions.begin() as session:
            add_test_client(session, "Zuid", list(TEAM_SCOPES), team_id="wijkteam-zuid",
                            client_id="zuid", secret=demo_secret("zuid"))
        other = {**bearer(client, "zuid"), "Content-Type": "application/fhir+json"}
        assert client.get(f"/fhir/Group/{created['id']}", headers=other).status_code == 404
        search = client.get("/fhir/Group", params={"member": family["mother"]}, headers=other)
        assert search.json()["total"] == 0
        involve(client, BSNS[0], "wijkteam-zuid")  # now Zuid helps the mother too
        assert client.get(f"/fhir/Group/{created['id']}", headers=other).json() == created
        change = client.put(f"/fhir/Group/{created['id']}", json={**created, "member": []},
                            headers=other)
        assert change.status_code == 403  # it reads, but did not register it


class TestSearchAndPeriods:
    def test_a_child_in_two_households_after_a_divorce(self, client: TestClient,
                                                        team: dict[str, str],
                                                        family: dict[str, str]) -> None:
        """Co-parenting: the child is a member of the mother's and the father's household,
        each membership with its own period."""
        mothers = post(client, team, group(
            member(family["mother"], "parent", "2015-01-01"),
            member(family["child"], "child", "2016-02-03"), identifier=(YOUTH, "m")))
        fathers = post(client, team, group(
            member(family["father"], "parent", "2023-09-01"),
            member(family["child"], "child", "2023-09-01"), identifier=(YOUTH, "v")))
        assert mothers["id"] != fathers["id"]
        found = client.get("/fhir/Group", params={"member": family["child"]}, headers=team)
        assert found.status_code == 200
        Bundle.model_validate(found.json())
        assert found.json()["total"] == 2
        periods = {e["resource"]["id"]: entities(e["resource"])[1][2]
                   for e in found.json()["entry"]}
        assert periods == {mothers["id"]: {"start": "2016-02-03"},
                           fathers["id"]: {"start": "2023-09-01"}}

    def test_search_by_identifier_and_member(self, client: TestClient, team: dict[str, str],
                                             family: dict[str, str]) -> None:
        created = post(client, team, group(member(family["mother"], "parent"),
                                           identifier=(YOUTH, "gezin-9")))
        by_id = client.get("/fhir/Group", params={"identifier": f"{YOUTH}|gezin-9"},
                           headers=team).json()
        assert [e["resource"]["id"] for e in by_id["entry"]] == [created["id"]]
        other = client.get("/fhir/Group", params={"identifier": f"{ADULTS}|gezin-9"},
                           headers=team).json()
        assert other["total"] == 0
        nobody = client.get("/fhir/Group", params={"member": family["father"]},
                            headers=team).json()
        assert nobody["total"] == 0

    def test_a_membership_ends(self, client: TestClient, team: dict[str, str],
                               family: dict[str, str]) -> None:
        created = post(client, team, group(member(family["mother"], "parent", "2010-01-01"),
                                           member(family["father"], "partner", "2010-01-01")))
        created["member"][1]["period"]["end"] = "2022-12-31"
        updated = client.put(f"/fhir/Group/{created['id']}", json=created, headers=team).json()
        assert entities(updated)[1] == (family["father"], "partner",
                                        {"start": "2010-01-01", "end": "2022-12-31"})


class TestSameHousehold:
    def test_the_same_source_id_is_the_same_household(self, client: TestClient,
                                                      team: dict[str, str],
                                                      family: dict[str, str]) -> None:
        first = post(client, team, group(member(family["mother"], "parent"),
                                         identifier=(YOUTH, "gezin-1")))
        response = client.post("/fhir/Group", json=group(
            member(family["child"], "child"), identifier=(YOUTH, "gezin-1")), headers=team)
        assert response.status_code == 200
        assert response.json()["id"] == first["id"]
        assert response.json()["meta"]["versionId"] == "2"
        assert [e for e, _, _ in entities(response.json())] == [family["mother"],
                                                                family["child"]]

    def test_another_system_with_the_same_adults_is_the_same_household(
            self, client: TestClient, team: dict[str, str], family: dict[str, str]) -> None:
        youth = post(client, team, group(member(family["mother"], "parent"),
                                         member(family["father"], "parent"),
                                         member(family["child"], "child"),
                                         identifier=(YOUTH, "gezin-1")))
        response = client.post("/fhir/Group", json=group(
            member(family["father"], "partner"), member(family["mother"], "parent"),
            identifier=(ADULTS, "huishouden-77")), headers=team)
        assert response.status_code == 200
        joined = response.json()
        assert joined["id"] == youth["id"]
        assert joined["identifier"] == [{"system": YOUTH, "value": "gezin-1"},
                                        {"system": ADULTS, "value": "huishouden-77"}]
        assert entities(joined) == entities(youth)  # the roles it had stand

    def test_past_adults_do_not_make_it_the_same(self, client: TestClient,
                                                 team: dict[str, str],
                                                 family: dict[str, str]) -> None:
        old = post(client, team, group(member(family["mother"], "parent", "2010-01-01",
                                              "2019-12-31")))
        new = post(client, team, group(member(family["mother"], "parent", "2020-01-01")))
        assert new["id"] != old["id"]

    def test_adults_together_in_two_households_go_to_review(
            self, client: TestClient, team: dict[str, str], family: dict[str, str],
            sessions: sessionmaker[Session]) -> None:
        """Never a guess: a new household, and a review against each candidate."""
        first = post(client, team, group(member(family["mother"], "parent"),
                                         member(family["father"], "parent")))
        second = post(client, team, group(member(family["child"], "child")))
        second["member"] += [member(family["mother"], "parent"),
                             member(family["father"], "parent")]
        assert client.put(f"/fhir/Group/{second['id']}", json=second,
                          headers=team).status_code == 200
        response = client.post("/fhir/Group", json=group(
            member(family["mother"], "parent"), member(family["father"], "partner"),
            identifier=(ADULTS, "h-1")), headers=team)
        assert response.status_code == 201
        third = response.json()["id"]
        assert third not in (first["id"], second["id"])
        with sessions() as session:
            reviews = session.scalars(select(IdentityReview).where(
                IdentityReview.fact == "household")).all()
            assert sorted((r.known_value, r.claimed_value, r.source_ref) for r in reviews) \
                == sorted((h, third, f"Group/{third}") for h in (first["id"], second["id"]))


class TestAStrangerCannotJoin:
    """An organisation that helps nobody in a household learns nothing of it, and changes
    nothing, by registering a member's BSN or another system's household id."""

    @pytest.fixture
    def stranger(self, client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
        with sessions.begin() as session:
            add_test_client(session, "Oost", list(TEAM_SCOPES), team_id="wijkteam-zuid",
                            client_id="oost", secret=demo_secret("oost"))
        return {**bearer(client, "oost"), "Content-Type": "application/fhir+json"}

    @pytest.fixture
    def household(self, client: TestClient, team: dict[str, str],
                  family: dict[str, str]) -> dict[str, Any]:
        return post(client, team, group(member(family["mother"], "parent"),
                                        member(family["child"], "child"),
                                        identifier=(YOUTH, "gezin-1")))

    def test_a_parents_bsn_makes_a_household_of_its_own_and_a_review(
            self, client: TestClient, stranger: dict[str, str], household: dict[str, Any],
            sessions: sessionmaker[Session]) -> None:
        response = client.post("/fhir/Group", json=group(member(BSNS[0], "parent")),
                               headers=stranger)
        assert response.status_code == 201, response.text
        own = response.json()
        assert own["id"] != household["id"] and len(own["member"]) == 1
        assert "identifier" not in own
        assert client.get(f"/fhir/Group/{household['id']}", headers=stranger).status_code == 404
        with sessions() as session:
            assert [(r.known_value, r.claimed_value) for r in session.scalars(
                select(IdentityReview).where(IdentityReview.fact == "household"))] == [
                (household["id"], own["id"])]

    def test_another_systems_household_id_is_a_409_that_shows_nothing(
            self, client: TestClient, stranger: dict[str, str], team: dict[str, str],
            household: dict[str, Any]) -> None:
        response = client.post("/fhir/Group", json=group(member(BSNS[5], "child"),
                                                         identifier=(YOUTH, "gezin-1")),
                               headers=stranger)
        assert response.status_code == 409
        assert response.json()["issue"][0]["expression"] == ["Group.identifier"]
        assert household["id"] not in response.text and BSNS[0] not in response.text
        after = client.get(f"/fhir/Group/{household['id']}", headers=team).json()
        assert after["meta"]["versionId"] == household["meta"]["versionId"]

    def test_once_it_helps_a_member_it_joins(self, client: TestClient,
                                             stranger: dict[str, str],
                                             household: dict[str, Any]) -> None:
        involve(client, BSNS[0], "wijkteam-zuid")
        response = client.post("/fhir/Group", json=group(member(BSNS[0], "parent")),
                               headers=stranger)
        assert (response.status_code, response.json()["id"]) == (200, household["id"])


def test_a_merged_resident_is_one_member(client: TestClient, team: dict[str, str],
                                         family: dict[str, str],
                                         sessions: sessionmaker[Session]) -> None:
    """The mother's second record (no BSN, from the adult system) merged into her first: the
    adult system's registration is her household, and she is not added twice."""
    local = {"system": "https://wijkgateway.nl/fhir/NamingSystem/local/menscentraal",
             "value": "client-8"}
    second = post(client, team, group({"entity": {"identifier": local}, "extension": [
        {"url": MEMBER_ROLE_EXTENSION, "valueCode": "other"}]}))
    record = entities(second)[0][0].removeprefix("Patient/")
    first = post(client, team, group(member(family["mother"], "parent"),
                                     member(family["child"], "child")))
    with sessions.begin() as session:
        merge(session, None, survivor_id=family["mother"].removeprefix("Patient/"),
              merged_id=record, by="beheerder-1")
    response = client.post("/fhir/Group", json=group(
        {"entity": {"identifier": local},
         "extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "parent"}]}),
        headers=team)
    assert (response.status_code, response.json()["id"]) == (200, first["id"])
    assert entities(response.json()) == entities(first)
    found = client.get("/fhir/Group", params={"member": f"Patient/{record}"}, headers=team)
    assert {e["resource"]["id"] for e in found.json()["entry"]} == {first["id"], second["id"]}


def test_an_adapter_registers_a_household_by_claims(
        client: TestClient, sessions: sessionmaker[Session]) -> None:
    """What an adapter calls: members as claims (BSN, or the source's own id for an unborn
    child), then the same rule: a second claim with the same adults is the same household."""
    caller = Caller("demo-wijkteam-noord", frozenset(), "wijkteam-noord", "wijkteam",
                    "wijkteam-noord")
    local = Identifier(system="https://wijkgateway.nl/fhir/NamingSystem/local/zcd",
                       value="kind-1")
    claim = HouseholdClaim(Identifier(system=YOUTH, value="g-1"), (
        MemberClaim(PersonClaim(bsn=BSNS[5], local=None), "parent", date(2020, 1, 1)),
        MemberClaim(PersonClaim(bsn=None, local=local), "unborn")))
    with sessions.begin() as session:
        household = register_household(session, caller, claim)
        first_id = household.id
    again = HouseholdClaim(Identifier(system=ADULTS, value="h-9"), (
        MemberClaim(PersonClaim(bsn=BSNS[5], local=None), "parent"),))
    with sessions.begin() as session:
        assert register_household(session, caller, again).id == first_id
