"""The console's involvement list and identity review queue: what they show, the look logged
per person, and a resolution made by form."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.platform.db.models import IdentityReview, OutboxMessage, ProcessingLogEntry
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
