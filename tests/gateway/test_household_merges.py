"""Household merges (docs/households.md): a household review resolves as ``same-household``
(the new household's members and ids move to the known one; a read of the new one is then
410 naming the survivor, ``$who-else-helps`` on it answers for the survivor) or
``different-households``; a merge is listed, logged and undone, the merged household
restored as it was. Every bad input is a 4xx naming the element and changes nothing. The
flows run on both backends, the refusals on SQLite."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import TEAM_SCOPES
from gateway.cli.demo_data import demo_secret
from gateway.households.merging import merge, undo
from gateway.identity.service import queue_conflict
from gateway.platform.db.models import (
    HouseholdMember,
    HouseholdMerge,
    HouseholdRow,
    Person,
    ProcessingLogEntry,
)
from gateway.platform.errors import Conflict
from tests.conftest import add_test_client, bearer, involve, row_counts
from tests.gateway.test_households import ADULTS, BSNS, YOUTH, group, member, post
from tests.support.markers import SQLITE_ONLY

OTHER_CHILD = BSNS[6]


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return bearer(client, "demo-beheer")


@pytest.fixture
def oost(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    """A system of another organisation that helps nobody in the known household."""
    with sessions.begin() as session:
        add_test_client(session, "Oost", list(TEAM_SCOPES), team_id="wijkteam-zuid",
                        client_id="oost", secret=demo_secret("oost"))
    return {**bearer(client, "oost"), "Content-Type": "application/fhir+json"}


@pytest.fixture
def family(client: TestClient) -> dict[str, str]:
    """Mother and child, helped by the demo team: role -> ``Patient/{id}``."""
    return {"mother": involve(client, BSNS[0]), "child": involve(client, BSNS[2])}


@pytest.fixture
def known(client: TestClient, team: dict[str, str], family: dict[str, str]) -> dict[str, Any]:
    return post(client, team, group(member(family["mother"], "parent", "2015-04-01"),
                                    member(family["child"], "child", "2016-02-03"),
                                    identifier=(YOUTH, "gezin-1")))


@pytest.fixture
def new(client: TestClient, oost: dict[str, str], known: dict[str, Any]) -> dict[str, Any]:
    """Oost registers the mother (by BSN) with another child: same adults in a household
    it may not see, so a household of its own and a review (rule 3)."""
    response = client.post("/fhir/Group", headers=oost, json=group(
        member(BSNS[0], "parent", "2019-01-01"), member(OTHER_CHILD, "child"),
        identifier=(ADULTS, "h-9")))
    assert response.status_code == 201, response.text
    return response.json()


def _review(client: TestClient, admin: dict[str, str], claimed: str) -> dict[str, Any]:
    """The one open household review of the ``claimed`` household."""
    [review, *_] = [r for r in client.get("/identity/reviews", headers=admin).json()["reviews"]
                    if r["fact"] == "household" and r["claimed"] == claimed]
    return review


def _resolve(client: TestClient, admin: dict[str, str], review_id: str,
             resolution: str) -> Any:
    return client.post(f"/identity/reviews/{review_id}/resolve", headers=admin,
                       json={"resolution": resolution, "comment": "Gebeld met beide teams"})


def _without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}


def _logged(sessions: sessionmaker[Session], action: str) -> list[ProcessingLogEntry]:
    with sessions() as session:
        return list(session.scalars(select(ProcessingLogEntry).where(
            ProcessingLogEntry.action == action).order_by(ProcessingLogEntry.seq)))


def test_same_household_merges_and_an_undo_restores(
        client: TestClient, team: dict, oost: dict, admin: dict, family: dict,
        known: dict, new: dict, sessions: sessionmaker[Session],
        log_stream: io.StringIO) -> None:
    review = _review(client, admin, new["id"])
    assert (review["kind"], review["known"]) == ("conflict", known["id"])
    resolved = _resolve(client, admin, review["id"], "same-household")
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["resolution"], resolved.json()["released"]) == (
        "same-household", 0)
    merge_id = resolved.json()["merge"]

    merged = client.get(f"/fhir/Group/{known['id']}", headers=team).json()
    other_child = merged["member"][2]["entity"]["reference"]
    assert [(m["entity"]["reference"], m["extension"][0]["valueCode"], m.get("period"))
            for m in merged["member"]] == [
        (family["mother"], "parent", {"start": "2015-04-01"}),  # the survivor's stands
        (family["child"], "child", {"start": "2016-02-03"}), (other_child, "child", None)]
    assert merged["identifier"] == [{"system": YOUTH, "value": "gezin-1"},
                                    {"system": ADULTS, "value": "h-9"}]
    assert merged["meta"]["versionId"] == "2"
    for headers in (team, oost):  # Oost registered the merged household: sees the survivor
        gone = client.get(f"/fhir/Group/{new['id']}", headers=headers)
        assert gone.status_code == 410, gone.text
        issue = gone.json()["issue"][0]
        assert (issue["code"], issue["expression"]) == ("deleted", ["Group.id"])
        assert f"Group/{known['id']}" in issue["diagnostics"]
        assert client.get(f"/fhir/Group/{known['id']}", headers=headers).status_code == 200
    [listed] = client.get(f"/identity/household-merges?group=Group/{new['id']}",
                          headers=admin).json()["merges"]
    assert {k: listed[k] for k in ("id", "survivor", "merged", "review", "merged_by",
                                   "status")} == {
        "id": merge_id, "survivor": f"Group/{known['id']}", "merged": f"Group/{new['id']}",
        "review": review["id"], "merged_by": "beheerder-1", "status": "in-force"}
    assert client.get(f"/identity/household-merges?group={known['id']}",
                      headers=admin).json()["merges"] == [listed]

    undone = client.post(f"/identity/household-merges/{merge_id}/undo", headers=admin,
                         json={"comment": "Toch twee huishoudens"})
    assert (undone.status_code, undone.json()["status"]) == (200, "undone"), undone.text
    restored = client.get(f"/fhir/Group/{new['id']}", headers=oost)
    assert restored.status_code == 200
    assert _without_meta(restored.json()) == _without_meta(new)
    assert restored.json()["meta"]["versionId"] == "3"  # emptied by the merge, then restored
    again = client.get(f"/fhir/Group/{known['id']}", headers=team).json()
    assert _without_meta(again) == _without_meta(known)
    assert again["meta"]["versionId"] == "3"
    assert client.get(f"/fhir/Group/{known['id']}", headers=oost).status_code == 404

    persons = {family["mother"], family["child"], other_child}
    for action in ("household.merged", "household.unmerged"):
        entries = _logged(sessions, action)
        assert len(entries) == len(persons)  # once per member of either household
        assert {(e.kind, e.activity_id, e.actor_id) for e in entries} == {
            ("review", "identity-matching", "demo-beheer")}
        details = json.loads(entries[0].details or "")
        assert details == {"merge": merge_id, "survivor": f"Group/{known['id']}",
                           "merged": f"Group/{new['id']}", "review": review["id"]}
    officer = bearer(client, "demo-privacy-officer")  # the mother's access report shows both
    report = client.get(f"/audit/access-report?patient={BSNS[0]}", headers=officer).json()
    assert {"household.merged", "household.unmerged"} <= {e["action"] for e in report["other"]}
    events = [json.loads(line) for line in log_stream.getvalue().splitlines()
              if "household_" in line and "merged" in line]
    assert [(e["event"], e["resource_id"]) for e in events] == [
        ("household_merged", merge_id), ("household_unmerged", merge_id)]
    assert not any(bsn in log_stream.getvalue() for bsn in BSNS)


@SQLITE_ONLY
def test_different_households_changes_nothing_but_the_review(
        client: TestClient, oost: dict, admin: dict, new: dict,
        sessions: sessionmaker[Session]) -> None:
    review = _review(client, admin, new["id"])
    before = row_counts(sessions)
    kept = _resolve(client, admin, review["id"], "different-households")
    assert (kept.status_code, kept.json()["resolution"]) == (200, "different-households")
    assert "merge" not in kept.json()
    after = row_counts(sessions)
    assert after["household_merges"] == before["household_merges"] == 0
    assert client.get(f"/fhir/Group/{new['id']}", headers=oost).json() == new


def test_after_the_merge_the_survivor_answers_for_the_merged_household(
        client: TestClient, team: dict, oost: dict, admin: dict, known: dict,
        new: dict) -> None:
    assert _resolve(client, admin, _review(client, admin, new["id"])["id"],
                    "same-household").status_code == 200
    helpers = [client.get(f"/fhir/Group/{g}/$who-else-helps", headers=team)
               for g in (new["id"], known["id"])]
    assert [h.status_code for h in helpers] == [200, 200]
    assert helpers[0].json() == helpers[1].json()
    assert len(helpers[0].json()["entry"]) == 2  # the two members the team helps
    changed = client.put(f"/fhir/Group/{new['id']}", headers=oost,
                         json={**new, "member": new["member"][:1]})
    assert changed.status_code == 410
    found = client.get("/fhir/Group", headers=oost).json()
    assert [e["resource"]["id"] for e in found.get("entry", [])] == [known["id"]]
    again = client.post("/fhir/Group", headers=oost, json=group(
        member(OTHER_CHILD, "child"), identifier=(ADULTS, "h-9")))
    assert (again.status_code, again.json()["id"]) == (200, known["id"])  # its id: the survivor


@pytest.fixture
def two_candidates(client: TestClient, team: dict, admin: dict, family: dict,
                   known: dict) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The mother is a parent in two households; a third registration of her is reviewed
    against both: (the third household, its two reviews)."""
    second = post(client, team, group(member(family["child"], "child"),
                                      identifier=(YOUTH, "gezin-2")))
    second["member"].append(member(family["mother"], "parent"))
    assert client.put(f"/fhir/Group/{second['id']}", json=second,
                      headers=team).status_code == 200
    response = client.post("/fhir/Group", headers=team, json=group(
        member(family["mother"], "parent"), identifier=(ADULTS, "h-3")))
    assert response.status_code == 201, response.text
    third = response.json()
    reviews = [r for r in client.get("/identity/reviews", headers=admin).json()["reviews"]
               if r["fact"] == "household" and r["claimed"] == third["id"]]
    assert sorted(r["known"] for r in reviews) == sorted((known["id"], second["id"]))
    return third, reviews


