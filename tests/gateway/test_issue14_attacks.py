"""Red team, issue 14: the household plan (docs/household-plan.md) attacked from outside, as
a team system, another team's system, a system without consent: learning a goal it may not
see, changing or removing what it may not see, approving or agreeing without authority,
losing an update, breaking the plan with odd input, finding personal data in errors."""

# ruff: noqa: F811 (the fixtures imported from the suites they attack are parameters here)
from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import SCOPE_SUBSCRIPTION_WRITE, adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.plans.fhir import MANDATORY, MAX_TEXT
from gateway.platform.db.models import OutboxMessage, ProcessingLogEntry
from tests.adapters.test_zcd import CHILD, FATHER, MOTHER, bericht, lid
from tests.conftest import add_test_client, bearer, involve, row_counts
from tests.gateway.test_care_plan import (  # noqa: F401
    PROTECTION,
    Household,
    _draft,
    _ids,
    _plan_consent,
    home,
    systems,
)
from tests.gateway.test_issue13_attacks import _gezin
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
    score,
)
from tests.support.samples import consent_resource
from tests.support.units import ADULTS, YOUTH, Units, child_case

RECORDS = "mc-noord"  # the adult records, one client for the plan and its feed
ZUID = "plan-zuid"  # the adult unit's system of wijkteam-zuid
ZUID_RECORDS = "mc-zuid"  # wijkteam-zuid's adult records
OUTSIDER = "555555550"  # a BSN of someone in no household of the plan's
BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"

Systems = dict[str, dict[str, str]]


def _url(plan: dict[str, Any]) -> str:
    return f"/fhir/CarePlan/{plan['id']}"


def _read(client: TestClient, systems: Systems, system: str, plan: dict[str, Any]
          ) -> dict[str, Any]:
    read = client.get(_url(plan), headers=systems[system])
    assert read.status_code == 200, read.text
    return dict(read.json())


def _subscribe(client: TestClient, units: Units) -> None:
    """Both units' registries hear of the plan by feed."""
    for system in (units.youth, units.adults):
        subscribed = client.post("/fhir/Subscription", headers=system, json={
            "resourceType": "Subscription", "status": "requested", "criteria": "CarePlan",
            "reason": "the household plan", "channel": {"type": "message"}})
        assert subscribed.status_code == 201, subscribed.text


def _with(plan: dict[str, Any], *items: dict[str, Any]) -> dict[str, Any]:
    return {**plan, "contained": [*plan.get("contained", []), *items]}


class TestWithheldItems:
    def test_an_id_of_another_type_than_a_withheld_item_does_not_break_the_plan(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        """The adult unit sees the mother's debt goal, not the child's goal g-opvoeding; it
        adds an action with the id g-opvoeding: the plan must stay readable."""
        plan = _draft(client, systems, home)
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        adults = _read(client, systems, PLAN_ADULTS, plan)
        sent = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=_with(
            adults, action("g-opvoeding", "g-schulden", home.mother)))
        assert sent.status_code == 409, sent.text
        assert "Task/g-opvoeding" in sent.text and "contained[2]" not in sent.text
        assert _ids(_read(client, systems, PLAN_YOUTH, plan)) == [
            "g-opvoeding", "g-schulden", "s-1"]

    def test_two_systems_adding_items_of_different_types_with_one_id_is_a_412(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        plan = _draft(client, systems, home)
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        adults = _read(client, systems, PLAN_ADULTS, plan)
        first = client.put(_url(plan), headers=systems[PLAN_YOUTH], json=_with(
            plan, goal("x-1", home.mother, "huisvesting")))
        assert first.status_code == 200, first.text
        second = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=_with(
            adults, action("x-1", "g-schulden", home.mother)))
        assert second.status_code == 412, second.text
        assert "Goal/x-1" in second.text and "Task/x-1" in second.text

    def test_consent_given_after_a_read_does_not_let_a_change_remove_what_was_unseen(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        """The adult unit read version 1 when it saw nothing; the mother consents; it adds a
        goal to the plan as it read it: the debt goal it never saw must stay."""
        plan = _draft(client, systems, home)
        adults = _read(client, systems, PLAN_ADULTS, plan)
        assert _ids(adults) == []
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        sent = client.put(_url(plan), headers={**systems[PLAN_ADULTS], "If-Match": 'W/"1"'},
                          json=_with(adults, goal("g-wonen", home.mother, "huisvesting")))
        assert sent.status_code in (200, 412), sent.text
        assert "g-schulden" in _ids(_read(client, systems, PLAN_YOUTH, plan))

    def test_an_own_action_under_a_goal_withheld_since_reads_back_and_round_trips(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        plan = _draft(client, systems, home)
        given = post_consent(client, team, consent_resource(
            home.mother, activity="household-plan", role="wijkteam-volwassenen"))
        adults = _read(client, systems, PLAN_ADULTS, plan)
        added = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=_with(
            adults, action("t-budget", "g-schulden", home.mother)))
        assert added.status_code == 200, added.text
        revoked = client.put(f"/fhir/Consent/{given.json()['id']}", headers=team,
                             json={**given.json(), "status": "inactive"})
        assert revoked.status_code == 200, revoked.text
        adults = _read(client, systems, PLAN_ADULTS, plan)
        assert _ids(adults) == [] and "g-schulden" not in json.dumps(adults)  # with its goal
        back = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=adults)
        assert back.status_code == 200, back.text
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")  # again: kept
        assert _ids(_read(client, systems, PLAN_ADULTS, plan)) == ["g-schulden", "t-budget"]

    def test_history_does_not_show_a_removed_goal_to_a_system_reusing_its_id(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        """The youth unit's goal g-1 for the child is removed; the adult unit (no consent)
        adds its own g-1 for the mother: refused (an id stays its first writer's), and
        version 1's g-1 is still not its own."""
        plan = _draft(client, systems, home, goal("g-1", home.child, "opvoeding", YOUTH_LIST,
                                                  text="bedtijden kind"))
        youth = _read(client, systems, PLAN_YOUTH, plan)
        removed = client.put(_url(plan), headers=systems[PLAN_YOUTH],
                             json={**youth, "contained": []})
        assert removed.status_code == 200, removed.text
        adults = _read(client, systems, PLAN_ADULTS, plan)
        reused = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=_with(
            adults, goal("g-1", home.mother, "financien")))
        assert reused.status_code == 409, reused.text
        assert "Goal/g-1" in reused.text and "bedtijden" not in reused.text
        old = client.get(f"{_url(plan)}/_history/1", headers=systems[PLAN_ADULTS])
        assert old.status_code == 200, old.text
        assert "bedtijden" not in old.text and _ids(old.json()) == []
        history = client.get(f"{_url(plan)}/_history", headers=systems[PLAN_ADULTS])
        assert "bedtijden" not in history.text


