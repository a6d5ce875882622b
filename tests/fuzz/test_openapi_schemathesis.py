"""schemathesis against the app's own OpenAPI document: never a 5xx, and every 4xx is an
OperationOutcome (the token endpoint answers RFC 6749 error JSON instead).

In-process over the ASGI app on a fresh SQLite database per operation, with a token that holds
every scope. Deterministic: a fixed number of examples per operation and generation mode,
derandomized, without hypothesis' example database. Nothing is excluded: every operation in the
document is run, and the document must list every route but the console (HTML pages behind a
session cookie, ``include_in_schema=False``; ``tests/console`` covers it) and FastAPI's pages
about the document itself.

The document declares the FHIR bodies (schemas from the R4B models, see ``gateway/api/openapi.py``),
so every FHIR write is fuzzed with bodies that reach the route's validation, and with the
declared headers (``If-Match``, ``If-None-Exist``, ``Idempotency-Key``, ``Prefer``, ``Accept``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from fhir.resources.R4B.operationoutcome import OperationOutcome
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from schemathesis import Case, GenerationMode

from gateway.app import create_app
from gateway.auth.scopes import SCOPES
from gateway.cli.demo_data import demo_secret
from gateway.platform.settings import Settings
from tests.conftest import BASE_URL, TEST_KEYS, add_test_client, bearer
from tests.support.markers import SQLITE_ONLY

EXAMPLES_PER_MODE = 20
TOKEN_PATH = "/oauth/token"
RFC6749_ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_grant",
                            "unauthorized_client", "unsupported_grant_type", "invalid_scope",
                            "temporarily_unavailable"})  # the last one: its 429
FUZZ_CLIENT = "fuzz-all-scopes"


# Served, but not in the document: FastAPI's pages about the document, and the console.
UNDOCUMENTED = ("/openapi.json", "/docs", "/redoc", "/console")
# ... and two exact paths: the HTML start page, and a type's _history, which only answers a 400
# saying what to do instead (tests/gateway/test_versions.py asserts it)
UNDOCUMENTED_PATHS = frozenset({"/", "/fhir/{resource_type}/_history"})


def _app() -> FastAPI:
    settings = Settings(environment="test", database_url="sqlite://", public_base_url=BASE_URL,
                        **TEST_KEYS)
    return create_app(settings, configure_logs=False)


APP = _app()
SCHEMA = schemathesis.openapi.from_dict(APP.openapi())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def test_the_document_lists_every_route_but_the_console() -> None:
    """What the document leaves out, schemathesis never calls: only the listed prefixes may."""
    served = {(method, route.path) for route in iter_route_contexts(APP.routes)
              for method in (route.methods or ()) if method != "HEAD"
              and not route.path.startswith(UNDOCUMENTED)
              and route.path not in UNDOCUMENTED_PATHS}
    assert sorted(served) == sorted((op.method.upper(), op.path) for op in OPERATIONS)


def test_every_fhir_write_has_a_body_to_fuzz() -> None:
    """Without a declared body schemathesis sends none, and the route's parser goes untested."""
    writes = {(op.method.upper(), op.path): sorted(body.media_type for body in op.body)
              for op in OPERATIONS if op.path.startswith("/fhir/")
              and op.method.upper() in ("POST", "PUT", "PATCH")
              and not op.path.endswith("/$approve")}  # an operation that takes no body
    fhir_json = ["application/fhir+json", "application/json"]
    patches = ["application/json-patch+json", "application/merge-patch+json"]
    assert writes == {key: patches if key[0] == "PATCH" else fhir_json for key in writes}
    assert len(writes) >= 8


@pytest.fixture
def everything(client: TestClient, sessions) -> dict[str, str]:  # noqa: ANN001
    with sessions.begin() as session:
        add_test_client(session, "fuzz", list(SCOPES), team_id="wijkteam-noord",
                        client_id=FUZZ_CLIENT, secret=demo_secret(FUZZ_CLIENT))
    return bearer(client, FUZZ_CLIENT)


def _request(case: Case, headers: dict[str, str]) -> dict[str, Any]:
    """schemathesis' requests-style call as keyword arguments for the httpx TestClient."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes):
        kwargs["content"] = kwargs.pop("data")
    kwargs["headers"] = {**kwargs.get("headers", {}), **headers}
    return kwargs


def check_contract(path: str, status: int, body: bytes, content_type: str = "") -> None:
    """Never a 5xx; a 4xx is an OperationOutcome (JSON or XML) with an issue, or RFC 6749
    error JSON."""
    assert status < 500, body[:500]
    if status < 400:
        return
    if path == TOKEN_PATH:
        assert json.loads(body)["error"] in RFC6749_ERRORS
    elif content_type.startswith("application/fhir+xml"):  # the Accept header asked for XML
        assert len(OperationOutcome.model_validate_xml(body).issue) >= 1
    else:
        assert len(OperationOutcome.model_validate_json(body).issue) >= 1


def _modes(operation: Any) -> list[GenerationMode]:
    """Valid inputs always; invalid ones where the operation declares a query or a body to
    break (a free-form string path parameter has no invalid value to generate)."""
    breakable = operation.query or operation.body
    return [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if breakable else [])]


@SQLITE_ONLY
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_operation_never_answers_5xx(operation: Any, client: TestClient,
                                     everything: dict[str, str]) -> None:
    for mode in _modes(operation):

        @examples(max_examples=EXAMPLES_PER_MODE, derandomize=True, database=None,
                  deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Case) -> None:
            response = client.request(**_request(case, everything))
            check_contract(operation.path, response.status_code, response.content,
                           response.headers.get("content-type", ""))

        run()