def test_a_registration_against_two_households_ends_as_one(
        client: TestClient, team: dict, admin: dict, two_candidates: tuple) -> None:
    """Resolving both reviews as one home merges all three into one (the second merge the
    other way round, so no household merged away has others merged into it)."""
    third, reviews = two_candidates
    merges = [_resolve(client, admin, r["id"], "same-household").json()["merge"]
              for r in reviews]
    survivor = reviews[0]["known"]
    shown = client.get(f"/identity/household-merges?group={survivor}",
                       headers=admin).json()["merges"]
    assert [(m["id"], m["survivor"], m["merged"]) for m in shown] == [
        (merges[0], f"Group/{survivor}", f"Group/{third['id']}"),
        (merges[1], f"Group/{survivor}", f"Group/{reviews[1]['known']}")]
    ids = {i["value"] for i in client.get(f"/fhir/Group/{survivor}",
                                          headers=team).json()["identifier"]}
    assert ids == {"gezin-1", "gezin-2", "h-3"}
    for gone in (third["id"], reviews[1]["known"]):
        assert client.get(f"/fhir/Group/{gone}", headers=team).status_code == 410


@SQLITE_ONLY
def test_a_review_of_households_that_are_one_already_merges_nothing(
        client: TestClient, admin: dict, two_candidates: tuple,
        sessions: sessionmaker[Session]) -> None:
    third, reviews = two_candidates
    first = _resolve(client, admin, reviews[0]["id"], "same-household").json()["merge"]
    direct = client.post("/identity/household-merges", headers=admin, json={
        "survivor": f"Group/{reviews[0]['known']}", "merged": f"Group/{reviews[1]['known']}",
        "comment": "Zelfde gezin"})
    assert direct.status_code == 201, direct.text
    last = _resolve(client, admin, reviews[1]["id"], "same-household")
    assert (last.status_code, last.json()["status"], last.json()["merge"]) == (
        200, "resolved", None)
    assert [m["id"] for m in client.get(f"/identity/household-merges?group={third['id']}",
                                        headers=admin).json()["merges"]] == [first]
    assert row_counts(sessions)["household_merges"] == 2


