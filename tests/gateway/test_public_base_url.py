"""Links name a configured public base URL: the one whose scheme, host and port the request
used, else the default; a forged ``Host`` never ends up in a link."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from gateway.fhir.base_url import origin
from gateway.platform.settings import Settings
from tests.conftest import BASE_URL
from tests.support.samples import subscription
from tests.support.webhooks import WebhookReceiver

INTERNAL = "http://gw.intern.example.nl:8080"
PUBLIC = "https://gw.example.nl/wijk"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_base_urls": [INTERNAL, PUBLIC]})


def _links(client: TestClient, gp: dict, receiver: WebhookReceiver,
           url: str = "/fhir/Subscription", **headers: str) -> tuple[str, str, str]:
    created = client.post(url, json=subscription(receiver.url), headers={**gp, **headers})
    assert created.status_code == 201, created.text
    bundle = client.get(url, headers={**gp, **headers}).json()
    return created.headers["Location"], bundle["entry"][0]["fullUrl"], bundle["link"][0]["url"]


@pytest.mark.parametrize("url,headers,expected", [
    ("/fhir/Subscription", {"Host": "gw.intern.example.nl:8080"}, INTERNAL),
    ("/fhir/Subscription", {"Host": "GW.INTERN.example.nl:8080"}, INTERNAL),
    ("https://gw.example.nl/fhir/Subscription", {}, PUBLIC),
    ("https://gw.example.nl:443/fhir/Subscription", {}, PUBLIC),
    ("/fhir/Subscription", {"Host": "evil.example"}, BASE_URL),  # forged
    ("/fhir/Subscription", {"Host": "gw.intern.example.nl"}, BASE_URL),  # port 80, not 8080
    ("/fhir/Subscription", {"Host": "gw.example.nl"}, BASE_URL),  # http, not https
    ("/fhir/Subscription", {"Host": "gw.intern.example.nl:99999"}, BASE_URL),
    ("/fhir/Subscription", {"Host": "[::1"}, BASE_URL),
])
def test_links_use_the_configured_base_the_request_matches(
        url: str, headers: dict[str, str], expected: str, client: TestClient, gp: dict,
        receiver: WebhookReceiver) -> None:
    location, full_url, self_link = _links(client, gp, receiver, url, **headers)
    assert location.startswith(f"{expected}/fhir/Subscription/")
    assert full_url.startswith(f"{expected}/fhir/Subscription/")
    assert self_link.startswith(f"{expected}/fhir/Subscription?")


def test_extra_base_urls_come_comma_separated_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIJKGATEWAY_PUBLIC_BASE_URLS", f" {INTERNAL}/ ,{PUBLIC}")
    assert Settings().public_base_urls == [INTERNAL, PUBLIC]


@pytest.mark.parametrize("value", ["gw.example.nl", "ftp://gw.example.nl",
                                   "https://user@gw.example.nl", "https://gw.example.nl/?a=1",
                                   "https://"])
def test_a_base_url_that_is_no_url_stops_start_up(value: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIJKGATEWAY_PUBLIC_BASE_URLS", value)
    with pytest.raises(ValidationError, match="not a public base URL"):
        Settings()


@pytest.mark.parametrize("scheme,netloc,expected", [
    ("https", "Gw.Example.nl", ("https", "gw.example.nl", 443)),
    ("http", "gw.example.nl:8080", ("http", "gw.example.nl", 8080)),
    ("http", "[::1]:8000", ("http", "::1", 8000)),
    ("http", "gw.example.nl:http", None),
    ("http", "", None),
    ("ws", "gw.example.nl", None),
])
def test_origin(scheme: str, netloc: str, expected: tuple[str, str, int] | None) -> None:
    assert origin(scheme, netloc) == expected
