"""Who hears of a trajectory, and what: only the team systems that help the household, never
for a sensitive case or a justice trajectory, as a valid FHIR R4B EpisodeOfCare rendered into
each system's own format; only a team's system may subscribe."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters import OutboundMessage, Recipient, RenderError, get_adapter
from gateway.auth.bearer import Actor, Caller
from gateway.auth.scopes import adapter_scope
from gateway.pipeline.messages import TRANSPORT_FIRST_LOAD, receive_message
from gateway.platform.db.models import OutboxMessage
from gateway.platform.settings import Settings
from schemas import BSN_SYSTEM
from tests.adapters.test_zcd import GEZIN, OPEN, bericht, xml
from tests.conftest import bearer
from tests.support.units import (
    ADULTS,
    YOUTH,
    Units,
    child_case,
    client_message,
    debt,
    mother_of,
    zuid_youth,
)

EPISODE = {"resourceType": "EpisodeOfCare", "id": "e-1", "status": "finished",
           "patient": {"reference": "Patient/p-1"},
           "managingOrganization": {"identifier": {
               "system": "http://fhir.nl/fhir/NamingSystem/ura", "value": "90000101"}},
           "period": {"start": "2026-01-02", "end": "2026-03-04"}}
TRAJECTORY = OutboundMessage("nl.wijkgateway.trajectory.closed", "EpisodeOfCare", "e-1", EPISODE)
TEAM = Recipient("wijkteam-noord", "wijkteam-jeugd")


def _payloads(sessions: sessionmaker[Session]) -> list[tuple[str, dict]]:
    with sessions() as session:
        return [(m.status, m.payload) for m in session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_permitted_trajectory_is_a_valid_episode_of_care(
        units: Units, sessions: sessionmaker[Session]) -> None:
    mother = units.household_with_debt()
    units.consent(mother, mother, "wijkteam-jeugd")
    units.menscentraal(debt("a-3", "T-2"))
    [(released, _), (status, payload)] = _payloads(sessions)
    assert (released, status) == ("feed", "feed")  # the first, when consent came
    episode = EpisodeOfCare.model_validate(payload)
    assert (episode.status, episode.type[0].coding[0].code) == ("active", "finances")
    assert episode.patient.identifier.system == BSN_SYSTEM


def test_consent_given_later_sends_each_trajectory_once_as_it_stands(
        units: Units, sessions: sessionmaker[Session]) -> None:
    mother = units.household_with_debt()  # T-1, withheld
    units.zcd(OPEN)  # the youth unit helps the child (a sensitive case, told to no one)
    units.menscentraal(debt("a-3", "T-9", domein="huisvesting"))  # she is still helped
    units.menscentraal(debt("a-4", "T-1", status="gesloten", einde="2026-11-30"))
    assert [status for status, _ in _payloads(sessions)] == ["withheld"] * 3
    units.consent(mother, mother, "wijkteam-jeugd")
    notices = units.news(YOUTH)
    assert sorted(n.count("<zcd:status>gesloten</zcd:status>") for n in notices) == [0, 1]
    assert sum("<zcd:leefgebied>financien</zcd:leefgebied>" in n for n in notices) == 1
    assert [status for status, _ in _payloads(sessions)] == ["withheld", "feed", "feed"]


def test_consent_given_later_reaches_only_the_teams_that_still_help(
        client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
    zuid = zuid_youth(client, sessions)
    units.zcd(GEZIN)
    opened = client.post("/adapters/zcd/messages", content=xml(child_case("z-1")),
                         headers={**zuid, "Content-Type": "application/xml"})
    assert opened.status_code == 201, opened.text  # wijkteam-zuid helps the child for a while
    units.menscentraal(client_message("a-1"))
    mother = mother_of(units)
    units.menscentraal(debt("a-2", "T-1"))  # withheld from both youth teams: no consent
    closed = client.post("/adapters/zcd/messages", headers={
        **zuid, "Content-Type": "application/xml"}, content=xml(bericht(
            "<zcd:casusSluiten><zcd:persoon><zcd:lokaalId>k-7</zcd:lokaalId></zcd:persoon>"
            "<zcd:casusId>z-1</zcd:casusId></zcd:casusSluiten>", "m-z2")))
    assert closed.status_code == 201, closed.text
    units.consent(mother, mother, "wijkteam-jeugd")
    assert len(units.news(YOUTH)) == 1  # the team that helps hears
    page = client.get("/adapters/zcd/feed", headers=zuid)
    assert (page.status_code, page.json()["entries"]) == (200, [])  # zuid no longer does


def test_a_sensitive_case_and_a_justice_trajectory_are_never_told(
        units: Units, sessions: sessionmaker[Session]) -> None:
    mother = units.household_with_debt()
    units.consent(mother, mother, "wijkteam-jeugd")
    assert len(units.news(YOUTH)) == 1  # her debt trajectory, released
    before = len(_payloads(sessions))
    units.zcd(OPEN)  # the child's case in sensitive care: who else helps decides that one
    assert len(_payloads(sessions)) == before
    units.menscentraal(debt("a-3", "T-9", domein="justitie"))
    [(status, payload)] = _payloads(sessions)[before:]
    assert (status, payload) == ("withheld", {})  # outside the activity's purpose
    assert units.news(YOUTH) == []


DOUBTED_CASE = bericht(  # the youth dossier: the mother's BSN with another birth date
    "<zcd:casusOpenen><zcd:persoon><zcd:bsn>111222333</zcd:bsn><zcd:geboortedatum>1990-01-01"
    "</zcd:geboortedatum></zcd:persoon><zcd:casusId>d-1</zcd:casusId><zcd:begindatum>2026-11-10"
    "</zcd:begindatum><zcd:leefgebied>financien</zcd:leefgebied><zcd:casusregisseur><zcd:medewerker>jeugd-7</zcd:medewerker>"
    "<zcd:organisatie>wijkteam-noord</zcd:organisatie></zcd:casusregisseur></zcd:casusOpenen>",
    "m-d-1")


def test_a_trajectory_in_doubt_waits_for_its_review_whatever_consent_says(
        client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
    """A consent given while the person is in doubt releases nothing, and the close is held
    too; the review confirming her tells it once, as it stands (closed)."""
    mother = units.household_with_debt()
    [review] = units.zcd(DOUBTED_CASE)["reviews"]
    units.consent(mother, mother, "wijkteam-volwassenen")
    units.zcd(bericht("<zcd:casusSluiten><zcd:persoon><zcd:bsn>111222333</zcd:bsn>"
                      "</zcd:persoon><zcd:casusId>d-1</zcd:casusId><zcd:einddatum>2026-11-30"
                      "</zcd:einddatum></zcd:casusSluiten>", "m-d-2"))
    assert units.news(ADULTS) == []
    with sessions() as session:
        held = [(m.event_type, m.status, m.decision["reason"]) for m in session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id)) if m.decision.get("reason")]
    assert held == [("nl.wijkgateway.trajectory.opened", "withheld", "identity-conflict"),
                    ("nl.wijkgateway.trajectory.closed", "withheld", "identity-conflict")]
    resolved = client.post(f"/identity/reviews/{review.removeprefix('IdentityReview/')}"
                           "/resolve", headers=bearer(client, "demo-beheer"),
                           json={"resolution": "known-is-right", "comment": "Typfout in ZCD"})
    assert (resolved.status_code, resolved.json()["released"]) == (200, 1), resolved.text
    [notice] = units.news(ADULTS)
    assert (notice["gebeurtenis"], notice["traject"]["status"], notice["traject"]["start"],
            notice["traject"]["einde"]) == ("nl.wijkgateway.trajectory.closed", "gesloten",
                                            "2026-11-10", "2026-11-30")


def test_a_first_load_tells_no_one(units: Units, sessions: sessionmaker[Session],
                                   settings: Settings) -> None:
    mother = units.household_with_debt()
    units.consent(mother, mother, "wijkteam-jeugd")
    assert len(units.news(YOUTH)) == 1  # her debt trajectory, released
    before = len(_payloads(sessions))
    adults = Caller(ADULTS, frozenset({adapter_scope("menscentraal")}), "wijkteam-noord",
                    "wijkteam-volwassenen", "wijkteam-noord",
                    Actor("consulent-3", "worker", "adult"))
    with sessions.begin() as session:
        answer = receive_message(session, adults, get_adapter("menscentraal"),
                                 json.dumps(debt("a-3", "T-2")).encode(),
                                 settings.max_json_depth, transport=TRANSPORT_FIRST_LOAD)
    assert answer.status_code == 201
    assert len(_payloads(sessions)) == before  # registered, and no notice queued


def test_a_team_that_does_not_help_the_household_hears_nothing(
        client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
    elsewhere = zuid_youth(client, sessions)
    mother = units.household_with_debt()
    units.consent(mother, mother, "wijkteam-jeugd")  # any youth team, by role
    page = client.get("/adapters/zcd/feed", headers=elsewhere)
    assert (page.status_code, page.json()["entries"]) == (200, [])
    assert [len(units.news(YOUTH))] == [1]  # the team that helps hears it


def test_only_a_teams_system_subscribes_to_trajectories(
        client: TestClient, gp: dict[str, str]) -> None:
    refused = client.post("/fhir/Subscription", headers=gp, json={
        "resourceType": "Subscription", "status": "requested", "criteria": "EpisodeOfCare",
        "reason": "trajectories", "channel": {"type": "rest-hook",
                                               "endpoint": "https://example.org/hook"}})
    assert refused.status_code == 422, refused.text
    issue = refused.json()["issue"][0]
    assert issue["expression"] == ["Subscription.criteria"]
    assert "only a team's system" in issue["diagnostics"]


@pytest.mark.parametrize("system", ["zcd", "menscentraal"])
def test_a_closed_trajectory_without_bsn_or_domains_fits_each_schema(system: str) -> None:
    adapter = get_adapter(system)
    document = adapter.render(TRAJECTORY, TEAM)
    adapter.check_outbound(document)
    text = document.decode() if isinstance(document, bytes) else json.dumps(document)
    assert "2026-03-04" in text and "ura:90000101" in text and "gesloten" in text
    assert "bsn" not in text


def test_the_youth_dossier_renders_no_resource_it_does_not_carry() -> None:
    with pytest.raises(RenderError):
        get_adapter("zcd").render(OutboundMessage("x", "Encounter", "e", {}), TEAM)