@SQLITE_ONLY
def test_a_review_between_two_survivors_is_refused_and_stays_open(
        client: TestClient, admin: dict, two_candidates: tuple,
        sessions: sessionmaker[Session]) -> None:
    """Each of the two households has another merged into it: merging either away would
    make a chain, so the review is 409 naming ``id`` and stays open (undo one first)."""
    third, reviews = two_candidates
    for survivor, merged in zip((reviews[0]["known"], third["id"]),
                                _households(sessions, 2), strict=True):
        assert client.post("/identity/household-merges", headers=admin, json={
            "survivor": f"Group/{survivor}", "merged": f"Group/{merged}",
            "comment": "Zelfde gezin"}).status_code == 201
    _refused(client, sessions, "post", f"/identity/reviews/{reviews[0]['id']}/resolve", admin,
             {"resolution": "same-household", "comment": "Zelfde gezin"}, 409, "id")
    assert _review(client, admin, third["id"])["status"] == "open"


@SQLITE_ONLY
@pytest.mark.parametrize("resolution", ["merge", "known-is-right", "different-person"])
def test_a_household_review_takes_only_its_own_resolutions(
        client: TestClient, admin: dict, new: dict, sessions: sessionmaker[Session],
        resolution: str) -> None:
    _refused(client, sessions, "post", f"/identity/reviews/"
             f"{_review(client, admin, new['id'])['id']}/resolve", admin,
             {"resolution": resolution, "comment": "verkeerde soort"}, 422, "resolution")