class TestApproval:
    def test_a_leader_cannot_approve_a_part_with_an_action_withheld_from_the_team(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        """The mother's debt goal is visible to the adult unit; the youth unit's action under
        it for the child is not (no consent for the child): the adult leader cannot approve
        a part it cannot read whole."""
        plan = _draft(client, systems, home, goal("g-schulden", home.mother, "financien"))
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        youth = _read(client, systems, PLAN_YOUTH, plan)
        added = client.put(_url(plan), headers=systems[PLAN_YOUTH], json=_with(
            youth, action("t-kind", "g-schulden", home.child, text="zakgeld kind")))
        assert added.status_code == 200, added.text
        assert _ids(_read(client, systems, PLAN_ADULTS, plan)) == ["g-schulden"]
        refused = client.post(f"{_url(plan)}/$approve",
                              headers=leader(client, PLAN_ADULTS, "adult"))
        assert refused.status_code == 422, refused.text

    def test_an_approval_on_a_version_the_leader_has_not_read_is_refused(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        plan = _draft(client, systems, home, goal("g-1", home.child, "opvoeding", YOUTH_LIST))
        changed = client.put(_url(plan), headers=systems[PLAN_YOUTH], json=_with(
            plan, goal("g-2", home.child, "school", YOUTH_LIST)))
        assert changed.status_code == 200, changed.text
        stale = client.post(f"{_url(plan)}/$approve", headers={
            **leader(client, PLAN_YOUTH, "youth"), "If-Match": 'W/"1"'})
        assert stale.status_code == 412, stale.text
        agreed = client.post(f"{_url(plan)}/$agree", headers={
            **systems[PLAN_YOUTH], "If-Match": 'W/"1"'}, json={
            "resourceType": "Parameters", "parameter": [
                {"name": "who", "valueReference": {"reference": home.mother}}]})
        assert agreed.status_code == 412, agreed.text
        current = client.post(f"{_url(plan)}/$approve", headers={
            **leader(client, PLAN_YOUTH, "youth"), "If-Match": 'W/"2"'})
        assert current.status_code == 200, current.text

    def test_the_unborn_does_not_agree_for_the_household(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        plan = _draft(client, systems, home)
        refused = client.post(f"{_url(plan)}/$agree", headers=systems[PLAN_YOUTH], json={
            "resourceType": "Parameters", "parameter": [
                {"name": "who", "valueReference": {"reference": home.unborn}}]})
        assert refused.status_code == 422, refused.text

    def test_a_child_does_not_agree_for_the_household(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        plan = _draft(client, systems, home)
        refused = client.post(f"{_url(plan)}/$agree", headers=systems[PLAN_YOUTH], json={
            "resourceType": "Parameters", "parameter": [
                {"name": "who", "valueReference": {"reference": home.child}}]})
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["expression"] == ["Parameters.parameter[who]"]


class TestBadInput:
    @pytest.mark.parametrize(("item", "expression"), [
        (lambda h: goal("g-1", h.child, "opvoeding", YOUTH_LIST, startDate="2026-11"),
         "CarePlan.contained[0].startDate"),
        (lambda h: goal("g-1", h.child, "opvoeding", YOUTH_LIST, startDate="2026"),
         "CarePlan.contained[0].startDate"),
        (lambda h: action("t-1", "g-1", h.child, due="2027"),
         "CarePlan.contained[1].restriction.period.end"),
        (lambda h: score("s-1", "g-1", "start", 2, at="2026-11"),
         "CarePlan.contained[1].effectiveDateTime"),
    ], ids=["start-month", "start-year", "due-year", "score-month"])
    def test_a_date_without_its_day_is_a_422_not_a_500(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session], item: Any, expression: str) -> None:
        """FHIR allows a year or a month alone; the plan's dates are days."""
        first = goal("g-1", home.child, "opvoeding", YOUTH_LIST)
        made = item(home)
        contained = [made] if made["resourceType"] == "Goal" else [first, made]
        before = row_counts(sessions)
        refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH],
                              json=care_plan(home.group, *contained))
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["expression"] == [expression]
        assert row_counts(sessions) == before

    @pytest.mark.parametrize("text", ["rust\u0000", "rust\u0001", "rust\uffff"])
    def test_a_control_character_is_refused_naming_the_element(
            self, client: TestClient, systems: Systems, home: Household, text: str) -> None:
        refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.child, "opvoeding", YOUTH_LIST, text=text)))
        assert refused.status_code == 422, refused.text
        assert "description" in refused.json()["issue"][0]["expression"][0]

    @pytest.mark.parametrize("contained", [
        [{"resourceType": "Patient", "id": "p-1"}],
        [{"resourceType": "CarePlan", "id": "cp-1", "status": "draft", "intent": "plan",
          "subject": {"reference": "Group/x"}}],
        [{"resourceType": "Goal", "id": "g-1", "lifecycleStatus": "active",
          "description": {"text": "x"}, "subject": {"reference": "Patient/x"},
          "contained": [{"resourceType": "Patient", "id": "p"}]}],
        [1], [{"id": "g-1"}], [{"resourceType": "Goal"}],
    ], ids=["patient", "careplan", "nested", "number", "no-type", "no-id"])
    def test_contained_resources_of_other_kinds_are_refused(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session], contained: list[Any]) -> None:
        before = row_counts(sessions)
        refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json={
            **care_plan(home.group), "contained": contained})
        assert 400 <= refused.status_code < 500, refused.text
        assert row_counts(sessions) == before

    @pytest.mark.parametrize(("item", "expression"), [
        ({"reasonReference": {"reference": "CarePlan/other#g-1"}},
         "CarePlan.contained[1].reasonReference"),
        ({"reasonReference": {"reference": "Goal/g-1"}}, "CarePlan.contained[1].reasonReference"),
        ({"focus": [{"reference": "CarePlan/other#g-1"}]}, "CarePlan.contained[1].focus"),
        ({"focus": [{"reference": "#g-1"}, {"reference": "#g-1"}]},
         "CarePlan.contained[1].focus"),
    ], ids=["action-other-plan", "action-absolute", "score-other-plan", "score-two-goals"])
    def test_references_outside_the_plan_are_refused(
            self, client: TestClient, systems: Systems, home: Household,
            item: dict[str, Any], expression: str) -> None:
        base = action("t-1", "g-1", home.child) if "reasonReference" in item else \
            score("s-1", "g-1", "start", 2)
        refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.child, "opvoeding", YOUTH_LIST), {**base, **item}))
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["expression"] == [expression]

    @pytest.mark.parametrize("ops", [
        [{"op": "replace", "path": "/id", "value": "another"}],
        [{"op": "replace", "path": "/subject/reference", "value": "Group/another"}],
        [{"op": "add", "path": "/contained/-", "value": {"resourceType": "Patient", "id": "p"}}],
        [{"op": "move", "from": "/contained/0", "path": "/contained/5"}],
        [{"op": "remove", "path": "/meta"}, {"op": "replace", "path": "/status",
                                              "value": "active"}],
        {"op": "remove", "path": "/contained"},
        [{"op": "copy", "from": "/contained/0", "path": "/contained/-"}],
    ], ids=["id", "subject", "patient", "move-out", "active", "not-a-list", "copy-same-id"])
    def test_an_odd_json_patch_is_a_4xx_with_nothing_stored(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session], ops: Any) -> None:
        plan = _draft(client, systems, home)
        before = row_counts(sessions)
        patched = client.patch(_url(plan), headers={
            **systems[PLAN_YOUTH], "Content-Type": "application/json-patch+json"}, json=ops)
        assert 400 <= patched.status_code < 500, patched.text
        assert row_counts(sessions) == before

    @pytest.mark.parametrize("vid", ["0", "abc", "99", "-1", "1.0", "9" * 30])
    def test_a_version_that_is_not_there_is_a_4xx(
            self, client: TestClient, systems: Systems, home: Household, vid: str) -> None:
        plan = _draft(client, systems, home)
        read = client.get(f"{_url(plan)}/_history/{vid}", headers=systems[PLAN_YOUTH])
        assert read.status_code == (404 if vid.isdigit() and len(vid) < 10 else 400), read.text

    def test_duplicated_ids_are_refused(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.child, "opvoeding", YOUTH_LIST),
            action("g-1", "g-1", home.child)))
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["expression"] == ["CarePlan.contained[1].id"]

    def test_deep_and_huge_bodies_are_refused(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        deep: Any = {}
        for _ in range(200):
            deep = {"a": deep}
        sent = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.child, "opvoeding", YOUTH_LIST, extension=[
                {"url": "urn:x", "valueString": "x", "x": deep}])))
        assert sent.status_code == 400, sent.text
        huge = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.child, "opvoeding", YOUTH_LIST, text="x" * 2_000_000)))
        assert huge.status_code == 413, huge.text

    @pytest.mark.parametrize("body", [
        {"resourceType": "Parameters", "parameter": 5},
        {"resourceType": "Parameters", "parameter": [{"name": "who", "valueReference": "x"}]},
        {"resourceType": "Parameters", "parameter": [{"name": "who",
                                                      "valueReference": {"reference": 5}}]},
        {"resourceType": "Parameters", "parameter": [{"name": "who", "valueReference": {
            "reference": "Patient/" + "x" * 5000}}]},
        [1], {"resourceType": "Patient"},
    ], ids=["not-a-list", "not-a-reference", "number", "long", "array", "patient"])
    def test_an_odd_agreement_is_a_4xx(
            self, client: TestClient, systems: Systems, home: Household, body: Any) -> None:
        plan = _draft(client, systems, home)
        sent = client.post(f"{_url(plan)}/$agree", headers=systems[PLAN_YOUTH], json=body)
        assert 400 <= sent.status_code < 500, sent.text

    def test_a_second_plan_for_the_household_is_a_409(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session]) -> None:
        _draft(client, systems, home)
        before = row_counts(sessions)
        second = client.post("/fhir/CarePlan", headers=systems[PLAN_ADULTS], json=care_plan(
            home.group))
        assert second.status_code == 409, second.text
        assert row_counts(sessions) == before

    @pytest.mark.parametrize("status", ["active", "completed", "on-hold", "unknown"])
    def test_a_change_does_not_make_a_draft_active_or_anything_else(
            self, client: TestClient, systems: Systems, home: Household,
            status: str) -> None:
        plan = _draft(client, systems, home)
        put = client.put(_url(plan), headers=systems[PLAN_YOUTH], json={
            **plan, "status": status})
        assert put.status_code == 422, put.text
        patched = client.patch(_url(plan), headers={
            **systems[PLAN_YOUTH], "Content-Type": "application/merge-patch+json"},
            json={"status": status})
        assert patched.status_code == 422, patched.text
        assert _read(client, systems, PLAN_YOUTH, plan)["status"] == "draft"


