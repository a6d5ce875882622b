"""Every route declares who may call it, read from ``app.routes`` so a new route cannot forget.

A route declares a scope (a dependency made by ``require_scope``, directly as in
``caller: TaskWrite`` or inside a wrapper such as the privacy officers' ``Officer``), the
console's officer session, or it is on the reviewed ``PUBLIC`` list below. A route that declares
nothing fails ``test_every_route_declares_who_may_call_it``; each scoped route is called without
its scope (403 naming the scope) and without a token (401).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from gateway.api.console.auth import _console_user, _csrf_checked
from gateway.api.openapi import required_scopes
from gateway.app import create_app
from gateway.auth.clients import add_client
from gateway.auth.scopes import SCOPES, SYSTEM_SCOPES
from gateway.platform.settings import Settings
from tests.conftest import BASE_URL, TEST_KEYS
from tests.support.markers import SQLITE_ONLY

# Reviewed: who may call these without a token, and why.
PUBLIC = {
    ("GET", "/"): "a static page of links (API docs, metadata, console, metrics)",
    ("GET", "/openapi.json"): "the API description",
    ("GET", "/docs"): "the API description, as a page",
    ("GET", "/docs/oauth2-redirect"): "the API page's OAuth2 helper",
    ("GET", "/docs/static/{name}"): "the API page's script, style sheet and icon",
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/readyz"): "readiness probe",
    ("GET", "/metrics"): "Prometheus scrape; counters only, no personal data",
    ("POST", "/oauth/token"): "clients authenticate here (secret or signed assertion)",
    ("GET", "/oauth/jwks"): "the public keys that verify tokens",
    ("GET", "/.well-known/smart-configuration"): "SMART discovery",
    ("GET", "/fhir/.well-known/smart-configuration"): "SMART discovery at the FHIR base",
    ("GET", "/processing-activities"): "the public register of processing activities",
    ("GET", "/fhir/metadata"): "the FHIR CapabilityStatement",
    ("GET", "/fhir/OperationDefinition/{operation_id}"): "what an operation the "
    "CapabilityStatement declares takes and answers",
    ("GET", "/fhir/{resource_type}/_history"): "only says a whole type's history is not offered",
    ("GET", "/console"): "redirects to the console's first page, which needs a session",
    ("GET", "/console/login"): "the login form",
    ("POST", "/console/login"): "the login itself (CSRF token checked)",
    ("POST", "/console/logout"): "ends a session (CSRF token checked)",
}
CONSOLE_SESSION = "console session"


def _routes() -> list[tuple[str, str, Any]]:
    """(method, path, route) for every route the app serves; HEAD goes with GET."""
    settings = Settings(environment="test", database_url="sqlite://", public_base_url=BASE_URL,
                        **TEST_KEYS)
    app = create_app(settings, configure_logs=False)
    return sorted((method, route.path, route) for route in iter_route_contexts(app.routes)
                  for method in (route.methods or ()) if method != "HEAD")


def _calls(route: Any) -> Iterator[Callable[..., Any]]:
    stack = [route.dependant] if getattr(route, "dependant", None) else []
    while stack:
        dependant = stack.pop()
        for sub in dependant.dependencies:
            if sub.call is not None:
                yield sub.call
            stack.append(sub)


def who_may_call(route: Any) -> str | None:
    """A scope (as the OpenAPI document finds it), ``CONSOLE_SESSION``, or None when the
    route declares nothing."""
    if getattr(route, "dependant", None) and (scopes := required_scopes(route)):
        return scopes[0]
    return CONSOLE_SESSION if any(call is _console_user for call in _calls(route)) else None


ROUTES = _routes()
SCOPED = [(m, p, who_may_call(r)) for m, p, r in ROUTES
          if who_may_call(r) not in (None, CONSOLE_SESSION)]
CONSOLE = [(m, p, r) for m, p, r in ROUTES if who_may_call(r) == CONSOLE_SESSION]
RESIDENT_ROUTES = [(m, p, s) for m, p, s in SCOPED if s not in SYSTEM_SCOPES]


def test_every_route_declares_who_may_call_it() -> None:
    undeclared = [(m, p) for m, p, r in ROUTES if who_may_call(r) is None
                  and (m, p) not in PUBLIC]
    assert undeclared == []


def test_the_public_list_names_only_public_routes() -> None:
    served = {(m, p): who_may_call(r) for m, p, r in ROUTES}
    assert {key: served.get(key, "not served") for key in PUBLIC} == dict.fromkeys(PUBLIC)


def _concrete(path: str) -> str:
    return "/".join("x" if part.startswith("{") else part for part in path.split("/"))


@SQLITE_ONLY
@pytest.mark.parametrize("method,path,scope", SCOPED, ids=[f"{m} {p}" for m, p, _ in SCOPED])
def test_scoped_route_needs_its_scope_and_a_token(method: str, path: str, scope: str,
                                                  client: TestClient,
                                                  sessions) -> None:  # noqa: ANN001
    with sessions.begin() as session:
        add_client(session, "almost all", [s for s in SCOPES if s != scope],
                   team_id="wijkteam-noord", client_id="almost", secret="almost-secret")
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=("almost", "almost-secret")).json()["access_token"]
    url = _concrete(path)
    headers = {"Content-Type": "application/fhir+json"}
    response = client.request(method, url, content=b"{}",
                              headers={**headers, "Authorization": f"Bearer {token}"})
    assert response.status_code == 403, response.text
    assert f'scope="{scope}"' in response.headers["www-authenticate"]
    assert response.json()["issue"][0]["expression"] == ["Authorization"]
    anonymous = client.request(method, url, content=b"{}", headers=headers)
    assert anonymous.status_code == 401
    assert anonymous.json()["issue"][0]["expression"] == ["Authorization"]


@SQLITE_ONLY
@pytest.mark.parametrize("method,path,scope", RESIDENT_ROUTES,
                         ids=[f"{m} {p}" for m, p, _ in RESIDENT_ROUTES])
def test_residents_data_needs_a_token_naming_the_worker(method: str, path: str, scope: str,
                                                        client: TestClient,
                                                        sessions) -> None:  # noqa: ANN001
    """A system's own token (client credentials, every scope) is not enough where a route's
    scope is about residents: the request must name the acting person."""
    with sessions.begin() as session:
        add_client(session, "all", list(SCOPES), team_id="wijkteam-noord",
                   client_id="all-scopes", secret="all-scopes-secret")
    token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=("all-scopes", "all-scopes-secret")).json()["access_token"]
    response = client.request(method, _concrete(path), content=b"{}", headers={
        "Content-Type": "application/fhir+json", "Authorization": f"Bearer {token}"})
    assert response.status_code == 403, response.text
    assert "names the worker" in response.json()["issue"][0]["diagnostics"]


@SQLITE_ONLY
@pytest.mark.parametrize("method,path,route", CONSOLE, ids=[f"{m} {p}" for m, p, _ in CONSOLE])
def test_console_route_needs_a_session(method: str, path: str, route: Any,
                                       client: TestClient) -> None:
    """Without a session a page sends the browser to the login form; a form post without the
    session's CSRF token is refused before anything else."""
    response = client.request(method, _concrete(path), follow_redirects=False)
    if _csrf_checked in set(_calls(route)):
        assert response.status_code == 403
    else:
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")
