"""``/docs`` in a real browser with the network closed: Swagger UI renders the gateway's own
document from the packaged assets and asks no other host for anything; its Authorize dialog
gets a client-credentials token with the gateway's scopes, and "Try it out" answers 200 with it.
Screenshots go to ``artifacts/browser/``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from gateway.cli.demo_data import demo_secret
from tests.browser.test_console_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    browser_page,
    server,
)
from tests.support.server import LiveServer

CLIENT = "demo-huisarts"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_docs_render_offline_and_authorize_works(server: LiveServer,  # noqa: F811
                                                       browser_page: Page) -> None:  # noqa: F811
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)

    page.goto(f"{server.url}/docs")
    expect(page.get_by_text("Send a referral", exact=True)).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "docs-01-operations.png", full_page=False)

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".auth-container").first
    expect(dialog).to_contain_text("clientCredentials")
    expect(dialog).to_contain_text("system/ServiceRequest.write")
    page.screenshot(path=ARTIFACTS / "docs-02-authorize.png", full_page=False)

    # a system scope needs no acting person, so Swagger UI's own token serves it
    oauth = page.locator(".auth-container").filter(has_text="clientCredentials")
    oauth.locator("#client_id").fill(CLIENT)
    oauth.locator("#client_secret").fill(demo_secret(CLIENT))
    oauth.get_by_text("system/Organization.read", exact=True).first.click()
    oauth.get_by_role("button", name="Authorize").click()
    expect(oauth.get_by_role("button", name="Logout")).to_be_visible()
    page.get_by_role("button", name="Close").first.click()

    operation = page.locator("#operations-Organization-list_organizations_fhir_Organization_get")
    operation.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status")
           ).to_have_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text("wijkteam-noord")
    page.screenshot(path=ARTIFACTS / "docs-03-tried.png", full_page=False)

    assert errors == []  # among others: nothing the Content-Security-Policy refused
    assert [url for url in requested if url.startswith(("http:", "https:"))
            and not url.startswith(server.url)] == []
    assert f"{server.url}/docs/static/swagger-ui-bundle.js" in requested
    assert f"{server.url}/openapi.json" in requested
