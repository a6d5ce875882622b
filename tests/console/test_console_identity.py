"""The console's involvement list and identity review queue: what they show, the look logged
per person, and a resolution made by form."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.identity.service import queue_authority_claim, queue_conflict
from gateway.platform.db.models import (
    HouseholdMember,
    HouseholdMerge,
    HouseholdRow,
    IdentityReview,
    OutboxMessage,
    ProcessingLogEntry,
    RelatedPersonRow,
)
from schemas.household import MEMBER_ROLE_EXTENSION, household_system
from tests.conftest import involve
from tests.support.console import add_account, csrf_token, log_in
from tests.support.samples import VALID_BSNS, service_request, subscription
from tests.support.webhooks import WebhookReceiver

BSN = VALID_BSNS[3]


@pytest.fixture
def console(client: TestClient, sessions) -> TestClient:  # noqa: ANN001
    add_account(sessions)
    assert log_in(client).status_code == 303
    return client


def _views(sessions, action: str) -> list[ProcessingLogEntry]:  # noqa: ANN001
    with sessions() as session:
        return list(session.scalars(select(ProcessingLogEntry).where(
            ProcessingLogEntry.action == action)))


def test_registered_involvements_are_listed_and_the_look_logged(
        console: TestClient, sessions) -> None:  # noqa: ANN001
    reference = involve(console, BSN, "wijkteam-zuid")
    page = console.get("/console/involvements")
    assert page.status_code == 200
    assert "wijkteam-zuid" in page.text and f"BSN {BSN}" in page.text
    [viewed] = _views(sessions, "console.involvements.viewed")
    with sessions() as session:
        registered = session.scalars(select(ProcessingLogEntry).where(
            ProcessingLogEntry.action == "involvement.registered")).one()
    assert viewed.subject == registered.subject  # the person's pseudonym, not the BSN
    assert reference.startswith("Patient/")


@pytest.fixture
def conflict(client: TestClient, gp: dict, team: dict, receiver: WebhookReceiver) -> str:
    assert client.post("/fhir/Subscription", headers=team, json=subscription(
        receiver.url, "ServiceRequest")).status_code == 201
    for born in ("1985-02-14", "1990-01-01"):
        assert client.post("/fhir/ServiceRequest", headers=gp, json=service_request(
            bsn=BSN, consent="self", birth_date=born)).status_code == 201
    return BSN


def test_a_conflict_is_shown_and_resolved_by_form(console: TestClient, conflict: str,
                                                  sessions) -> None:  # noqa: ANN001
    page = console.get("/console/identity")
    assert "bekend 1985-02-14, in bericht 1990-01-01" in page.text
    with sessions() as session:
        review = session.scalars(select(IdentityReview)).one()
    form = {"csrf_token": csrf_token(page.text), "resolution": "known-is-right",
            "comment": "Geboortedatum nagevraagd bij de huisarts"}
    done = console.post(f"/console/identity/{review.id}/resolve", data=form,
                        follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/console/identity")
    with sessions() as session:
        assert session.get(IdentityReview, review.id).resolved_by == "anna.de-boer"
        assert sorted(m.status for m in session.scalars(select(OutboxMessage))) == [
            "pending", "pending"]
    [resolved] = _views(sessions, "identity.resolved")
    assert (resolved.kind, resolved.actor_type, resolved.actor_id) == (
        "review", "officer", "anna.de-boer")
    assert "Er zijn geen tegenstrijdigheden" in console.get("/console/identity").text


@pytest.mark.parametrize("change,status", [
    ({"resolution": "maybe"}, 400),
    ({"comment": "ok"}, 400),
    ({"csrf_token": "forged"}, 403),
])
def test_bad_resolutions_change_nothing(console: TestClient, conflict: str, sessions,  # noqa: ANN001
                                        change: dict, status: int) -> None:
    page = console.get("/console/identity")
    with sessions() as session:
        review = session.scalars(select(IdentityReview)).one()
    form = {"csrf_token": csrf_token(page.text), "resolution": "known-is-right",
            "comment": "Nagevraagd bij de huisarts", **change}
    response = console.post(f"/console/identity/{review.id}/resolve", data=form,
                            follow_redirects=False)
    assert response.status_code == status
    with sessions() as session:
        assert session.get(IdentityReview, review.id).status == "open"


def test_a_household_review_offers_its_own_resolutions_and_merges(
        console: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
    """A household review: the form offers same-household and different-households, and
    same-household merges the two (the officer named as who merged)."""
    mother = involve(console, BSN)
    response = console.post("/fhir/Group", headers=team, json={
        "resourceType": "Group", "type": "person", "actual": True,
        "identifier": [{"system": household_system("zcd"), "value": "gezin-1"}],
        "member": [{"extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "parent"}],
                    "entity": {"reference": mother}}]})
    assert response.status_code == 201, response.text
    with sessions.begin() as session:  # as the same-household rule queues one (rule 3)
        review = queue_conflict(session, person_id=mother.removeprefix("Patient/"),
                                fact="household", known=response.json()["id"],
                                claimed=_other_household(session, mother),
                                source_ref="Group/x", client_id="demo-wijkteam-noord")
        review_id, survivor, merged = review.id, review.known_value, review.claimed_value
    page = console.get("/console/identity")
    section = page.text.split(f'id="review-{review_id}"')[1].split("</section>")[0]
    assert f"Group/{merged} (nieuw) en Group/{survivor} (bekend)" in section
    assert re.findall(r'name="resolution" value="([a-z-]+)"', section) == [
        "same-household", "different-households"]
    done = console.post(f"/console/identity/{review_id}/resolve", follow_redirects=False,
                        data={"csrf_token": csrf_token(page.text),
                              "resolution": "same-household", "comment": "Eén gezin, gebeld"})
    assert done.status_code == 303
    with sessions() as session:
        [row] = session.scalars(select(HouseholdMerge)).all()
        assert (row.survivor_id, row.merged_id, row.review_id, row.merged_by) == (
            survivor, merged, review_id, "anna.de-boer")


def _other_household(session, mother: str) -> str:  # noqa: ANN001
    """A second household with the mother as a parent, made directly."""
    household = HouseholdRow(client_id="demo-wijkteam-noord")
    session.add(household)
    session.flush()
    session.add(HouseholdMember(household_id=household.id,
                                person_id=mother.removeprefix("Patient/"), position=0,
                                role="parent"))
    return household.id


def test_an_authority_review_offers_its_own_resolutions(
        console: TestClient, sessions) -> None:  # noqa: ANN001
    """A contested claim of parental authority: the form offers holds-authority and
    no-authority; refused, nothing is recorded."""
    child, parent = involve(console, BSN), involve(console, VALID_BSNS[2])
    with sessions.begin() as session:  # as a household message without a say queues one
        review_id = queue_authority_claim(
            session, child_id=child.removeprefix("Patient/"),
            parent_id=parent.removeprefix("Patient/"), source_ref="Group/x",
            client_id="demo-wijkteam-noord", reserved="r-1").id
    page = console.get("/console/identity")
    section = page.text.split(f'id="review-{review_id}"')[1].split("</section>")[0]
    assert f"Gezag geclaimd voor {parent}" in section
    assert re.findall(r'name="resolution" value="([a-z-]+)"', section) == [
        "holds-authority", "no-authority"]
    done = console.post(f"/console/identity/{review_id}/resolve", follow_redirects=False,
                        data={"csrf_token": csrf_token(page.text),
                              "resolution": "no-authority", "comment": "Geen gezag, gebeld"})
    assert done.status_code == 303
    with sessions() as session:
        assert session.get(IdentityReview, review_id).resolution == "no-authority"
        assert session.scalars(select(RelatedPersonRow)).all() == []
