"""The OpenAPI document an integrator works from, made in one place: FastAPI generates it from
the routes, and ``document`` adds what the routes cannot say (they read FHIR bodies, search
parameters and headers from the raw request), keyed by path and method:

- the OAuth2 client-credentials scheme with every scope, and on each operation the scopes its
  dependencies check (found in the dependency tree, so a new route cannot drift from its doc);
- FHIR request bodies with a schema and a Dutch example; responses typed as FHIR resources;
- the search parameters of the CapabilityStatement table, the common ones, and the headers;
- OperationOutcome as the body of every error (FastAPI's 422 HTTPValidationError is gone: the
  gateway answers a validation error with a 400 OperationOutcome);
- summaries a person wrote (the words live in ``gateway/api/openapi_text.py``, the FHIR parts in
  ``gateway/api/openapi_fhir.py``).

The document is OpenAPI 3.0.3, which the packaged Swagger UI (4.x) renders and every client
generator reads; pydantic's 3.1-only schema forms are rewritten (``_as_openapi_30``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import RouteContext, iter_route_contexts
from fhir.resources.R4B import get_fhir_model_class

from gateway.api import openapi_fhir as fhir
from gateway.api.openapi_text import (
    ACTING_PERSON,
    AUDIT_FILTERS,
    AUDIT_SEARCHES,
    ERRORS,
    INTERACTIONS,
    JSON_EXAMPLES,
    MEDIA,
    OAUTH_ERROR,
    OPERATION_OUTCOME,
    READYZ_DOWN,
    SUCCESS,
    SUMMARIES,
    TOKEN_RESPONSE,
    TRACING,
)
from gateway.api.ratelimit.middleware import UNCOUNTED
from gateway.api.runtime import require_scope
from gateway.auth.scopes import SCOPES, SYSTEM_SCOPES
from gateway.auth.token_endpoint import TOKEN_PATH
from gateway.oversight.queries import FILTERS

OPENAPI_VERSION = "3.0.3"
OAUTH2 = "oauth2"
CLIENT_BASIC = "clientSecretBasic"
_SCOPE_CHECK = f"{require_scope.__qualname__}.<locals>.dependency"
_PARAM = re.compile(r"^\{[^}]+\}$")


def install(app: FastAPI) -> None:
    """Replace FastAPI's document with ``document`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, openapi_version=OPENAPI_VERSION,
                       summary=app.summary, description=app.description, routes=app.routes,
                       tags=app.openapi_tags, servers=app.servers)
    routes = {(method.lower(), route.path): route for route in iter_route_contexts(app.routes)
              for method in (route.methods or ())}
    resource_types: set[str] = set()
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            resource_type = fhir_resource_type(path)
            if resource_type:
                resource_types.add(resource_type)
            _describe(operation, method, path, routes.get((method, path)), resource_type)
            operation["parameters"] = [*operation.get("parameters", []), *(
                {"$ref": f"#/components/parameters/{name}"} for name in TRACING)]
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(fhir.fhir_schemas(resource_types))
    schemas.update({"OperationOutcome": OPERATION_OUTCOME, "OAuthError": OAUTH_ERROR,
                    "AccessToken": TOKEN_RESPONSE})
    components["securitySchemes"] = security_schemes()
    components["parameters"] = TRACING
    return _as_openapi_30(spec)


def security_schemes() -> dict[str, Any]:
    system = ", ".join(f"`{s}`" for s in sorted(SYSTEM_SCOPES))
    return {
        OAUTH2: {"type": "oauth2",
                 "description": "OAuth2 client credentials: one client per connected system "
                                "(client_secret_basic or private_key_jwt). "
                                + ACTING_PERSON.format(system=system),
                 "flows": {"clientCredentials": {"tokenUrl": TOKEN_PATH, "scopes": SCOPES}}},
        CLIENT_BASIC: {"type": "http", "scheme": "basic",
                       "description": "The client id and secret, for the token endpoint "
                                      "(private_key_jwt clients send client_assertion in the "
                                      "form instead)."},
    }