@SQLITE_ONLY
def test_a_person_conflict_is_no_household_merge(client: TestClient, admin: dict,
                                                 family: dict,
                                                 sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        conflict = queue_conflict(session, person_id=family["mother"].removeprefix("Patient/"),
                                  fact="birth_date", known="1985-02-14", claimed="1985-03-14",
                                  source_ref="zcd/L-1", client_id="demo-wijkteam-noord").id
    _refused(client, sessions, "post", f"/identity/reviews/{conflict}/resolve", admin,
             {"resolution": "same-household", "comment": "verkeerde soort"}, 422,
             "resolution")


def _refused(client: TestClient, sessions: sessionmaker[Session], method: str, url: str,
             headers: dict[str, str], body: dict[str, Any] | None, status: int,
             expression: str) -> None:
    before = row_counts(sessions)
    response = client.request(method, url, headers=headers, json=body)
    assert response.status_code == status, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["expression"] == [expression]
    assert row_counts(sessions) == before


@SQLITE_ONLY
class TestBadInput:
    def test_unknown_review_and_merge(self, client: TestClient, admin: dict,
                                      sessions: sessionmaker[Session]) -> None:
        _refused(client, sessions, "post", "/identity/reviews/nope/resolve", admin,
                 {"resolution": "same-household", "comment": "Zelfde gezin"}, 404, "id")
        _refused(client, sessions, "post", "/identity/household-merges/nope/undo", admin,
                 {"comment": "Toch niet"}, 404, "id")

    def test_a_review_resolved_already_and_a_merge_undone_twice(
            self, client: TestClient, admin: dict, new: dict,
            sessions: sessionmaker[Session]) -> None:
        review = _review(client, admin, new["id"])["id"]
        merge_id = _resolve(client, admin, review, "same-household").json()["merge"]
        for resolution in ("same-household", "different-households"):
            _refused(client, sessions, "post", f"/identity/reviews/{review}/resolve", admin,
                     {"resolution": resolution, "comment": "Nog een keer"}, 409, "id")
        assert client.post(f"/identity/household-merges/{merge_id}/undo", headers=admin,
                           json={"comment": "Toch niet"}).status_code == 200
        _refused(client, sessions, "post", f"/identity/household-merges/{merge_id}/undo",
                 admin, {"comment": "Nogmaals"}, 409, "id")

    @pytest.mark.parametrize("pair,status,expression", [
        (("known", "known"), 422, "merged"),  # a household with itself
        (("known", "nobody"), 422, "merged"),
        (("nobody", "known"), 422, "survivor"),
    ])
    def test_direct_merges_refused(self, client: TestClient, admin: dict, known: dict,
                                   sessions: sessionmaker[Session], pair: tuple[str, str],
                                   status: int, expression: str) -> None:
        ids = {"known": known["id"], "nobody": "nobody"}
        _refused(client, sessions, "post", "/identity/household-merges", admin,
                 {"survivor": f"Group/{ids[pair[0]]}", "merged": f"Group/{ids[pair[1]]}",
                  "comment": "Zelfde gezin"}, status, expression)

    def test_merged_households_and_malformed_references(
            self, client: TestClient, team: dict, admin: dict, family: dict, known: dict,
            new: dict, sessions: sessionmaker[Session]) -> None:
        third = post(client, team, group(member(family["child"], "child"),
                                         identifier=(YOUTH, "gezin-3")))
        first = client.post("/identity/household-merges", headers=admin, json={
            "survivor": f"Group/{known['id']}", "merged": f"Group/{new['id']}",
            "comment": "Zelfde gezin"})
        assert (first.status_code, first.json()["review"]) == (201, None)
        for survivor, merged, expression in (
                (third["id"], new["id"], "merged"),  # merged away already
                (new["id"], third["id"], "survivor"),  # a survivor merged away
                (third["id"], known["id"], "merged")):  # others merged into it
            _refused(client, sessions, "post", "/identity/household-merges", admin,
                     {"survivor": f"Group/{survivor}", "merged": f"Group/{merged}",
                      "comment": "Zelfde gezin"}, 409, expression)
        _refused(client, sessions, "post", "/identity/household-merges", admin,
                 {"survivor": f"Patient/{known['id']}", "merged": f"Group/{third['id']}",
                  "comment": "Zelfde gezin"}, 400, "body.survivor")
        _refused(client, sessions, "get", "/identity/household-merges?group=x/y", admin,
                 None, 400, "query.group")

    def test_only_identity_reviewers(self, client: TestClient, team: dict, known: dict,
                                     new: dict) -> None:
        for method, url, body in (
                ("get", f"/identity/household-merges?group={known['id']}", None),
                ("post", "/identity/household-merges", {
                    "survivor": f"Group/{known['id']}", "merged": f"Group/{new['id']}",
                    "comment": "Zelfde gezin"}),
                ("post", "/identity/household-merges/x/undo", {"comment": "Toch niet"})):
            assert client.request(method, url, headers=team, json=body).status_code == 403



POSTGRES_ONLY = pytest.mark.parametrize(  # SQLite lets one writer in at a time: no race
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


def _households(sessions: sessionmaker[Session], count: int) -> list[str]:
    """Households of one parent each (made directly; the rule plays no part here)."""
    ids = []
    with sessions.begin() as session:
        for _ in range(count):
            person = Person()
            household = HouseholdRow(client_id="demo-wijkteam-noord")
            session.add_all([person, household])
            session.flush()
            session.add(HouseholdMember(household_id=household.id, person_id=person.id,
                                        position=0, role="parent"))
            ids.append(household.id)
    return ids


def _race(sessions: sessionmaker[Session], first: Callable[[Session], object],
          second: Callable[[Session], object]) -> object:
    """``first`` holds its transaction open while ``second`` runs (and waits on its locks);
    then ``first`` commits. What ``second`` answered or raised."""
    first_session, second_session = sessions(), sessions()
    first(first_session)
    answers: list[object] = []

    def run() -> None:
        try:
            answers.append(second(second_session))
            second_session.commit()
        except BaseException as error:  # noqa: BLE001 (the assertion shows it)
            second_session.rollback()
            answers.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second request should wait on the first one's lock"
    first_session.commit()
    thread.join(timeout=30)
    first_session.close()
    second_session.close()
    [answer] = answers
    return answer


@POSTGRES_ONLY
@pytest.mark.usefixtures("seeded")
def test_one_household_merged_into_two_at_once_is_merged_once(
        sessions: sessionmaker[Session]) -> None:
    survivor, other, merged = _households(sessions, 3)
    answer = _race(sessions, lambda s: merge(s, None, survivor_id=survivor, merged_id=merged,
                                             by="beheer"),
                   lambda s: merge(s, None, survivor_id=other, merged_id=merged, by="beheer"))
    assert isinstance(answer, Conflict) and answer.issues[0].expression == "merged", answer
    with sessions() as session:
        assert [(m.survivor_id, m.merged_id) for m in session.scalars(
            select(HouseholdMerge))] == [(survivor, merged)]


@POSTGRES_ONLY
@pytest.mark.usefixtures("seeded")
def test_one_merge_undone_twice_at_once_is_undone_once(
        sessions: sessionmaker[Session]) -> None:
    survivor, merged = _households(sessions, 2)
    with sessions.begin() as session:
        merge_id = merge(session, None, survivor_id=survivor, merged_id=merged, by="beheer").id
    answer = _race(sessions, lambda s: undo(s, None, merge_id, "beheer", "Toch twee"),
                   lambda s: undo(s, None, merge_id, "beheer", "Toch twee"))
    assert isinstance(answer, Conflict) and answer.issues[0].expression == "id", answer
    with sessions() as session:
        assert [m.household_id for m in session.scalars(select(HouseholdMember).order_by(
            HouseholdMember.position, HouseholdMember.household_id))].count(merged) == 1