def _left(client: TestClient, units: Units, systems: Systems) -> dict[str, str]:
    """A household whose father moved out on 2026-01-01; the team helps the child. Returns
    the Group and its members' references."""
    group = units.zcd(_gezin("<zcd:einddatum>2026-01-01</zcd:einddatum>"))["household"]
    units.zcd(child_case("c-1"))
    read = client.get(f"/fhir/{group}", headers=systems[PLAN_YOUTH])
    assert read.status_code == 200, read.text
    mother, father, child = (m["entity"]["reference"] for m in read.json()["member"])
    return {"group": group, "mother": mother, "father": father, "child": child}


class TestWhoBelongs:
    def test_a_goal_for_a_member_who_moved_out_is_refused(
            self, client: TestClient, units: Units, systems: Systems) -> None:
        home = _left(client, units, systems)
        made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home["group"], goal("g-1", home["father"], "financien")))
        assert made.status_code == 422, made.text
        assert made.json()["issue"][0]["expression"] == ["CarePlan.contained[0].subject"]

    def test_a_member_who_moved_out_does_not_agree_for_the_household(
            self, client: TestClient, units: Units, systems: Systems) -> None:
        home = _left(client, units, systems)
        made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home["group"], goal("g-1", home["child"], "opvoeding", YOUTH_LIST)))
        assert made.status_code == 201, made.text
        refused = client.post(f"{_url(made.json())}/$agree", headers=systems[PLAN_YOUTH],
                              json={"resourceType": "Parameters", "parameter": [
                                  {"name": "who", "valueReference": {
                                      "reference": home["father"]}}]})
        assert refused.status_code == 422, refused.text

    @pytest.mark.xfail(strict=True, reason=(
        "a plan is open to every system that can read the Group, and households.visible_to "
        "counts members who left: another team helping only a former member reads, changes "
        "and revokes the plan of his former household"))
    def test_a_team_helping_only_a_member_who_moved_out_cannot_change_the_plan(
            self, client: TestClient, units: Units, systems: Systems,
            sessions: sessionmaker[Session]) -> None:
        """wijkteam-zuid helps the father after he moved out: the plan of his former
        household is none of its business."""
        home = _left(client, units, systems)
        made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home["group"], goal("g-1", home["child"], "opvoeding", YOUTH_LIST)))
        assert made.status_code == 201, made.text
        zuid = _zuid_plan_system(client, sessions)
        involve(client, FATHER, "wijkteam-zuid")
        revoked = client.put(_url(made.json()), headers=zuid, json={
            **care_plan(home["group"]), "id": made.json()["id"], "status": "revoked"})
        assert revoked.status_code == 404, revoked.text

    def test_a_goal_naming_another_group_is_refused(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", "Group/another-household", "financien")))
        assert made.status_code == 422, made.text
        assert made.json()["issue"][0]["expression"] == ["CarePlan.contained[0].subject"]
        whole = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.group, "financien")))
        assert whole.status_code == 201, whole.text

    def test_a_member_of_another_household_by_bsn_is_refused_without_echoing_it(
            self, client: TestClient, systems: Systems, home: Household,
            log_stream: io.StringIO) -> None:
        outsider = involve(client, OUTSIDER)
        assert outsider.startswith("Patient/")
        refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, {**goal("g-1", None, "financien", text="geheime schuld"),
                         "subject": {"identifier": {"system": BSN_SYSTEM,
                                                    "value": OUTSIDER}}}))
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["expression"] == ["CarePlan.contained[0].subject"]
        assert OUTSIDER not in refused.text and "geheime" not in refused.text
        assert OUTSIDER not in log_stream.getvalue()
        assert "geheime" not in log_stream.getvalue()