def required_scopes(route: RouteContext) -> list[str]:
    """The scopes the route's dependencies check, found by walking its dependency tree: a
    ``require_scope`` check, or a dependency that calls a module-level one (the officers')."""
    found: set[str] = set()
    for call in _dependency_calls(route.dependant):
        for candidate in (call, *_globals_called(call)):
            if getattr(candidate, "__qualname__", "") == _SCOPE_CHECK:
                found.add(inspect.getclosurevars(candidate).nonlocals["scope"])
    return sorted(found)


def _dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    stack = list(dependant.dependencies)
    while stack:
        sub = stack.pop()
        if sub.call is not None:
            yield sub.call
        stack.extend(sub.dependencies)


def _globals_called(call: Callable[..., Any]) -> list[Callable[..., Any]]:
    if not inspect.isfunction(call):
        return []
    return [v for v in inspect.getclosurevars(call).globals.values() if inspect.isfunction(v)]


def fhir_resource_type(path: str) -> str | None:
    """``Task`` for ``/fhir/Task/{id}/...``; None where the segment is no R4B resource type."""
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "fhir" or not parts[2][:1].isupper():
        return None
    try:
        get_fhir_model_class(parts[2])
    except ValueError:  # not an R4B resource type
        return None
    return parts[2]


def _shape(path: str) -> str:
    """The path after ``/fhir/{Type}`` with parameters as ``{}``: ``{}/_history/{}``."""
    rest = path.split("/")[3:]
    return "/".join("{}" if _PARAM.match(p) else p for p in rest)


def _describe(operation: dict[str, Any], method: str, path: str, route: RouteContext | None,
              resource_type: str | None) -> None:
    operation["summary"] = _summary(method, path, operation, resource_type)
    scopes = required_scopes(route) if route is not None else []
    responses = operation.setdefault("responses", {})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {})
    if "HTTPValidationError" in str(validation.get("schema", "")):
        del responses["422"]
    if path == TOKEN_PATH:
        _token_endpoint(operation)
        return
    if scopes:
        operation["security"] = [{OAUTH2: scopes}]
        if set(scopes) - SYSTEM_SCOPES:
            operation["description"] = (operation.get("description", "") + "\n\nNeeds a "
                                        "token naming the acting person (docs/acting-person.md)."
                                        ).strip()
    if resource_type:
        _fhir_operation(operation, method, path, resource_type)
    elif path in AUDIT_SEARCHES:
        operation["parameters"] = [*operation.get("parameters", []), *(
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
             "description": AUDIT_FILTERS.get(name, name)}
            for name in (*FILTERS, "_count", "_offset"))]
    elif path == "/fhir/metadata":
        _fhir_success(operation, "CapabilityStatement")
        operation["parameters"] = [*operation.get("parameters", []), fhir.ACCEPT]
    else:
        _plain_success(operation, MEDIA.get((method, path)))
    if (method, path) in JSON_EXAMPLES:
        operation["requestBody"]["content"]["application/json"]["example"] = \
            JSON_EXAMPLES[(method, path)]
    if path == "/readyz":
        responses["503"] = READYZ_DOWN
    _errors(operation, method, path, bool(scopes), resource_type)


def _summary(method: str, path: str, operation: dict[str, Any],
             resource_type: str | None) -> str:
    if (method, path) in SUMMARIES:
        return SUMMARIES[(method, path)]
    template = INTERACTIONS.get((method, _shape(path))) if resource_type else None
    if template:
        return template.format(t=resource_type)
    first_line = operation.get("description", "").split("\n")[0].split(". ")[0].strip(" .")
    return first_line or operation.get("summary", "")


