"""A GP referral, and every write to the FHIR API, passes the same named stages as every
adapter message; its path is in the log, a failure names its stage (log, header, metric), and
its retries stop early."""

from __future__ import annotations

import io
import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import involve
from tests.support.samples import VALID_BSNS, patient, service_request


def _lines(log_stream: io.StringIO, event: str) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, log_stream.getvalue().splitlines())
            if e["event"] == event]


def test_a_referral_passes_the_stages(client: TestClient, gp: dict[str, str],
                                      log_stream: io.StringIO) -> None:
    headers = {**gp, "Idempotency-Key": "k-1"}
    assert client.post("/fhir/ServiceRequest", json=service_request(identifier="r-1"),
                       headers=headers).status_code == 201
    assert client.post("/fhir/ServiceRequest", json=service_request(identifier="r-1"),
                       headers=headers).status_code == 201  # the first answer, replayed
    assert client.post("/fhir/ServiceRequest", json=service_request(identifier="r-1"),
                       headers={**gp, "If-None-Exist": "identifier=urn:oid:2.16.528.1.1007.3.3"
                                ".1234.1|r-1"}).status_code == 200
    assert [(e["adapter"], e["transport"], e["stages"], e["outcome"])
            for e in _lines(log_stream, "inbound_done")] == [
        ("gp-referral", "fhir-rest", "receive,decode,parse,identify,persist,decide,enqueue",
         "created"),
        ("gp-referral", "fhir-rest", "receive", "replayed"),
        ("gp-referral", "fhir-rest", "receive,decode,parse", "matched")]
    metrics = client.get("/metrics").text
    assert 'wijkgateway_inbound_messages_total{outcome="created",stage="enqueue",' \
           'system="gp-referral",transport="fhir-rest"} 1.0' in metrics


def test_a_failure_names_its_stage(client: TestClient, gp: dict[str, str],
                                   log_stream: io.StringIO) -> None:
    unknown_team = service_request()
    unknown_team["performer"] = [{"reference": "Organization/nergens"}]
    answer = client.post("/fhir/ServiceRequest", json=unknown_team, headers=gp)
    assert answer.status_code == 422
    assert answer.headers["X-Wijkgateway-Stage"] == "identify"
    assert client.post("/fhir/ServiceRequest", content=b"{", headers=gp).headers[
        "X-Wijkgateway-Stage"] == "decode"
    invalid = service_request()
    invalid["status"] = "draft"
    rejected = client.post("/fhir/ServiceRequest", json=invalid, headers=gp)
    assert (rejected.status_code, rejected.headers["X-Wijkgateway-Stage"]) == (422, "parse")
    assert [(e["stage"], e["error_type"]) for e in _lines(log_stream, "inbound_stopped")] == [
        ("identify", "Unprocessable"), ("decode", "BadRequest"), ("parse", "InvalidMessage")]
    metrics = client.get("/metrics").text
    assert 'wijkgateway_inbound_messages_total{outcome="rejected",stage="parse",' \
           'system="gp-referral",transport="fhir-rest"} 1.0' in metrics


def test_the_fhir_apis_writes_pass_the_stages(client: TestClient, team: dict[str, str],
                                              log_stream: io.StringIO) -> None:
    not_a_household = {"resourceType": "Group", "type": "animal", "actual": True}
    refused = client.post("/fhir/Group", json=not_a_household, headers=team)
    assert (refused.status_code, refused.headers["X-Wijkgateway-Stage"]) == (422, "parse")
    stranger = client.post("/fhir/Patient", json=patient(VALID_BSNS[2], "2015-01-01"),
                           headers=team)
    assert (stranger.status_code, stranger.headers["X-Wijkgateway-Stage"]) == (403, "persist")
    involve(client, VALID_BSNS[1])
    assert client.post("/fhir/Patient", json=patient(VALID_BSNS[1], "1980-01-01"),
                       headers=team).status_code == 200
    assert [(e["stage"], e["error_type"]) for e in _lines(log_stream, "inbound_stopped")] == [
        ("parse", "InvalidMessage"), ("persist", "NotInvolved")]
    assert [(e["adapter"], e["transport"], e["stages"], e["outcome"])
            for e in _lines(log_stream, "inbound_done")][-1] == (
        "gp-referral", "fhir-rest", "decode,parse,persist", "applied")