class TestMandatoryGoals:
    def test_another_system_cannot_lift_a_mandatory_goal_by_revoking_the_plan(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session]) -> None:
        protection = _protection(client, sessions)
        plan = _draft(client, systems, home)
        read = _read_as(client, protection, plan)
        set_by_owner = client.put(_url(plan), headers=protection, json=_with(read, _bodemeis(
            home.child)))
        assert set_by_owner.status_code == 200, set_by_owner.text
        youth = _read(client, systems, PLAN_YOUTH, plan)
        revoked = client.put(_url(plan), headers=systems[PLAN_YOUTH], json={
            **youth, "status": "revoked"})
        assert revoked.status_code == 422, revoked.text
        assert revoked.json()["issue"][0]["expression"] == ["CarePlan.status"]
        ended_by_owner = client.put(_url(plan), headers=protection, json={
            **_read_as(client, protection, plan), "status": "revoked"})
        assert ended_by_owner.status_code == 200, ended_by_owner.text

    def test_another_system_cannot_retire_a_mandatory_goal_by_its_status(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household, sessions: sessionmaker[Session]) -> None:
        protection = _protection(client, sessions)
        plan = _draft(client, systems, home)
        read = _read_as(client, protection, plan)
        client.put(_url(plan), headers=protection, json=_with(read, _bodemeis(home.mother)))
        _plan_consent(client, team, home.mother, "wijkteam-jeugd")
        youth = _read(client, systems, PLAN_YOUTH, plan)
        retired = client.put(_url(plan), headers=systems[PLAN_YOUTH], json={
            **youth, "contained": [{**i, "lifecycleStatus": "cancelled"}
                                   if i["id"] == "g-jb" else i for i in youth["contained"]]})
        assert retired.status_code == 422, retired.text
        patched = client.patch(_url(plan), headers={
            **systems[PLAN_YOUTH], "Content-Type": "application/json-patch+json"},
            json=[{"op": "remove", "path": f"/contained/{_ids(youth).index('g-jb')}/extension"}])
        assert patched.status_code == 422, patched.text


