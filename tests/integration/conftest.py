"""A live gateway for real FHIR client libraries: uvicorn on a loopback port whose own URL is
the configured public base URL, so the links in its Bundles and headers can be followed."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest

from gateway.app import create_app
from gateway.auth.token_exchange import exchange_form
from gateway.cli.demo_data import DEMO_ACTORS, demo_secret
from gateway.platform.settings import Settings
from tests.support.server import LiveServer, free_port


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{free_port()}"})


@pytest.fixture
def server(live_settings: Settings, seeded: None,
           log_stream: io.StringIO) -> Iterator[LiveServer]:
    port = int(live_settings.public_base_url.rsplit(":", 1)[1])
    with LiveServer(create_app(live_settings, configure_logs=False), port) as live:
        yield live


def token_for(server: LiveServer, client_id: str) -> str:
    """A token exchange (RFC 8693) naming the demo worker, as the connected system does."""
    form = exchange_form(client_id, demo_secret(client_id), DEMO_ACTORS[client_id],
                         f"{server.url}/oauth/token")
    response = httpx.post(f"{server.url}/oauth/token", data=form,
                          auth=(client_id, demo_secret(client_id)))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]
