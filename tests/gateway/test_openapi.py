"""The OpenAPI document and ``/docs``: what an integrator reads must match what the routes do.

Document-only tests build the app once without a database; the tests that call routes use the
``client`` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

from gateway.api.fhir.metadata import SUPPORTED
from gateway.api.openapi import OAUTH2, fhir_resource_type
from gateway.api.openapi_fhir import COMMON_SEARCH, EXAMPLES, JSON_PATCH, MERGE_PATCH
from gateway.app import create_app
from gateway.auth.scopes import SCOPES, SYSTEM_SCOPES
from gateway.platform.settings import Settings
from tests.conftest import BASE_URL, TEST_ADAPTERS, TEST_KEYS, involve
from tests.support.markers import SQLITE_ONLY

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
TRACING = ["X-Request-Id", "X-Correlation-Id", "traceparent"]  # every operation takes them
METHODS = ("get", "post", "put", "patch", "delete")
APP = create_app(Settings(environment="test", database_url="sqlite://",
                          public_base_url=BASE_URL, adapters=TEST_ADAPTERS,
                          **TEST_KEYS), configure_logs=False)  # as the suite's client
DOC: dict[str, Any] = APP.openapi()
OPERATIONS = [(method, path, operation) for path, item in DOC["paths"].items()
              for method, operation in item.items() if method in METHODS]
IDS = [f"{m.upper()} {p}" for m, p, _ in OPERATIONS]


def _resource_path(path: str) -> str | None:
    """The resource type of a ``/fhir/{Type}...`` path, else None."""
    parts = path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "fhir" and parts[2] in SUPPORTED else None


def _ref(node: dict[str, Any]) -> dict[str, Any]:
    name = node["$ref"].removeprefix("#/components/schemas/")
    return DOC["components"]["schemas"][name]


# ---- /docs ----------------------------------------------------------------------------------

@SQLITE_ONLY
def test_docs_page_loads_its_assets_from_the_gateway_only(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert re.findall(r"https?://", page.text) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets == ["/docs/static/swagger-ui.css", "/docs/static/favicon-32x32.png",
                      "/docs/static/swagger-ui-bundle.js"]
    types = {asset: client.get(asset).headers["content-type"] for asset in assets}
    assert types == {"/docs/static/swagger-ui.css": "text/css; charset=utf-8",
                     "/docs/static/favicon-32x32.png": "image/png",
                     "/docs/static/swagger-ui-bundle.js": "text/javascript; charset=utf-8"}
    assert "url: '/openapi.json'" in page.text
    [script] = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert page.headers["content-security-policy"] == (
        f"default-src 'none'; script-src 'self' 'sha256-{digest}'; style-src 'self' "
        "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'")
    assert '"validatorUrl": null' in page.text


@SQLITE_ONLY
def test_docs_assets_answer_200_and_others_404(client: TestClient) -> None:
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/oauth2-redirect").status_code == 200
    missing = client.get("/docs/static/index.html")  # in the package, but not served
    assert (missing.status_code, missing.json()["resourceType"]) == (404, "OperationOutcome")
    assert client.get("/redoc").status_code == 404


@SQLITE_ONLY
def test_the_served_document_is_the_post_processed_one(client: TestClient) -> None:
    assert client.get("/openapi.json").json() == DOC


# ---- the document's shape -------------------------------------------------------------------

def test_document_is_openapi_3_0_that_swagger_ui_4_renders() -> None:
    text = json.dumps(DOC)
    assert DOC["openapi"] == "3.0.3"
    assert '{"type": "null"}' not in text
    assert '"const"' not in text
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        kind, name = ref.removeprefix("#/components/").split("/")
        assert name in DOC["components"][kind], ref
    operation_ids = [op["operationId"] for _, _, op in OPERATIONS]
    assert len(operation_ids) == len(set(operation_ids))
    for method, path, operation in OPERATIONS:
        declared = [DOC["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
                    if "$ref" in p else p for p in operation["parameters"]]
        assert all({"name", "in", "schema"} <= set(p) for p in declared), (method, path)
        assert len({(p["name"].lower(), p["in"]) for p in declared}) == len(declared)
        assert sorted(p["name"] for p in declared if p["in"] == "path") == sorted(
            re.findall(r"\{([^}]+)\}", path)), (method, path)
        assert all(p["required"] for p in declared if p["in"] == "path")
        assert all(r.get("description") for r in operation["responses"].values())
        assert any(status.startswith("2") for status in operation["responses"])


def test_every_error_is_an_operation_outcome() -> None:
    assert "HTTPValidationError" not in json.dumps(DOC)
    for method, path, operation in OPERATIONS:
        for status, response in operation["responses"].items():
            if status < "400" or path == "/oauth/token" or (path, status) == ("/readyz", "503"):
                continue
            content = response["content"]
            assert content[FHIR_JSON] == {"schema": {
                "$ref": "#/components/schemas/OperationOutcome"}}, (method, path, status)
            assert sorted(content) == sorted([FHIR_JSON, *([FHIR_XML] if path.startswith(
                "/fhir/") else [])]), (method, path, status)
    token_errors = DOC["paths"]["/oauth/token"]["post"]["responses"]
    assert {s: r["content"]["application/json"]["schema"]["$ref"]
            for s, r in token_errors.items() if s >= "400"} == {
        s: "#/components/schemas/OAuthError" for s in ("400", "401", "429")}


# ---- security -------------------------------------------------------------------------------

def test_security_scheme_is_client_credentials_with_every_scope() -> None:
    scheme = DOC["components"]["securitySchemes"][OAUTH2]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"] == {"clientCredentials": {"tokenUrl": "/oauth/token",
                                                     "scopes": SCOPES}}
    assert "grant-type:token-exchange" in scheme["description"]
    assert "docs/acting-person.md" in scheme["description"]


def test_scopes_come_from_the_routes_dependencies() -> None:
    declared = {(m, p): op["security"] for m, p, op in OPERATIONS if "security" in op}
    assert declared[("put", "/fhir/Task/{task_id}")] == [{OAUTH2: ["system/Task.write"]}]
    assert declared[("post", "/fhir/ServiceRequest")] == [
        {OAUTH2: ["system/ServiceRequest.write"]}]
    # the officers' dependency wraps the scope check and logs a refusal
    assert declared[("get", "/audit/entries")] == [{OAUTH2: ["system/AuditEvent.read"]}]
    assert declared[("get", "/involvements")] == [{OAUTH2: ["admin/Involvement.write"]}]
    assert declared[("post", "/oauth/token")] == [{"clientSecretBasic": []}, {}]
    assert ("get", "/fhir/metadata") not in declared
    assert ("get", "/healthz") not in declared


def test_operations_over_residents_data_say_they_need_the_acting_person() -> None:
    for method, path, operation in OPERATIONS:
        scopes = {s for req in operation.get("security", []) for s in req.get(OAUTH2, [])}
        says = "acting person" in operation.get("description", "")
        assert says == bool(scopes - SYSTEM_SCOPES), (method, path)


@SQLITE_ONLY
def test_every_operation_that_wants_a_token_declares_its_scheme(client: TestClient) -> None:
    """Without a token: 401 exactly where the document declares the OAuth2 scheme."""
    wants_token, declared = [], []
    for method, path, operation in OPERATIONS:
        if path == "/oauth/token":
            continue
        url = re.sub(r"\{[^}]+\}", "x1", path)
        if client.request(method.upper(), url).status_code == 401:
            wants_token.append((method, path))
        if any(OAUTH2 in requirement for requirement in operation.get("security", [])):
            declared.append((method, path))
    assert wants_token == declared
    assert len(declared) >= 30


# ---- FHIR bodies, parameters, headers, responses ---------------------------------------------

def _fhir_writes() -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for m, p, op in OPERATIONS  # not an operation ($agree): no resource
            if _resource_path(p) and m in ("post", "put") and "$" not in p]


@pytest.mark.parametrize(("method", "path", "operation"), _fhir_writes(),
                         ids=[f"{m.upper()} {p}" for m, p, _ in _fhir_writes()])
def test_fhir_writes_take_a_typed_body_with_a_valid_dutch_example(
        method: str, path: str, operation: dict[str, Any]) -> None:
    resource_type = _resource_path(path)
    content = operation["requestBody"]["content"]
    assert sorted(content) == ["application/fhir+json", "application/json"]
    media = content[FHIR_JSON]
    schema = _ref(media["schema"])
    assert schema["properties"]["resourceType"]["enum"] == [resource_type]
    assert schema["required"][0] == "resourceType"
    example = media["example"]
    assert example["resourceType"] == resource_type
    assert ("id" in example) == (method == "put")  # an update names the resource it changes
    get_fhir_model_class(resource_type).model_validate(example)  # valid R4B


def test_every_json_write_has_an_example_its_model_accepts() -> None:
    """The non-FHIR writes take pydantic models: each example passes the route's own model."""
    checked = []
    for method, path, operation in OPERATIONS:
        content = operation.get("requestBody", {}).get("content", {})
        if _resource_path(path) or "application/json" not in content or path == "/oauth/token":
            continue
        route = next(r for r in iter_route_contexts(APP.routes)
                     if r.path == path and method.upper() in (r.methods or ()))
        if not route.dependant.body_params:  # a raw body: an adapter's message, its own parser
            assert path.startswith("/adapters/"), path
            continue
        model = route.dependant.body_params[0].field_info.annotation
        model.model_validate(content["application/json"]["example"])
        checked.append(path)
    assert sorted(checked) == ["/consent/decisions", "/identity/household-merges",
                               "/identity/household-merges/{merge_id}/undo", "/identity/merges",
                               "/identity/merges/{merge_id}/undo",
                               "/identity/reviews/{review_id}/resolve",
                               "/involvements", "/involvements/{involvement_id}/end"]