class TestLostUpdates:
    def test_a_system_that_never_read_cannot_remove_by_leaving_out(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        plan = _draft(client, systems, home)
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        blind = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=care_plan(
            home.group, goal("g-wonen", home.mother, "huisvesting")) | {"id": plan["id"]})
        assert blind.status_code == 200, blind.text
        assert _ids(_read(client, systems, PLAN_YOUTH, plan)) == [
            "g-opvoeding", "g-schulden", "s-1"]
        assert _ids(blind.json()) == ["g-schulden", "g-wonen"]

    def test_a_stale_change_to_a_goal_changed_since_is_a_412(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        plan = _draft(client, systems, home)
        first = client.put(_url(plan), headers=systems[PLAN_YOUTH], json=_reworded(
            plan, "g-schulden", "eerst"))
        assert first.status_code == 200, first.text
        stale = client.put(_url(plan), headers={**systems[PLAN_YOUTH], "If-Match": 'W/"1"'},
                           json=_reworded(plan, "g-schulden", "later"))
        assert stale.status_code == 412, stale.text
        patched = client.patch(_url(plan), headers={
            **systems[PLAN_YOUTH], "If-Match": 'W/"1"',
            "Content-Type": "application/json-patch+json"}, json=[
            {"op": "replace", "path": "/contained/1/description/text", "value": "later"}])
        assert patched.status_code == 412, patched.text

    @pytest.mark.parametrize(("etag", "status"), [
        ('W/"99"', 412), ('W/"x"', 400), ('W/"-1"', 400), ('W/"9999999999"', 400)])
    def test_an_if_match_of_no_version_is_refused(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session], etag: str, status: int) -> None:
        plan = _draft(client, systems, home)
        before = row_counts(sessions)
        sent = client.put(_url(plan), headers={**systems[PLAN_YOUTH], "If-Match": etag},
                          json={**plan, "title": "x"})
        assert sent.status_code == status, sent.text
        assert row_counts(sessions) == before

    def test_json_patch_reaches_only_what_the_system_sees(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        plan = _draft(client, systems, home)
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        patch = {**systems[PLAN_ADULTS], "Content-Type": "application/json-patch+json"}
        for ops in ([{"op": "remove", "path": "/contained/1"}],
                    [{"op": "replace", "path": "/contained/1/description/text", "value": "x"}],
                    [{"op": "test", "path": "/contained/1/id", "value": "s-1"}]):
            refused = client.patch(_url(plan), headers=patch, json=ops)
            assert 400 <= refused.status_code < 500, refused.text
            assert "een doel" not in refused.text
        emptied = client.patch(_url(plan), headers={
            **systems[PLAN_ADULTS], "Content-Type": "application/merge-patch+json"},
            json={"contained": None})
        assert emptied.status_code == 200, emptied.text
        assert _ids(_read(client, systems, PLAN_YOUTH, plan)) == ["g-opvoeding", "s-1"]

    def test_a_taken_id_says_no_more_than_that(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        plan = _draft(client, systems, home, goal("g-1", home.child, "opvoeding", YOUTH_LIST,
                                                  text="bedtijden kind"))
        adults = _read(client, systems, PLAN_ADULTS, plan)
        taken = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=_with(
            adults, goal("g-1", home.mother, "financien")))
        assert taken.status_code == 409, taken.text
        assert "bedtijden" not in taken.text and "opvoeding" not in taken.text
        assert home.child.removeprefix("Patient/") not in taken.text


def _reworded(plan: dict[str, Any], goal_id: str, text: str) -> dict[str, Any]:
    return {**plan, "contained": [{**i, "description": {"text": text}} if i["id"] == goal_id
                                  else i for i in plan["contained"]]}


def _read_as(client: TestClient, headers: dict[str, str], plan: dict[str, Any]
             ) -> dict[str, Any]:
    read = client.get(_url(plan), headers=headers)
    assert read.status_code == 200, read.text
    return dict(read.json())


def _protection(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions.begin() as session:
        add_test_client(session, PROTECTION, SCOPES, client_id=PROTECTION,
                        secret=demo_secret(PROTECTION), team_id="wijkteam-noord",
                        role="jeugdbescherming")
    return headers(client, PROTECTION)


def _bodemeis(member: str) -> dict[str, Any]:
    return goal("g-jb", member, "veiligheid", YOUTH_LIST,
                extension=[{"url": MANDATORY, "valueCode": "youth-protection"}])


def _zuid_plan_system(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions.begin() as session:
        add_test_client(session, ZUID, SCOPES, client_id=ZUID, secret=demo_secret(ZUID),
                        team_id="wijkteam-zuid", role="wijkteam-volwassenen")
    return headers(client, ZUID)


class TestPush:
    def test_a_goal_of_the_longest_text_reaches_both_registries(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household, units: Units) -> None:
        """What the gateway keeps it can push: the registries' feeds carry the plan."""
        _subscribe(client, units)
        units.news(YOUTH), units.news(ADULTS)
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.mother, "financien", text="x" * MAX_TEXT)))
        assert made.status_code == 201, made.text
        changed = client.put(_url(made.json()), headers=systems[PLAN_ADULTS],
                             json={**made.json(), "title": "ons plan"})
        assert changed.status_code == 200, changed.text
        plans = [n["plan"] for n in units.news(ADULTS) if n["soort"] == "plan"]
        assert [p["versie"] for p in plans] == [1, 2]
        assert plans[-1]["doelen"][0]["omschrijving"] == "x" * MAX_TEXT
        assert len([n for n in units.news(YOUTH) if "<zcd:plan>" in n]) == 2

    @pytest.mark.parametrize(("items", "expression"), [
        (lambda h: [goal("g-1", h.mother, "financien", text="x" * (MAX_TEXT + 1))],
         "CarePlan.contained[0].description.text"),
        (lambda h: [goal("g-1", h.mother, "financien"),
                    {**action("t-1", "g-1", h.mother), "description": "x" * (MAX_TEXT + 1)}],
         "CarePlan.contained[1].description"),
        (lambda h: [goal(f"g-{n}", h.mother, "financien") for n in range(501)],
         "CarePlan.contained"),
    ], ids=["goal-text", "action-text", "goals"])
    def test_what_the_registries_cannot_carry_is_refused(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session], items: Any, expression: str) -> None:
        """Kept, it would never reach them: every push of the plan would fail their schema."""
        before = row_counts(sessions)
        refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH],
                              json=care_plan(home.group, *items(home)))
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["expression"] == [expression]
        assert row_counts(sessions) == before

    @pytest.mark.parametrize("value", ["Woonstichting Noord", "wijkteam-noörd", "x" * 300])
    def test_an_owner_the_registries_cannot_name_is_refused(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session], value: str) -> None:
        """Kept, every push of the plan would fail the adult records' schema (uitvoerder)
        and the youth dossier's XSD (Partij)."""
        task = action("t-1", "g-1", home.mother)
        task["owner"]["identifier"] = {"system": "urn:kvk", "value": value}
        before = row_counts(sessions)
        refused = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.mother, "financien"), task))
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["expression"] == [
            "CarePlan.contained[1].owner.identifier"]
        assert row_counts(sessions) == before

    def test_an_owner_by_kvk_number_reaches_the_adult_records(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household, units: Units) -> None:
        _subscribe(client, units)
        units.news(ADULTS)
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        task = action("t-1", "g-1", home.mother)
        task["owner"]["identifier"] = {"system": "http://www.kvk.nl", "value": "12345678"}
        made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            home.group, goal("g-1", home.mother, "financien"), task))
        assert made.status_code == 201, made.text
        [plan] = [n["plan"] for n in units.news(ADULTS) if n["soort"] == "plan"]
        assert plan["acties"][0]["uitvoerder"] == "http://www.kvk.nl|12345678"