def _token_endpoint(operation: dict[str, Any]) -> None:
    operation["security"] = [{CLIENT_BASIC: []}, {}]
    form = {"type": "object", "required": ["grant_type"], "properties": {
        name: {"type": "string"} for name in ("grant_type", "scope", "subject_token",
                                              "subject_token_type", "client_assertion",
                                              "client_assertion_type")}}
    operation["requestBody"] = {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": form, "example": {
            "grant_type": "client_credentials", "scope": "system/Subscription.read"}}}}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/"
                                                                 "OAuthError"}}}}
    operation["responses"] = {
        "200": {"description": "An access token.", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/AccessToken"}}}},
        "400": {"description": "A malformed or unsupported request.", **error},
        "401": {"description": "The client failed to authenticate.", **error},
        "429": {"description": "Too many token requests; wait Retry-After seconds.", **error},
    }


def _fhir_operation(operation: dict[str, Any], method: str, path: str,
                    resource_type: str) -> None:
    shape = _shape(path)
    params = operation.setdefault("parameters", [])
    if method == "get" and shape in ("", "_history", "{}/_history"):
        params += fhir.search_parameters(resource_type) if shape == "" else [fhir.ACCEPT]
        _fhir_success(operation, "Bundle")
        return
    if method == "get":
        params += fhir.read_parameters()
    elif method == "post" and path.rpartition("/")[2].startswith("$"):  # an operation
        params += fhir.write_headers(method, resource_type)
        if (body := fhir.OPERATION_BODIES.get(path.rpartition("/")[2])) is not None:
            operation["requestBody"] = body
    elif method in ("post", "put", "patch"):
        params += fhir.write_headers(method, resource_type)
        operation["requestBody"] = fhir.write_body(method, resource_type)
        if method == "post" and fhir.flags(resource_type).get("conditionalCreate"):
            operation["responses"].setdefault("200", {"description": "If-None-Exist matched"})
    else:
        params.append(fhir.ACCEPT)
    _fhir_success(operation, resource_type)
    if method == "post":
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                response["headers"] = {
                    "Location": {"description": "The resource's version URL.",
                                 "schema": {"type": "string"}},
                    "ETag": {"description": 'The version, e.g. `W/"1"`.',
                             "schema": {"type": "string"}}}


def _fhir_success(operation: dict[str, Any], schema: str) -> None:
    """The 2xx answers carry this FHIR resource (a 204 carries nothing)."""
    for status, response in operation["responses"].items():
        if status.startswith("2") and status != "204":
            media = {"schema": {"$ref": f"#/components/schemas/{schema}"}}
            response["content"] = {fhir.FHIR_JSON: media, fhir.FHIR_XML: fhir.XML_BODY}
            response["description"] = SUCCESS.get(response["description"], f"A FHIR {schema}.")


def _plain_success(operation: dict[str, Any], media: dict[str, Any] | None) -> None:
    """JSON answers FastAPI left untyped become objects; the others get their media type."""
    for status, response in operation["responses"].items():
        content = response.get("content", {})
        if not status.startswith("2") or not content:
            continue
        if media is not None:
            response["content"] = media
        elif content.get("application/json", {}).get("schema") == {}:
            content["application/json"]["schema"] = {"type": "object"}


def _errors(operation: dict[str, Any], method: str, path: str, secured: bool,
            resource_type: str | None) -> None:
    statuses = [] if path.startswith(UNCOUNTED) else ["429"]
    if secured:
        statuses += ["401", "403", "503"]  # 503: a busy database
    if operation.get("parameters") or "requestBody" in operation:
        statuses.append("400")
    if "{" in path:
        statuses.append("404")
    if resource_type or path.startswith("/fhir/"):
        statuses.append("406")
    if method in ("post", "put", "patch"):
        statuses += ["409", "413", "422"]
        if "requestBody" in operation and resource_type:
            statuses.append("415")
    if method in ("put", "patch") and resource_type:
        statuses += ["412", "428"]
    content: dict[str, Any] = {
        fhir.FHIR_JSON: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}}
    if path.startswith("/fhir/"):  # where Accept or _format may ask for XML
        content[fhir.FHIR_XML] = fhir.XML_BODY
    responses = operation["responses"]
    for status in sorted(set(statuses)):
        responses.setdefault(status, {"description": ERRORS[status], "content": content})


def _as_openapi_30(node: Any) -> Any:
    """Rewrite the JSON Schema 2020-12 forms pydantic emits into OpenAPI 3.0's dialect:
    ``anyOf [X, null]`` -> X + ``nullable``, ``const`` -> ``enum``, a list of ``examples``
    -> ``example``, a numeric ``exclusiveMinimum``/``Maximum`` -> the boolean form."""
    if isinstance(node, list):
        return [_as_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _as_openapi_30(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del node[key]
            node.update(rest[0] if len(rest) == 1 else {key: rest})
            node["nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list):
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(key), int | float) and not isinstance(node[key], bool):
            node[bound] = node[key]
            node[key] = True
    return node