def test_required_elements_and_codes_come_from_the_r4b_models() -> None:
    schema = DOC["components"]["schemas"]["ServiceRequest"]
    assert schema["required"] == ["resourceType", "intent", "status", "subject"]
    assert schema["properties"]["intent"]["enum"][:4] == ["proposal", "plan", "directive",
                                                          "order"]
    assert DOC["components"]["schemas"]["Subscription"]["required"] == [
        "resourceType", "channel", "criteria", "reason", "status"]


def test_patches_take_json_patch_and_merge_patch() -> None:
    patches = [(p, op) for m, p, op in OPERATIONS if m == "patch" and _resource_path(p)]
    assert "/fhir/Task/{task_id}" in [p for p, _ in patches]
    for _, operation in patches:
        content = operation["requestBody"]["content"]
        assert sorted(content) == [JSON_PATCH, MERGE_PATCH]
        assert content[JSON_PATCH]["examples"]["accept"]["value"] == [
            {"op": "replace", "path": "/status", "value": "accepted"}]


def _parameters(operation: dict[str, Any], where: str) -> list[str]:
    declared = [DOC["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p
                else p for p in operation.get("parameters", [])]
    return [p["name"] for p in declared if p["in"] == where]


def test_searches_declare_the_capability_statement_parameters_and_the_common_ones() -> None:
    common = [name for name, _ in COMMON_SEARCH]
    searched = []
    for resource_type, supported in SUPPORTED.items():
        if "search-type" not in supported.interactions:
            continue
        operation = DOC["paths"][f"/fhir/{resource_type}"]["get"]
        own = [name for name, _, _ in supported.search_params()] + sorted(
            n for n in supported.search.params if ":" in n)  # modifiers: own query keys
        accepted = supported.search.names() | {"_format"}
        assert _parameters(operation, "query") == own + [
            n for n in common if n not in own and n in accepted]
        assert set(_parameters(operation, "query")) == accepted  # every one the search takes
        assert _parameters(operation, "header") == ["Accept", "Prefer", *TRACING]
        assert _ref(operation["responses"]["200"]["content"][FHIR_JSON]["schema"]) \
            == DOC["components"]["schemas"]["Bundle"]
        searched.append(resource_type)
    assert searched == [p.removeprefix("/fhir/") for m, p, _ in OPERATIONS
                        if m == "get" and _resource_path(p) and p.count("/") == 2]


def test_headers_are_declared_where_they_apply() -> None:
    headers = {(m, p): _parameters(op, "header")[:-3] for m, p, op in OPERATIONS
               if _resource_path(p)}
    assert headers[("post", "/fhir/ServiceRequest")] == [
        "Accept", "Prefer", "If-None-Exist", "Idempotency-Key"]
    assert headers[("post", "/fhir/Subscription")] == ["Accept", "Prefer"]
    assert headers[("put", "/fhir/Task/{task_id}")] == ["Accept", "Prefer", "If-Match"]
    assert headers[("patch", "/fhir/Task/{task_id}")] == ["Accept", "Prefer", "If-Match"]
    assert headers[("put", "/fhir/Consent/{consent_id}")] == ["Accept", "Prefer", "If-Match"]
    assert all("Accept" in names for names in headers.values())
    assert [(m, p) for m, p, op in OPERATIONS if _parameters(op, "header")[-3:] != TRACING] == []


def test_fhir_answers_are_typed_resources_not_strings() -> None:
    for method, path, operation in OPERATIONS:
        resource_type = _resource_path(path)
        if not resource_type:
            continue
        for status, response in operation["responses"].items():
            if status.startswith("2") and status != "204":
                assert list(response["content"]) == [FHIR_JSON, FHIR_XML], (method, path)
                schema = _ref(response["content"][FHIR_JSON]["schema"])
                assert schema["properties"]["resourceType"]["enum"] in (
                    [resource_type], ["Bundle"]), (method, path)
    answers = DOC["paths"]["/fhir/ServiceRequest"]["post"]["responses"]
    for status in ("201", "200"):  # created, or If-None-Exist matched
        assert sorted(answers[status]["headers"]) == ["ETag", "Location"]
        assert answers[status]["content"][FHIR_JSON]["schema"] == {
            "$ref": "#/components/schemas/ServiceRequest"}
    assert "If-None-Exist" in answers["200"]["description"]


def test_only_r4b_resource_paths_count_as_fhir_resources() -> None:
    assert [fhir_resource_type(p) for p in ("/fhir/Task/{id}", "/fhir/Foo", "/fhir/metadata",
                                        "/fhir/.well-known/x", "/audit/entries")] == [
        "Task", None, None, None, None]


# ---- summaries ------------------------------------------------------------------------------

def test_the_description_names_both_ways_to_a_token() -> None:
    # client credentials alone answer 403 on a resident's data: the front page says so too
    assert DOC["info"]["description"] == (
        "GP referrals over FHIR R4B with status feedback. Authenticate at /oauth/token: OAuth2 "
        "client credentials, and a token exchange (RFC 8693) naming the worker for a "
        "resident's data.")


def test_every_operation_has_a_summary_a_person_wrote() -> None:
    defaults = {route.name.replace("_", " ").title() for route in iter_route_contexts(APP.routes)
                if route.name}
    summaries = [op.get("summary", "") for _, _, op in OPERATIONS]
    assert [s for s in summaries if not s or s in defaults] == []
    assert DOC["paths"]["/fhir/ServiceRequest"]["post"]["summary"] == "Send a referral"
    assert DOC["paths"]["/healthz"]["get"]["summary"] == "Check that the gateway is alive"


# ---- the examples work ----------------------------------------------------------------------

def _example(method: str, path: str) -> Any:
    return DOC["paths"][path][method]["requestBody"]["content"][FHIR_JSON]["example"]


def test_examples_use_test_bsns_only() -> None:
    bsns = re.findall(r'"value": "(\d{9})"', json.dumps(EXAMPLES))
    assert sorted(bsns) == ["999990019", "999998456"]  # RvIG test numbers (999 99x xxx)


def test_the_referral_example_is_accepted_and_its_task_takes_the_patch_example(
        client: TestClient, gp: dict[str, str], team: dict[str, str]) -> None:
    created = client.post("/fhir/ServiceRequest", json=_example("post", "/fhir/ServiceRequest"),
                          headers=gp)
    assert created.status_code == 201, created.text
    tasks = client.get(f"/fhir/Task?focus=ServiceRequest/{created.json()['id']}",
                       headers=team).json()
    task = tasks["entry"][0]["resource"]
    patch = DOC["paths"]["/fhir/Task/{task_id}"]["patch"]["requestBody"]["content"]
    answer = client.patch(f"/fhir/Task/{task['id']}", headers={
        **team, "Content-Type": JSON_PATCH}, content=json.dumps(
            patch[JSON_PATCH]["examples"]["accept"]["value"]))
    assert (answer.status_code, answer.json()["status"]) == (200, "accepted")


def test_the_consent_and_patient_examples_are_accepted(client: TestClient,
                                                        team: dict[str, str]) -> None:
    patient_ref = involve(client, "999998456")  # the Patient example's BSN
    patient = client.post("/fhir/Patient", json=_example("post", "/fhir/Patient"), headers=team)
    assert patient.status_code == 200, patient.text
    consent = {**_example("post", "/fhir/Consent"), "patient": {"reference": patient_ref},
               "performer": [{"reference": patient_ref}]}
    created = client.post("/fhir/Consent", json=consent, headers=team)
    assert created.status_code == 201, created.text
    related = {**_example("post", "/fhir/RelatedPerson"),
               "patient": {"reference": patient_ref}}
    answer = client.post("/fhir/RelatedPerson", json=related, headers=team)
    assert answer.status_code == 201, answer.text


def test_the_plans_agreement_takes_parameters_and_its_approval_no_body() -> None:
    agree = next(op for m, p, op in OPERATIONS if m == "post" and p.endswith("/$agree"))
    example = agree["requestBody"]["content"][FHIR_JSON]["example"]
    assert example["resourceType"] == "Parameters" and example["parameter"][0]["name"] == "who"
    approve = next(op for m, p, op in OPERATIONS if m == "post" and p.endswith("/$approve"))
    assert "requestBody" not in approve