SECRET = "schuldeiser-incasso-7"  # a goal's words, to look for where they may not be


class TestWhatLeaks:
    def test_nothing_of_a_withheld_goal_in_the_log_the_outbox_or_the_processing_log(
            self, client: TestClient, systems: Systems, home: Household, units: Units,
            sessions: sessionmaker[Session], log_stream: io.StringIO) -> None:
        """No consent for the mother: the adult records' queued plans, the processing log's
        entries and the application log hold neither her goal's words nor her BSN."""
        _subscribe(client, units)
        plan = _draft(client, systems, home, goal("g-1", home.mother, "financien",
                                                  text=SECRET))
        client.get(_url(plan), headers=systems[PLAN_ADULTS])
        client.get(f"{_url(plan)}/_history", headers=systems[PLAN_ADULTS])
        taken = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=_with(
            _read(client, systems, PLAN_ADULTS, plan), goal("g-1", home.mother, "financien")))
        assert taken.status_code == 409 and SECRET not in taken.text, taken.text
        added = client.put(_url(plan), headers=systems[PLAN_ADULTS], json=_with(
            _read(client, systems, PLAN_ADULTS, plan), goal("g-2", home.mother, "financien")))
        assert added.status_code == 200 and SECRET not in added.text, added.text
        with sessions() as session:
            queued = [json.dumps(m.payload) for m in session.scalars(select(
                OutboxMessage).where(OutboxMessage.resource_type == "CarePlan"))]
            entries = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.activity_id == "household-plan")).all()
            logged = " ".join(f"{e.details} {e.categories} {e.subject}" for e in entries)
        # 2 versions to 2 registries: the youth unit's wrote the goal (its own record), the
        # adult unit's may not see it
        assert len(queued) == 4 and sum(SECRET in p for p in queued) == 2
        assert {e.kind for e in entries} >= {"write", "read", "denial", "disclosure"}
        assert SECRET not in logged and MOTHER not in logged
        assert SECRET not in log_stream.getvalue() and MOTHER not in log_stream.getvalue()

    def test_a_read_logs_what_was_withheld_per_member(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household, sessions: sessionmaker[Session]) -> None:
        plan = _draft(client, systems, home)
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        client.get(_url(plan), headers=systems[PLAN_ADULTS])
        with sessions() as session:
            denials = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.action == "plan.read",
                ProcessingLogEntry.kind == "denial")).all()
        assert denials and all("parenting" in (d.details or "") for d in denials)
        assert all("finances" not in (d.details or "") for d in denials)

    def test_search_and_reads_of_another_households_plan_answer_as_for_none(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session]) -> None:
        plan = _draft(client, systems, home)
        stranger = _zuid_plan_system(client, sessions)
        for path in (_url(plan), f"{_url(plan)}/_history", f"{_url(plan)}/_history/1"):
            read = client.get(path, headers=stranger)
            unknown = client.get(path.replace(plan["id"], "no-such-plan"), headers=stranger)
            assert read.status_code == unknown.status_code == 404, read.text
            assert read.json() == unknown.json()
        for params in ({"subject": home.group}, {"member": home.mother}, {"status": "draft"}):
            found = client.get("/fhir/CarePlan", params=params, headers=stranger)
            assert found.status_code == 200, found.text
            assert found.json().get("total", 0) == 0 and "entry" not in found.json()
        changed = client.put(_url(plan), headers=stranger, json={**plan, "status": "revoked"})
        assert changed.status_code == 404, changed.text
        agreed = client.post(f"{_url(plan)}/$agree", headers=stranger, json={
            "resourceType": "Parameters", "parameter": [
                {"name": "who", "valueReference": {"reference": home.mother}}]})
        assert agreed.status_code == 404, agreed.text

    def test_a_patch_answer_shows_only_what_the_system_may_see(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        plan = _draft(client, systems, home, goal("g-1", home.child, "opvoeding", YOUTH_LIST,
                                                  text=SECRET),
                      goal("g-schulden", home.mother, "financien"))
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        patched = client.patch(_url(plan), headers={
            **systems[PLAN_ADULTS], "Content-Type": "application/merge-patch+json"},
            json={"title": "ons plan"})
        assert patched.status_code == 200, patched.text
        assert SECRET not in patched.text and _ids(patched.json()) == ["g-schulden"]
        assert patched.headers["etag"] == 'W/"2"'
        old = client.get(f"{_url(plan)}/_history/1", headers=systems[PLAN_ADULTS])
        assert SECRET not in old.text and _ids(old.json()) == ["g-schulden"]

    @pytest.mark.xfail(strict=True, reason=(
        "removing a visible goal that has an action withheld from the system is a 412 saying "
        "the goal changed both here and in the current version: untrue, it tells the system "
        "that something withheld hangs under its goal, and a retry on a fresh read meets the "
        "same 412 forever"))
    def test_removing_a_goal_with_a_withheld_action_under_it_says_why(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        plan = _draft(client, systems, home, goal("g-schulden", home.mother, "financien"))
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        youth = _read(client, systems, PLAN_YOUTH, plan)
        client.put(_url(plan), headers=systems[PLAN_YOUTH], json=_with(
            youth, action("t-kind", "g-schulden", home.child)))
        adults = _read(client, systems, PLAN_ADULTS, plan)
        removed = client.put(_url(plan), headers=systems[PLAN_ADULTS],
                             json={**adults, "contained": []})
        assert removed.status_code == 409, removed.text


class TestAuthority:
    def test_the_adult_leader_alone_does_not_make_a_two_part_plan_active(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household) -> None:
        plan = _draft(client, systems, home)
        _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
        _agree(client, systems, plan, home.mother)
        adult = client.post(f"{_url(plan)}/$approve",
                            headers=leader(client, PLAN_ADULTS, "adult"))
        assert adult.status_code == 200, adult.text
        again = client.post(f"{_url(plan)}/$approve",
                            headers=leader(client, PLAN_ADULTS, "adult"))
        assert again.json()["status"] == "draft"
        youth_as_adult_system = client.post(
            f"{_url(plan)}/$approve", headers=leader(client, PLAN_ADULTS, "adult"))
        assert youth_as_adult_system.json()["status"] == "draft"

    def test_a_leader_cannot_approve_a_part_with_a_goal_withheld_from_the_team(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session]) -> None:
        plan = _draft(client, systems, home, goal("g-schulden", home.mother, "financien"))
        before = row_counts(sessions)
        refused = client.post(f"{_url(plan)}/$approve",
                              headers=leader(client, PLAN_ADULTS, "adult"))
        assert refused.status_code == 422, refused.text
        assert row_counts(sessions) == before

    @pytest.mark.parametrize("who", ["outsider", "bsn", "group", "practitioner"])
    def test_only_a_member_of_the_household_agrees(
            self, client: TestClient, systems: Systems, home: Household,
            sessions: sessionmaker[Session], who: str) -> None:
        plan = _draft(client, systems, home)
        reference = {"outsider": lambda: involve(client, OUTSIDER), "bsn": lambda: MOTHER,
                     "group": lambda: home.group,
                     "practitioner": lambda: "Practitioner/leider-jeugd"}[who]()
        before = row_counts(sessions)
        refused = client.post(f"{_url(plan)}/$agree", headers=systems[PLAN_YOUTH], json={
            "resourceType": "Parameters", "parameter": [
                {"name": "who", "valueReference": {"reference": reference}}]})
        assert refused.status_code == 422, refused.text
        assert MOTHER not in refused.text and OUTSIDER not in refused.text
        assert row_counts(sessions) == before

    def test_an_active_plan_changed_in_substance_loses_its_approvals(
            self, client: TestClient, systems: Systems, home: Household) -> None:
        plan = _draft(client, systems, home, goal("g-1", home.child, "opvoeding", YOUTH_LIST))
        _agree(client, systems, plan, home.mother)
        active = client.post(f"{_url(plan)}/$approve",
                             headers=leader(client, PLAN_YOUTH, "youth"))
        assert active.json()["status"] == "active", active.text
        reworded = client.patch(_url(plan), headers={
            **systems[PLAN_ADULTS], "Content-Type": "application/merge-patch+json"},
            json={"title": "ons plan"})
        assert reworded.status_code == 200 and reworded.json()["status"] == "active"
        youth = _read(client, systems, PLAN_YOUTH, plan)
        changed = client.put(_url(plan), headers=systems[PLAN_YOUTH],
                             json=_reworded(youth, "g-1", "anders"))
        assert changed.json()["status"] == "draft"
        assert "extension" not in changed.json()  # neither agreement nor approval stands


def _agree(client: TestClient, systems: Systems, plan: dict[str, Any], who: str) -> None:
    agreed = client.post(f"{_url(plan)}/$agree", headers=systems[PLAN_YOUTH], json={
        "resourceType": "Parameters", "parameter": [
            {"name": "who", "valueReference": {"reference": who}}]})
    assert agreed.status_code == 200, agreed.text


class TestOneSystemWritesAndHears:
    """As docs/household-plan.md deploys it: the adult records change the plan over FHIR and
    hear of the others' changes in their feed, as one client."""

    def test_its_feed_carries_the_plan_after_a_consent_is_revoked(
            self, client: TestClient, team: dict[str, str], systems: Systems,
            home: Household, sessions: sessionmaker[Session]) -> None:
        records = _records(client, sessions)
        plan = _draft(client, systems, home, goal("g-schulden", home.mother, "financien"))
        given = post_consent(client, team, consent_resource(
            home.mother, activity="household-plan", role="wijkteam-volwassenen"))
        assert given.status_code == 201, given.text
        read = _read_as(client, records, plan)
        added = client.put(_url(plan), headers=records, json=_with(
            read, action("t-budget", "g-schulden", home.mother)))
        assert added.status_code == 200, added.text
        revoked = client.put(f"/fhir/Consent/{given.json()['id']}", headers=team,
                             json={**given.json(), "status": "inactive"})
        assert revoked.status_code == 200, revoked.text
        youth = _read(client, systems, PLAN_YOUTH, plan)
        changed = client.put(_url(plan), headers=systems[PLAN_YOUTH], json={
            **youth, "title": "ons plan"})
        assert changed.status_code == 200, changed.text
        feed = client.get("/adapters/menscentraal/feed", headers=records)
        assert feed.status_code == 200, feed.text
        plans = [e["notice"]["plan"] for e in feed.json()["entries"]
                 if e["notice"]["soort"] == "plan"]
        assert plans[-1]["versie"] == 3, plans


def _records(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    """The adult records of wijkteam-noord, writing the plan and hearing of it by feed."""
    with sessions.begin() as session:
        add_test_client(session, RECORDS, [*SCOPES, adapter_scope("menscentraal"),
                                           SCOPE_SUBSCRIPTION_WRITE],
                        client_id=RECORDS, secret=demo_secret(RECORDS),
                        team_id="wijkteam-noord", system="menscentraal",
                        role="wijkteam-volwassenen")
    records = headers(client, RECORDS)
    subscribed = client.post("/fhir/Subscription", headers=records, json={
        "resourceType": "Subscription", "status": "requested", "criteria": "CarePlan",
        "reason": "the household plan", "channel": {"type": "message"}})
    assert subscribed.status_code == 201, subscribed.text
    return records


def test_two_changes_at_once_are_both_kept_or_one_refused(
        client: TestClient, team: dict[str, str], systems: Systems, home: Household) -> None:
    """The youth and the adult unit change the plan at the same moment, each on version 1:
    the row lock queues them and the second merges with the first, never overwrites it."""
    plan = _draft(client, systems, home)
    _plan_consent(client, team, home.mother, "wijkteam-volwassenen")
    adults = _read(client, systems, PLAN_ADULTS, plan)
    changes = [(systems[PLAN_YOUTH], _with(plan, goal("g-a", home.child, "school",
                                                      YOUTH_LIST))),
               (systems[PLAN_ADULTS], _with(adults, goal("g-b", home.mother, "huisvesting")))]
    start = threading.Barrier(2)

    def send(change: tuple[dict[str, str], dict[str, Any]]) -> int:
        start.wait()
        return client.put(_url(plan), headers={**change[0], "If-Match": 'W/"1"'},
                          json=change[1]).status_code
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(send, changes))
    assert statuses == [200, 200]
    final = _read(client, systems, PLAN_YOUTH, plan)
    assert final["meta"]["versionId"] == "3" and "g-a" in _ids(final)
    assert "g-b" in _ids(_read(client, systems, PLAN_ADULTS, plan))


class TestWhoHears:
    def test_the_plan_goes_to_the_teams_of_those_who_live_there_now(
            self, client: TestClient, team: dict[str, str], units: Units, systems: Systems,
            sessions: sessionmaker[Session]) -> None:
        _subscribe(client, units)
        zuid = _zuid_records(client, sessions)
        group = units.zcd(bericht(
            "<zcd:gezin><zcd:gezinId>h-2</zcd:gezinId>"
            + lid(1, f"<zcd:bsn>{FATHER}</zcd:bsn>", "ouder",
                  "<zcd:einddatum>2026-01-01</zcd:einddatum>")
            + lid(2, f"<zcd:bsn>{MOTHER}</zcd:bsn><zcd:geboortedatum>1988-03-04"
                     "</zcd:geboortedatum>", "ouder")
            + lid(3, f"<zcd:bsn>{CHILD}</zcd:bsn><zcd:lokaalId>k-7</zcd:lokaalId>"
                     "<zcd:geboortedatum>2019-05-06</zcd:geboortedatum>", "kind",
                  "<zcd:gezagdrager>2</zcd:gezagdrager>")
            + "</zcd:gezin>", "g-2"))["household"]
        units.zcd(child_case("c-1"))
        mother = involve(client, MOTHER)
        involve(client, FATHER, "wijkteam-zuid")
        _plan_consent(client, team, mother, "wijkteam-volwassenen")
        units.news(YOUTH), units.news(ADULTS)
        made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
            group, goal("g-1", mother, "financien", text=SECRET)))
        assert made.status_code == 201, made.text
        heard = client.get("/adapters/menscentraal/feed", headers=zuid)
        assert heard.status_code == 200, heard.text
        assert SECRET not in heard.text and heard.json()["entries"] == []
        assert [n["soort"] for n in units.news(ADULTS)] == ["plan"]


