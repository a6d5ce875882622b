"""The printable household plan in a real browser: Chromium (through Playwright) opens
``/plans/{id}/print`` on uvicorn with a team system's token, as the youth unit that wrote the
plan and as the adult unit that may see only part of it; the page asks no one for anything and
runs no script. The gateway's own print-to-PDF answers a PDF with a page. Screenshots (screen
and print media) and the PDF go to ``artifacts/browser/``."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.browser.test_console_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    browser_page,
    server,
)
from tests.gateway.conftest import units  # noqa: F401 (fixture)
from tests.gateway.test_care_plan import Household, home, systems  # noqa: F401 (fixtures)
from tests.support.plans import (
    PLAN_ADULTS,
    PLAN_YOUTH,
    YOUTH_LIST,
    action,
    care_plan,
    goal,
    roles,
    score,
)
from tests.support.server import LiveServer


def _plan(client: TestClient, systems: dict[str, dict[str, str]],  # noqa: F811
          home: Household) -> str:  # noqa: F811
    made = client.post("/fhir/CarePlan", headers=systems[PLAN_YOUTH], json=care_plan(
        home.group, roles(regiehouder={"reference": home.mother}),
        goal("g-opvoeding", home.child, "opvoeding", YOUTH_LIST,
             text="Vaste bedtijden en rust in huis"),
        goal("g-school", home.child, "school", YOUTH_LIST, text="Elke dag naar school"),
        goal("g-schulden", home.mother, "financien", text="Schulden op een rij"),
        action("t-avond", "g-opvoeding", home.child, due="2027-01-31",
               text="Schema voor de avond maken"),
        action("t-budget", "g-schulden", home.mother, due="2027-03-01",
               text="Budgetplan maken"),
        score("s-1", "g-opvoeding", "start", 2), score("s-2", "g-opvoeding", "current", 3),
        score("s-3", "g-school", "start", 4)))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_plan_prints_in_the_browser_and_as_pdf(
        server: LiveServer, client: TestClient, systems: dict[str, dict[str, str]],  # noqa: F811
        home: Household, browser_page: Page) -> None:  # noqa: F811
    url = f"{server.url}/plans/{_plan(client, systems, home)}/print"
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)

    page.set_extra_http_headers({"Authorization": systems[PLAN_YOUTH]["Authorization"]})
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Gezinsplan")
    expect(page.get_by_role("row", name="Houdt de regie ouder 1")).to_be_visible()
    expect(page.get_by_role("heading", level=3)).to_have_text([
        "Financiën", "Opvoeding en ontwikkeling", "School en dagbesteding", "Voor kind",
        "Voor ouder 1"])
    expect(page.locator("table.scores svg rect")).to_have_count(3)
    expect(page.locator("#left-out")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "plan-01-youth-unit.png", full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=ARTIFACTS / "plan-02-youth-unit-print.png", full_page=True)

    page.emulate_media(media="screen")
    page.set_extra_http_headers({"Authorization": systems[PLAN_ADULTS]["Authorization"]})
    page.goto(url)
    expect(page.locator("#left-out")).to_contain_text("Niet alles uit het plan staat hierop.")
    expect(page.locator(".goal")).to_have_count(0)  # no consent yet: nothing of the plan
    page.screenshot(path=ARTIFACTS / "plan-03-adult-unit-left-out.png", full_page=True)

    assert errors == []  # among others: nothing the Content-Security-Policy refused
    assert [u for u in requested if not u.startswith(server.url)] == []

    printed = httpx.get(url, headers={**systems[PLAN_YOUTH], "Accept": "application/pdf"},
                        timeout=60)
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", printed.content)) >= 1
    (ARTIFACTS / "plan-youth-unit.pdf").write_bytes(printed.content)
