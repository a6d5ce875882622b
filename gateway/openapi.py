"""The OpenAPI document an integrator works from, made in one place: FastAPI generates it from
the routes, and ``document`` adds what the routes cannot say (they read FHIR bodies, search
parameters and headers from the raw request), keyed by path and method:

- the OAuth2 client-credentials scheme with every scope, and on each operation the scopes its
  dependencies check (found in the dependency tree, so a new route cannot drift from its doc);
- FHIR request bodies with a schema and a Dutch example; responses typed as FHIR resources;
- the search parameters of the CapabilityStatement table, the common ones, and the headers;
- OperationOutcome as the body of every error (FastAPI's 422 HTTPValidationError is gone: the
  gateway answers a validation error with a 400 OperationOutcome);
- summaries a person wrote.

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

from gateway import openapi_fhir as fhir
from gateway.audit.queries import FILTERS
from gateway.auth.scopes import SCOPES, SYSTEM_SCOPES
from gateway.auth.token_endpoint import TOKEN_PATH
from gateway.ratelimit.middleware import UNCOUNTED
from gateway.runtime import require_scope

OPENAPI_VERSION = "3.0.3"
OAUTH2 = "oauth2"
CLIENT_BASIC = "clientSecretBasic"
_SCOPE_CHECK = f"{require_scope.__qualname__}.<locals>.dependency"
_PARAM = re.compile(r"^\{[^}]+\}$")
ACTING_PERSON = ("Every scope but {system} reads or changes a resident's data and needs a token "
                 "that names the worker the system acts for: exchange the system's token for "
                 "one with the acting person (RFC 8693 token exchange, "
                 "`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`; see "
                 "docs/acting-person.md). Swagger UI's Authorize button gets a plain "
                 "client-credentials token, enough for the system scopes.")

# Written by a person; FHIR interactions without an entry get one from ``_fhir_summary``.
SUMMARIES: dict[tuple[str, str], str] = {
    ("get", "/healthz"): "Check that the gateway is alive",
    ("get", "/readyz"): "Check that the gateway can reach its database",
    ("get", "/metrics"): "Prometheus metrics",
    ("post", TOKEN_PATH): "Get an access token (client credentials or token exchange)",
    ("get", "/oauth/jwks"): "Public keys that sign the access tokens",
    ("get", "/.well-known/smart-configuration"): "SMART discovery: token endpoint and scopes",
    ("get", "/fhir/.well-known/smart-configuration"):
        "SMART discovery at the FHIR base: token endpoint and scopes",
    ("get", "/processing-activities"): "The register of processing activities (AVG art. 30)",
    ("get", "/fhir/metadata"): "What the FHIR API supports (CapabilityStatement)",
    ("post", "/fhir/ServiceRequest"): "Send a referral",
    ("get", "/fhir/ServiceRequest"): "Search referrals you sent or received",
    ("get", "/fhir/ServiceRequest/{resource_id}"): "Read a referral",
    ("get", "/fhir/Task"): "Follow referral statuses",
    ("get", "/fhir/Task/{task_id}"): "Read a referral's status",
    ("put", "/fhir/Task/{task_id}"): "Move a referral's status (whole Task)",
    ("patch", "/fhir/Task/{task_id}"): "Move a referral's status (patch)",
    ("post", "/fhir/Subscription"): "Register a webhook",
    ("get", "/fhir/Subscription"): "List your webhooks",
    ("get", "/fhir/Subscription/{subscription_id}"): "Read a webhook",
    ("delete", "/fhir/Subscription/{subscription_id}"): "Remove a webhook",
    ("get", "/fhir/Organization"): "List the teams that receive referrals",
    ("get", "/fhir/Organization/{organization_id}"): "Read a team",
    ("post", "/fhir/Consent"): "Record a consent or an objection",
    ("get", "/fhir/Consent"): "Search consents your team recorded",
    ("get", "/fhir/Consent/{consent_id}"): "Read a consent",
    ("put", "/fhir/Consent/{consent_id}"): "Revoke a consent",
    ("post", "/fhir/Patient"): "Register a resident's birth date",
    ("post", "/fhir/RelatedPerson"): "Register a parent or guardian",
    ("get", "/fhir/RelatedPerson/{related_id}"): "Read a parent or guardian",
    ("get", "/fhir/AuditEvent"): "One resident's processing log as AuditEvents",
    ("post", "/consent/decisions"): "Ask who may receive what about a resident",
    ("get", "/audit/entries"): "Search the processing log",
    ("get", "/audit/entries.csv"): "Export the processing log as CSV",
    ("get", "/audit/access-report"): "A resident's access report (inzage)",
    ("post", "/involvements"): "Register an organisation's involvement with a resident",
    ("get", "/involvements"): "List a resident's involvements",
    ("post", "/involvements/{involvement_id}/end"): "End an involvement",
    ("get", "/identity/reviews"): "List conflicting identity facts",
    ("post", "/identity/reviews/{review_id}/resolve"): "Resolve an identity conflict",
}
_INTERACTIONS = {  # (method, shape of the path after the type) -> summary template
    ("get", ""): "Search {t} resources", ("post", ""): "Create a {t}",
    ("get", "{}"): "Read a {t}", ("put", "{}"): "Update a {t}", ("patch", "{}"): "Patch a {t}",
    ("delete", "{}"): "Delete a {t}", ("get", "_history"): "History of all {t} resources",
    ("get", "{}/_history"): "History of a {t}", ("get", "{}/_history/{}"): "Read a {t} version",
}
# Every operation takes these (gateway/request_context.py); an ill-formed value is replaced.
TRACING: dict[str, dict[str, Any]] = {
    "XRequestId": {"name": "X-Request-Id", "in": "header", "required": False,
                   "description": "Your id for this request, echoed on the response and "
                                  "logged; a new one is made when absent or ill-formed.",
                   "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"}},
    "XCorrelationId": {"name": "X-Correlation-Id", "in": "header", "required": False,
                       "description": "Ties requests of one exchange together in the logs.",
                       "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"}},
    "Traceparent": {"name": "traceparent", "in": "header", "required": False,
                    "description": "W3C Trace Context.", "schema": {
                        "type": "string",
                        "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"}},
}
# One example per JSON (non-FHIR) write; test BSNs only.
JSON_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/consent/decisions"): {
        "activity": "casusoverleg", "patient": "999990019",
        "recipients": [{"organization": "school-de-regenboog", "role": "casusoverleg-deelnemer"},
                       {"organization": "huisarts-1", "role": "huisarts"}]},
    ("post", "/involvements"): {"organization": "wijkteam-noord", "patient": "999990019",
                                "start": "2026-12-01T09:00:00+01:00"},
    ("post", "/involvements/{involvement_id}/end"): {"end": "2027-03-31T17:00:00+02:00"},
    ("post", "/identity/reviews/{review_id}/resolve"): {
        "resolution": "claimed-is-right",
        "comment": "Geboortedatum nagevraagd bij de huisarts: de nieuwe waarde klopt."},
}
SUCCESS = {"If-None-Exist matched": "If-None-Exist matched a resource you sent before: that "
                                    "resource, and nothing created."}
ERRORS: dict[str, str] = {
    "400": "The request is malformed: a parameter, header or body the gateway cannot read; "
           "`expression` names it.",
    "401": "No valid access token.",
    "403": "The token lacks the scope, or names no acting person where one is needed.",
    "404": "No such resource, or not one you may see.",
    "406": "The Accept header asks for a format or FHIR version the gateway does not serve.",
    "409": "A concurrent request created the same resource; retry.",
    "410": "The resource was deleted.",
    "412": "If-Match names another version than the current one.",
    "413": "The body is larger than the gateway accepts.",
    "415": "The Content-Type is not one this operation takes.",
    "422": "The resource breaks a FHIR or gateway rule; `expression` names the element.",
    "428": "This deployment needs If-Match on updates.",
    "429": "Too many requests; wait the seconds in Retry-After.",
    "503": "The database is busy or the processing log needs an administrator; retry later.",
}
OPERATION_OUTCOME = {
    "type": "object",
    "description": "FHIR R4B OperationOutcome: every error but the token endpoint's.",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["severity", "code"],
            "properties": {
                "severity": {"type": "string", "enum": ["fatal", "error", "warning",
                                                        "information"]},
                "code": {"type": "string", "description": "IssueType, e.g. `invalid`, "
                                                          "`required`, `code-invalid`."},
                "diagnostics": {"type": "string"},
                "expression": {"type": "array", "items": {"type": "string"},
                               "description": "The element or parameter at fault."}}}}},
    "example": {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "required", "diagnostics": "subject is required",
        "expression": ["ServiceRequest.subject"]}]},
}
OAUTH_ERROR = {
    "type": "object", "required": ["error"], "description": "RFC 6749 section 5.2.",
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
AUDIT_FILTERS = {
    "subject": "The resident's BSN.", "household": "The BSN of one member of the household.",
    "activity": "A processing activity code (GET /processing-activities).",
    "recipient": "An organisation or client id.", "kind": "The kind of processing, e.g. `read`.",
    "outcome": "`ok`, `denied` or `error`.", "from": "First day (YYYY-MM-DD).",
    "to": "Last day (YYYY-MM-DD).", "_count": "Page size, 1 to 200.",
    "_offset": "Skip this many entries.",
}
_TEXT = {"schema": {"type": "string"}}
MEDIA: dict[tuple[str, str], dict[str, Any]] = {  # what FastAPI cannot tell from the route
    ("get", "/metrics"): {"text/plain; version=0.0.4": _TEXT},
    ("get", "/audit/entries.csv"): {"text/csv": _TEXT},
    ("get", "/audit/access-report"): {"application/json": {"schema": {"type": "object"}},
                                      "text/html": _TEXT},
}
READYZ_DOWN = {"description": "The database cannot be reached.", "content": {
    "application/json": {"schema": {"type": "object"}, "example": {
        "status": "unavailable", "database": "unreachable"}}}}
AUDIT_SEARCHES = frozenset({"/audit/entries", "/audit/entries.csv"})
TOKEN_RESPONSE = {
    "type": "object", "required": ["access_token", "token_type", "expires_in"],
    "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string"},
                   "expires_in": {"type": "integer"}, "scope": {"type": "string"},
                   "issued_token_type": {"type": "string"}},
}


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
            resource_type = _resource_type(path)
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


def _resource_type(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "fhir" or not parts[2][:1].isupper():
        return None
    try:
        get_fhir_model_class(parts[2])
    except KeyError:
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
    template = _INTERACTIONS.get((method, _shape(path))) if resource_type else None
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