def _zuid_records(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    """wijkteam-zuid's adult records, subscribed to the plan by feed."""
    with sessions.begin() as session:
        add_test_client(session, ZUID_RECORDS, [adapter_scope("menscentraal"),
                                                SCOPE_SUBSCRIPTION_WRITE],
                        client_id=ZUID_RECORDS, secret=demo_secret(ZUID_RECORDS),
                        team_id="wijkteam-zuid", system="menscentraal",
                        role="wijkteam-volwassenen")
    zuid = bearer(client, ZUID_RECORDS)
    subscribed = client.post("/fhir/Subscription", headers=zuid, json={
        "resourceType": "Subscription", "status": "requested", "criteria": "CarePlan",
        "reason": "the household plan", "channel": {"type": "message"}})
    assert subscribed.status_code == 201, subscribed.text
    return zuid


@pytest.mark.parametrize("party", ["x|", "|x", "agb:", "|", "wijkteam-noord"])
def test_a_role_the_adult_records_send_does_not_break_the_plan(
        client: TestClient, systems: Systems, home: Household, units: Units,
        party: str) -> None:
    """The adult records draft the plan in their own JSON with a role held by a party
    written oddly: refused, or kept so that the plan still reads."""
    sent = client.post("/adapters/menscentraal/messages", headers={
        **units.adults, "Content-Type": "application/json"}, content=json.dumps({
            "berichtId": "p-1", "soort": "plan", "plan": {
                "huishoudnummer": "HH-77", "doelen": [{
                    "doelId": "schulden", "domein": "financien", "omschrijving": "schulden",
                    "persoon": {"clientnummer": "C-1"}, "status": "active"}],
                "rollen": [{"rol": "contactpersoon", "partij": party}]}}))
    assert 400 <= sent.status_code < 500 or sent.status_code in (200, 201), sent.text
    found = client.get("/fhir/CarePlan", params={"subject": home.group},
                       headers=systems[PLAN_ADULTS])
    assert found.status_code == 200, found.text
