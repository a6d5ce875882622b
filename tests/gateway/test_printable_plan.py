"""The household plan on paper (``GET /plans/{id}/print``, docs/household-plan.md "On paper"):
the plan as the caller may see it, in plain Dutch, withheld goals absent and said to be, every
text escaped, no BSN or id of a member, and who cannot read the plan cannot print it. The PDF
itself is made by a real Chromium in tests/browser/test_plan_browser.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gateway.api.printable_plan import HTML, PDF, wanted
from gateway.app import create_app
from gateway.auth.scopes import SCOPE_CARE_PLAN_READ
from gateway.cli.demo_data import demo_secret
from gateway.plans.printable import member_names
from gateway.plans.score_chart import score_chart
from gateway.platform.db.models import ProcessingLogEntry
from gateway.platform.errors import BadRequest, NotAcceptable
from gateway.platform.settings import Settings
from tests.adapters.test_zcd import CHILD, FATHER, MOTHER
from tests.conftest import add_test_client
from tests.gateway.test_care_plan import Household, home, systems  # noqa: F401 (fixtures)
from tests.support.flows import post_consent
from tests.support.plans import (
    PLAN_ADULTS,
    PLAN_YOUTH,
    YOUTH_LIST,
    action,
    care_plan,
    goal,
    headers,
    roles,
    score,
)
from tests.support.samples import consent_resource

UPBRINGING, DEBTS = "Vaste bedtijden en rust in huis", "Schulden op een rij"


def _draft(client: TestClient, systems: dict[str, dict[str, str]],  # noqa: F811
           home: Household, upbringing: str = UPBRINGING) -> str:  # noqa: F811
    made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
        home.group,
        roles(regiehouder={"reference": home.mother},
              casusregisseur={"type": "Organization", "identifier": {
                  "system": "https://wijkgateway.nl/fhir/NamingSystem/team",
                  "value": "wijkteam-noord"}}),
        goal("g-opvoeding", home.child, "opvoeding", YOUTH_LIST, text=upbringing),
        goal("g-schulden", home.mother, "financien", text=DEBTS, startDate="2026-01-15"),
        action("t-bedtijd", "g-opvoeding", home.child, due="2027-01-31",
               text="Schema voor de avond maken"),
        action("t-budget", "g-schulden", home.mother, due="2027-03-01",
               text="Budgetplan maken"),
        score("s-start", "g-opvoeding", "start", 2), score("s-nu", "g-opvoeding", "current", 4,
                                                           at="2026-11-20")))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _printed(client: TestClient, plan_id: str, headers: dict[str, str], **params: str) -> str:
    page = client.get(f"/plans/{plan_id}/print", headers=headers, params=params)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    return page.text


def _text(page: str) -> str:
    """The page as a reader sees it: tags out, whitespace folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _reads(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(sa.select(sa.func.count()).where(
            ProcessingLogEntry.action == "plan.read", ProcessingLogEntry.kind == "read"))


def test_the_author_prints_the_whole_plan_in_dutch(
        client: TestClient, systems: dict[str, dict[str, str]],  # noqa: F811
        home: Household) -> None:  # noqa: F811
    page = _printed(client, _draft(client, systems, home), systems[PLAN_YOUTH])
    text = _text(page)
    assert "Gezinsplan Status: concept: nog niet vastgesteld · versie 1" in text
    assert "Wie houdt de regie Houdt de regie ouder 1 Casusregisseur wijkteam-noord" in text
    assert ("Doelen per leefgebied Financiën Schulden op een rij loopt langer dan zes "
            "maanden: opnieuw bekijken Voor ouder 1 · loopt · sinds 15 januari 2026 "
            "Opvoeding en ontwikkeling Vaste bedtijden en rust in huis Voor kind · loopt") in text
    assert ("Opvoeding en ontwikkeling: Vaste bedtijden en rust in huis (kind) 2 4") in text
    assert re.findall(r'<rect x="0" y="\d+" width="([\d.]+)"', page) == ["80.0", "160.0"]
    assert ("Voor kind Wat Wie doet het Klaar op Hoe staat het Schema voor de avond maken "
            "bij het doel: Vaste bedtijden en rust in huis wijkteam-noord 31 januari 2027 "
            "gevraagd") in text
    assert "Voor ouder 1 Wat Wie doet het Klaar op Hoe staat het Budgetplan maken" in text
    assert "Het gezin heeft nog niet ingestemd met deze versie van het plan." in text
    assert "Niet alles uit het plan staat hierop" not in text


def test_the_page_names_no_member_by_bsn_or_id(
        client: TestClient, systems: dict[str, dict[str, str]],  # noqa: F811
        home: Household) -> None:  # noqa: F811
    page = _printed(client, _draft(client, systems, home), systems[PLAN_YOUTH])
    ids = [ref.removeprefix("Patient/") for ref in (home.mother, home.child, home.father)]
    assert [s for s in (MOTHER, FATHER, CHILD, *ids) if s in page] == []
    assert re.findall(r"\d{9}", page) == []


def test_withheld_goals_are_left_out_and_the_page_says_so(
        client: TestClient, team: dict[str, str], systems: dict[str, dict[str, str]],  # noqa: F811
        home: Household, sessions: sessionmaker[Session]) -> None:  # noqa: F811
    plan_id = _draft(client, systems, home)
    before = _reads(sessions)
    text = _text(_printed(client, plan_id, systems[PLAN_ADULTS]))
    assert "Niet alles uit het plan staat hierop." in text
    assert [t for t in (UPBRINGING, DEBTS, "Budgetplan", "Schema voor") if t in text] == []
    assert _reads(sessions) == before + 4  # logged as any read: one entry per member
    given = post_consent(client, team, consent_resource(
        home.mother, activity="household-plan", role="wijkteam-volwassenen"))
    assert given.status_code == 201, given.text
    text = _text(_printed(client, plan_id, systems[PLAN_ADULTS]))
    assert (DEBTS in text, "Budgetplan maken" in text) == (True, True)
    assert (UPBRINGING in text, "Schema voor" in text, "Hoe zelfredzaam Er zijn (nog) geen "
            "scores." in text) == (False, False, True)
    assert "Niet alles uit het plan staat hierop." in text


def test_a_goal_text_is_escaped(client: TestClient,
                                systems: dict[str, dict[str, str]],  # noqa: F811
                                home: Household) -> None:  # noqa: F811
    plan_id = _draft(client, systems, home, upbringing='<script>alert("x")</script> & rust')
    page = _printed(client, plan_id, systems[PLAN_YOUTH])
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; rust") == 3


def test_the_page_may_run_no_script_and_is_not_cached(
        client: TestClient, systems: dict[str, dict[str, str]],  # noqa: F811
        home: Household) -> None:  # noqa: F811
    answer = client.get(f"/plans/{_draft(client, systems, home)}/print",
                        headers=systems[PLAN_YOUTH])
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-security-policy"].startswith("default-src 'none';")


def test_who_cannot_read_the_plan_cannot_print_it(
        client: TestClient, gp: dict[str, str], systems: dict[str, dict[str, str]],  # noqa: F811
        home: Household, sessions: sessionmaker[Session]) -> None:  # noqa: F811
    plan_id = _draft(client, systems, home)
    with sessions.begin() as session:
        add_test_client(session, "zuid", [SCOPE_CARE_PLAN_READ], client_id="plan-zuid",
                        secret=demo_secret("plan-zuid"), team_id="wijkteam-zuid",
                        role="wijkteam-volwassenen")
    before = _reads(sessions)
    other_team = client.get(f"/plans/{plan_id}/print", headers=headers(client, "plan-zuid"))
    assert other_team.status_code == 404, other_team.text
    assert other_team.json()["issue"][0]["expression"] == ["CarePlan.id"]
    no_scope = client.get(f"/plans/{plan_id}/print", headers=gp)
    assert no_scope.status_code == 403, no_scope.text
    unknown = client.get("/plans/nope/print", headers=systems[PLAN_YOUTH])
    assert unknown.status_code == 404, unknown.text
    assert _reads(sessions) == before


@pytest.mark.parametrize(("params", "accept", "status", "expression"), [
    ({"format": "docx"}, "", 400, "format"),
    ({}, "application/fhir+json", 406, "Accept"),
])
def test_a_format_not_served_is_refused_naming_it(
        client: TestClient, systems: dict[str, dict[str, str]],  # noqa: F811
        home: Household, params: dict[str, str], accept: str, status: int,  # noqa: F811
        expression: str) -> None:
    answer = client.get(f"/plans/{_draft(client, systems, home)}/print", params=params,
                        headers={**systems[PLAN_YOUTH], "Accept": accept})
    assert answer.status_code == status, answer.text
    assert answer.json()["issue"][0]["expression"] == [expression]


def test_a_pdf_without_chromium_is_503_and_nothing_is_read(
        settings: Settings, client: TestClient, systems: dict[str, dict[str, str]],  # noqa: F811
        home: Household, sessions: sessionmaker[Session], tmp_path: Any) -> None:  # noqa: F811
    plan_id = _draft(client, systems, home)
    before = _reads(sessions)
    without = settings.model_copy(update={"chromium_path": tmp_path / "no-chromium"})
    with TestClient(create_app(without, configure_logs=False)) as other:
        answer = other.get(f"/plans/{plan_id}/print", headers={
            **systems[PLAN_YOUTH], "Accept": "application/pdf"})
        html = other.get(f"/plans/{plan_id}/print", headers=systems[PLAN_YOUTH])
    assert answer.status_code == 503, answer.text
    issue = answer.json()["issue"][0]
    assert (issue["code"], issue["expression"]) == ("transient", ["Accept"])
    assert "no Chromium is installed" in issue["diagnostics"]
    assert html.status_code == 200  # the HTML does not need Chromium
    assert _reads(sessions) == before + 4


class TestWanted:
    @pytest.mark.parametrize(("accept", "format_", "expected"), [
        ("", None, HTML),
        ("*/*", None, HTML),
        ("application/pdf", None, PDF),
        ("text/html;q=0.5, application/pdf", None, PDF),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None, HTML),
        ("application/*", None, PDF),
        ("application/pdf", "html", HTML),
        ("", "pdf", PDF),
    ])
    def test_format_then_the_best_accepted_type(self, accept: str, format_: str | None,
                                                expected: str) -> None:
        assert wanted(accept, format_) == expected

    def test_nothing_acceptable_is_406_and_a_bad_format_400(self) -> None:
        with pytest.raises(NotAcceptable):
            wanted("application/json, text/html;q=0", None)
        with pytest.raises(BadRequest):
            wanted("", "PDF")


class TestMemberNames:
    def test_a_shared_place_is_numbered(self) -> None:
        members = [("a", "parent"), ("b", "parent"), ("c", "child"), ("d", "unborn")]
        assert member_names(members) == {"a": "ouder 1", "b": "ouder 2", "c": "kind",
                                         "d": "ongeboren kind"}


class TestScoreChart:
    def test_bars_on_the_one_to_five_scale(self) -> None:
        chart = score_chart(2, 5)
        assert [(b.y, b.width, b.label) for b in chart.bars] == [
            (4, 80.0, "bij de start: 2"), (20, 200.0, "nu: 5")]
        assert chart.ticks == (40.0, 80.0, 120.0, 160.0, 200.0)

    def test_a_missing_score_draws_no_bar(self) -> None:
        assert [b.label for b in score_chart(None, 3).bars] == ["nu: 3"]
