"""The console in a real browser: Playwright drives Debian's Chromium (headless) against uvicorn
on a loopback port. An officer logs in, searches a person, opens their timeline, approves an
override with a comment and finds the approval in the log. A screenshot per step goes to
``artifacts/browser/``. Chromium is installed by ``make test``; a missing browser fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from gateway.app import create_app
from gateway.platform.db.models import OverrideRow
from gateway.platform.settings import Settings
from tests.support.console import (
    BSN,
    JUSTIFICATION,
    OFFICER,
    PASSWORD,
    History,
    add_account,
    resident_history,
)
from tests.support.server import LiveServer
from tests.support.webhooks import WebhookReceiver

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
COMMENT = "Terecht gemeld: acuut gevaar, toestemming vragen kon niet."


@pytest.fixture
def server(settings: Settings, seeded: None, log_stream) -> Iterator[LiveServer]:  # noqa: ANN001
    with LiveServer(create_app(settings, configure_logs=False)) as live:
        yield live


@pytest.fixture
def history(server: LiveServer, receiver: WebhookReceiver) -> History:
    with httpx.Client(base_url=server.url) as api:
        return resident_history(api, receiver.url)


@pytest.fixture
def browser_page() -> Iterator[Page]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="nl-NL")
        page.set_default_timeout(10_000)
        yield page
        browser.close()


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_officer_reviews_an_override_in_the_browser(server: LiveServer, history: History,
                                                   browser_page: Page, sessions) -> None:  # noqa: ANN001
    add_account(sessions)
    page = browser_page

    page.goto(f"{server.url}/console")
    expect(page).to_have_url(f"{server.url}/console/login")
    _shot(page, "01-login")
    page.get_by_label("Gebruikersnaam").fill(OFFICER)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(f"{server.url}/console/entries")
    expect(page.get_by_role("navigation")).to_contain_text(OFFICER)
    _shot(page, "02-logged-in")

    page.get_by_label("Betrokkene (BSN)").fill(BSN)
    page.get_by_role("button", name="Zoeken").click()
    expect(page.locator("table")).to_contain_text("referral.received")
    expect(page.locator("table")).to_contain_text("delivery.withheld")
    _shot(page, "03-search-person")

    page.get_by_role("link", name="Tijdlijn van deze betrokkene").click()
    timeline = page.locator("table")
    for label in ("toestemming", "verstrekking", "intrekking", "weigering",
                  "meldrecht (override)"):
        expect(timeline).to_contain_text(label)
    _shot(page, "04-timeline")

    page.get_by_role("link", name="Te beoordelen").click()
    expect(page.locator("blockquote")).to_have_text(JUSTIFICATION)
    page.get_by_label("Toelichting bij goedkeuring").fill(COMMENT)
    _shot(page, "05-override-to-approve")
    page.get_by_role("button", name="Goedkeuren").click()
    expect(page.get_by_text("Er zijn geen overrides die op beoordeling wachten.")).to_be_visible()
    _shot(page, "06-override-approved")

    page.get_by_role("link", name="Zoeken").click()
    page.get_by_label("Soort").select_option("review")
    page.get_by_role("button", name="Zoeken").click()
    row = page.locator("tr", has_text="override.approved")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(OFFICER)
    _shot(page, "07-approval-logged")

    page.get_by_role("link", name="Keten").click()
    page.get_by_role("button", name="Nu controleren").click()
    expect(page.locator("#verification-outcome")).to_have_text("intact")
    _shot(page, "08-chain-verified")

    page.get_by_role("link", name="Verstrekkingen per week").click()
    expect(page.locator("svg rect[x]")).to_have_count(1)
    _shot(page, "09-disclosures-chart")

    with sessions() as session:
        stored = session.get(OverrideRow, history.override_id)
        assert (stored.review_status, stored.reviewed_by, stored.review_comment) == (
            "approved", OFFICER, COMMENT)
