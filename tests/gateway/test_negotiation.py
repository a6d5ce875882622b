"""Content negotiation: FHIR XML or JSON by ``Accept`` or ``_format``, errors in the negotiated
format, ``fhirVersion`` 4.0 and 4.3 on ``Accept`` and ``Content-Type``, 406/415 otherwise."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from gateway.api.fhir.negotiation import FhirFormatMiddleware, Format, negotiate, to_xml
from gateway.platform.errors import NotAcceptable
from gateway.platform.fhir_json import FhirResponse
from tests.conftest import row_counts
from tests.support.samples import service_request

XML = "application/fhir+xml; charset=utf-8"
JSON = "application/fhir+json; charset=utf-8"
VERSIONS = "supported fhirVersion values: 4.0 (R4) and 4.3 (R4B)"
TYPES = "application/fhir+json, application/fhir+xml (or _format=json, _format=xml)"
FORMAT_ERROR = "_format must be json, xml, application/fhir+json or application/fhir+xml"


@pytest.mark.parametrize("accept,expected", [
    ("", Format.JSON),
    ("*/*", Format.JSON),
    ("application/json", Format.JSON),
    ("application/fhir+json", Format.JSON),
    ("application/fhir+xml", Format.XML),
    ("application/xml", Format.XML),
    ("text/xml", Format.XML),
    ("application/fhir+json; fhirVersion=4.0", Format.JSON),
    ("application/fhir+xml;fhirVersion=4.3", Format.XML),
    ('application/fhir+xml; fhirVersion="4.0.1"', Format.XML),
    ("text/html, application/fhir+xml;q=0.9, */*;q=0.8", Format.XML),  # a browser's kind
    ("application/fhir+json;q=0.5, application/fhir+xml", Format.XML),
    ("*/*, application/fhir+xml", Format.XML),  # the exact type before the wildcard
    ("application/fhir+json;fhirVersion=5.0, application/fhir+xml;fhirVersion=4.0;q=0.1",
     Format.XML),
    ("application/fhir+xml;q=0, */*", Format.JSON),
    ("application/fhir+xml;q=bogus, application/json;q=0.1", Format.JSON),
])
def test_accept_decides_the_format(accept: str, expected: Format) -> None:
    assert negotiate(accept) is expected


@pytest.mark.parametrize("accept,format_param,expected", [
    ("application/fhir+xml", "json", Format.JSON),
    ("text/csv", "xml", Format.XML),
    ("", "application/fhir+xml", Format.XML),
    ("", "application/fhir+json;fhirVersion=4.0", Format.JSON),
    ("", "text/xml", Format.XML),
])
def test_format_parameter_overrides_accept(accept: str, format_param: str,
                                           expected: Format) -> None:
    assert negotiate(accept, format_param) is expected


@pytest.mark.parametrize("accept,format_param,message,expression", [
    ("text/csv", None, f"this server answers FHIR in {TYPES}", "Accept"),
    ("application/fhir+xml;q=0", None, f"this server answers FHIR in {TYPES}", "Accept"),
    ("application/fhir+json; fhirVersion=5.0", None, VERSIONS, "Accept"),
    ("application/fhir+json; fhirVersion=3.0, text/csv", None, VERSIONS, "Accept"),
    ("", "ttl", FORMAT_ERROR, "_format"),
    ("", "*/*", FORMAT_ERROR, "_format"),
    ("", "json;fhirVersion=5.0", VERSIONS, "_format"),
])
def test_what_cannot_be_served_is_not_acceptable(accept: str, format_param: str | None,
                                                 message: str, expression: str) -> None:
    with pytest.raises(NotAcceptable) as refused:
        negotiate(accept, format_param)
    assert (refused.value.message, refused.value.issues[0].expression) == (message, expression)


def test_a_resource_r4b_cannot_express_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="ValidationError"):
        to_xml(b'{"resourceType": "Patient", "birthDate": "soon"}')
    with pytest.raises(ValueError, match="KeyError"):
        to_xml(b'{"id": "no-type"}')


def _outcome(response) -> tuple[int, str, str, list[str]]:  # noqa: ANN001
    issue = response.json()["issue"][0]
    return response.status_code, issue["code"], issue["diagnostics"], issue.get("expression")


class TestXmlAnswers:
    def test_metadata_in_xml_is_the_json_statement(self, client: TestClient) -> None:
        as_json = client.get("/fhir/metadata")
        for request in ({"url": "/fhir/metadata",
                         "headers": {"Accept": "application/fhir+xml"}},
                        {"url": "/fhir/metadata?_format=xml"},
                        {"url": "/fhir/metadata?_format=application%2Ffhir%2Bxml"},
                        {"url": "/fhir/metadata?_format=application/fhir+xml"}):
            as_xml = client.get(**request)
            assert (as_xml.status_code, as_xml.headers["content-type"]) == (200, XML)
            assert as_xml.headers["vary"] == "Accept"
            assert etree.fromstring(as_xml.content).tag == "{http://hl7.org/fhir}" \
                "CapabilityStatement"
            assert CapabilityStatement.model_validate_xml(as_xml.content).model_dump() == \
                CapabilityStatement.model_validate(as_json.json()).model_dump()

    def test_statement_names_both_formats(self, client: TestClient) -> None:
        assert client.get("/fhir/metadata").json()["format"] == \
            ["application/fhir+json", "application/fhir+xml"]

    def test_search_bundle_in_xml_with_format_parameter(self, client: TestClient,
                                                        gp: dict) -> None:
        created = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp)
        assert created.status_code == 201, created.text
        as_json = client.get("/fhir/ServiceRequest?_count=5", headers=gp)
        as_xml = client.get("/fhir/ServiceRequest?_format=xml&_count=5", headers=gp)
        assert (as_xml.status_code, as_xml.headers["content-type"]) == (200, XML)
        bundle = Bundle.model_validate_xml(as_xml.content)
        assert bundle.model_dump() == Bundle.model_validate(as_json.json()).model_dump()
        assert [e.resource.id for e in bundle.entry] == [created.json()["id"]]

    def test_a_format_request_keeps_its_route_in_the_metrics(self, client: TestClient) -> None:
        assert client.get("/fhir/metadata?_format=xml").status_code == 200
        assert 'wijkgateway_http_requests_total{method="GET",route="/fhir/metadata",' \
            'status="200"} 1.0' in client.get("/metrics").text

    def test_errors_follow_the_negotiated_format(self, client: TestClient, gp: dict) -> None:
        response = client.get("/fhir/ServiceRequest/unknown",
                              headers={**gp, "Accept": "application/fhir+xml"})
        assert (response.status_code, response.headers["content-type"]) == (404, XML)
        issue = OperationOutcome.model_validate_xml(response.content).issue[0]
        assert (issue.code, issue.diagnostics, issue.expression) == \
            ("not-found", "no such ServiceRequest", ["ServiceRequest.id"])

    def test_an_unauthenticated_xml_request_gets_its_401_in_xml(self,
                                                               client: TestClient) -> None:
        response = client.get("/fhir/ServiceRequest", headers={"Accept": "text/xml"})
        assert (response.status_code, response.headers["content-type"]) == (401, XML)
        assert OperationOutcome.model_validate_xml(response.content).issue[0].code == "login"


class TestJsonStaysTheDefault:
    @pytest.mark.parametrize("accept", [None, "*/*", "application/json",
                                        "application/fhir+json; fhirVersion=4.0",
                                        "application/fhir+json; fhirVersion=4.3"])
    def test_json(self, client: TestClient, accept: str | None) -> None:
        headers = {"Accept": accept} if accept is not None else {}
        response = client.get("/fhir/metadata", headers=headers)
        assert (response.status_code, response.headers["content-type"]) == (200, JSON)
        assert response.headers["vary"] == "Accept"
        assert response.json()["resourceType"] == "CapabilityStatement"

    def test_format_json_beats_an_xml_accept(self, client: TestClient) -> None:
        response = client.get("/fhir/metadata?_format=json",
                              headers={"Accept": "application/fhir+xml"})
        assert (response.status_code, response.headers["content-type"]) == (200, JSON)

    def test_smart_discovery_is_no_fhir_answer(self, client: TestClient) -> None:
        response = client.get("/fhir/.well-known/smart-configuration",
                              headers={"Accept": "application/fhir+xml"})
        assert (response.status_code, response.headers["content-type"]) == \
            (200, "application/json")


class TestRefused:
    @pytest.mark.parametrize("accept,message", [
        ("text/csv", f"this server answers FHIR in {TYPES}"),
        ("application/fhir+json; fhirVersion=5.0", VERSIONS),
    ])
    def test_accept_we_cannot_serve_is_406(self, client: TestClient, gp: dict, accept: str,
                                           message: str) -> None:
        response = client.get("/fhir/ServiceRequest", headers={**gp, "Accept": accept})
        assert response.headers["content-type"] == JSON
        assert _outcome(response) == (406, "not-supported", message, ["Accept"])

    @pytest.mark.parametrize("query,status,code,message", [
        ("_format=ttl", 406, "not-supported", FORMAT_ERROR),
        ("_format=xml&_format=json", 400, "invalid", "give _format once"),
    ])
    def test_bad_format_parameter(self, client: TestClient, gp: dict, query: str, status: int,
                                  code: str, message: str) -> None:
        response = client.get(f"/fhir/ServiceRequest?{query}", headers=gp)
        assert _outcome(response) == (status, code, message, ["_format"])

    @pytest.mark.parametrize("content_type,message", [
        ("application/fhir+json; fhirVersion=5.0", VERSIONS),
        ("application/fhir+xml", "XML request bodies are not accepted; send "
                                 "application/fhir+json, application/json"),
        ("text/csv", "Content-Type must be one of application/fhir+json, application/json"),
    ])
    def test_request_body_we_cannot_read_is_415(self, client: TestClient, gp: dict,
                                                sessions, content_type: str,  # noqa: ANN001
                                                message: str) -> None:
        before = row_counts(sessions)
        response = client.post("/fhir/ServiceRequest", json=service_request(),
                               headers={**gp, "Content-Type": content_type})
        assert _outcome(response) == (415, "not-supported", message, ["Content-Type"])
        assert row_counts(sessions) == before

    @pytest.mark.parametrize("version", ["4.0", "4.3"])
    def test_r4_and_r4b_bodies_are_read(self, client: TestClient, gp: dict,
                                        version: str) -> None:
        response = client.post("/fhir/ServiceRequest", json=service_request(), headers={
            **gp, "Content-Type": f"application/fhir+json; fhirVersion={version}"})
        assert response.status_code == 201, response.text


def test_an_answer_r4b_cannot_express_is_406_not_broken_xml() -> None:
    """A route that answered something R4B rejects: the client that asked for XML is told to
    ask for JSON, rather than given a 200 with XML that is not FHIR."""
    async def invalid(_request: Request) -> FhirResponse:
        return FhirResponse({"resourceType": "Patient", "birthDate": "soon"})

    app = FhirFormatMiddleware(Starlette(routes=[Route("/fhir/Patient/1", invalid)]))
    response = TestClient(app).get("/fhir/Patient/1", headers={"Accept": "application/fhir+xml"})
    assert _outcome(response) == (406, "not-supported", "this answer cannot be given as FHIR "
                                  "XML; ask for application/fhir+json", ["Accept"])
