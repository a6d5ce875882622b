"""Through uvicorn as ``wijkgateway serve`` runs it: links name the configured base URL the
request matched, with the scheme uvicorn reports, which follows ``X-Forwarded-Proto`` only for
proxies in WIJKGATEWAY_FORWARDED_ALLOW_IPS; a forged Host never reaches a link. And FHIR XML
over the wire."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest

from gateway.app import create_app
from gateway.cli import proxy_options
from gateway.platform.settings import Settings
from tests.integration.conftest import token_for
from tests.support.samples import subscription
from tests.support.server import LiveServer, free_port

PUBLIC = "https://gw.example.nl/wijk"


def _serve(settings: Settings, trusted: str) -> LiveServer:
    port = free_port()
    tuned = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}",
                                        "public_base_urls": [PUBLIC],
                                        "forwarded_allow_ips": trusted})
    return LiveServer(create_app(tuned, configure_logs=False), port, **proxy_options(tuned))


@pytest.fixture(params=["", "127.0.0.1"], ids=["no proxy trusted", "loopback proxy trusted"])
def live(request: pytest.FixtureRequest, settings: Settings, seeded: None,
         log_stream: io.StringIO) -> Iterator[tuple[LiveServer, bool]]:
    with _serve(settings, request.param) as server:
        yield server, bool(request.param)


def _location(server: LiveServer, **headers: str) -> str:
    response = httpx.post(f"{server.url}/fhir/Subscription", json=subscription(
        "http://127.0.0.1:9/hook"), headers={
        "Authorization": f"Bearer {token_for(server, 'demo-huisarts')}",
        "Content-Type": "application/fhir+json", **headers})
    assert response.status_code == 201, response.text
    return response.headers["Location"].split("/fhir/")[0]


def test_forwarded_proto_counts_only_from_a_trusted_proxy(
        live: tuple[LiveServer, bool]) -> None:
    server, trusted = live
    proxied = _location(server, Host="gw.example.nl", **{"X-Forwarded-Proto": "https"})
    assert proxied == (PUBLIC if trusted else server.url)


def test_a_forged_host_gets_the_default(live: tuple[LiveServer, bool]) -> None:
    server, _ = live
    assert _location(server, Host="evil.example", **{"X-Forwarded-Proto": "https"}) == \
        server.url


def test_xml_over_the_wire(live: tuple[LiveServer, bool]) -> None:
    server, _ = live
    response = httpx.get(f"{server.url}/fhir/metadata",
                         headers={"Accept": "application/fhir+xml; fhirVersion=4.0"})
    assert (response.status_code, response.headers["content-type"],
            response.headers["vary"]) == (200, "application/fhir+xml; charset=utf-8", "Accept")
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n"
                                        b"<CapabilityStatement xmlns=\"http://hl7.org/fhir\">")
