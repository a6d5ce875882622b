"""Health, readiness, metrics, request ids, the CapabilityStatement, and personal data in logs."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient

from gateway.platform.db.engine import make_engine
from tests.conftest import involve
from tests.support.samples import NOTE_TEXT, PATIENT_NAME, VALID_BSNS, patient, service_request


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_readiness_fails_when_the_database_is_gone(client: TestClient) -> None:
    runtime = client.app.state.runtime
    runtime.engine = make_engine("postgresql+psycopg://wg@127.0.0.1:1/gone")  # nothing listens
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


def test_ids_are_echoed_and_generated(client: TestClient) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = client.get("/healthz", headers={"X-Request-Id": "req-1",
                                               "X-Correlation-Id": "corr-1",
                                               "traceparent": traceparent})
    assert (response.headers["x-request-id"], response.headers["x-correlation-id"],
            response.headers["traceparent"]) == ("req-1", "corr-1", traceparent)
    generated = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32
    assert generated.headers["traceparent"].startswith("00-")


def test_metrics_count_requests_referrals_and_outbox(client: TestClient, gp: dict) -> None:
    client.post("/fhir/ServiceRequest", json=service_request(), headers=gp)
    text = client.get("/metrics").text
    assert 'wijkgateway_http_requests_total{method="POST",route="/fhir/ServiceRequest",' \
           'status="201"} 1.0' in text
    assert "wijkgateway_referrals_received_total 1.0" in text
    assert 'wijkgateway_outbox_messages{status="pending"} 0.0' in text
    assert 'wijkgateway_delivery_attempts_total{outcome="failure"} 0.0' in text


def test_no_personal_data_in_logs_after_a_full_referral_flow(client: TestClient, gp: dict,
                                                             team: dict,
                                                             log_stream: io.StringIO) -> None:
    bsn = VALID_BSNS[2]
    sr = client.post("/fhir/ServiceRequest", json=service_request(bsn=bsn), headers=gp).json()
    client.post("/fhir/ServiceRequest", json=service_request(no_bsn=True), headers=gp)
    client.post("/fhir/ServiceRequest", json=service_request(bsn="123456789"), headers=gp)
    client.get(f"/fhir/ServiceRequest?identifier=http://fhir.nl/fhir/NamingSystem/bsn|{bsn}",
               headers=gp)
    task = client.get(f"/fhir/Task?focus=ServiceRequest/{sr['id']}", headers=gp).json()
    task_id = task["entry"][0]["resource"]["id"]
    client.patch(f"/fhir/Task/{task_id}", headers={
        **team, "Content-Type": "application/json-patch+json", "If-Match": 'W/"1"'},
        json=[{"op": "replace", "path": "/status", "value": "rejected"},
              {"op": "add", "path": "/statusReason", "value": {"text": NOTE_TEXT}}])
    child = client.post("/fhir/ServiceRequest", headers=gp, json=service_request(
        bsn=VALID_BSNS[3], consent="parent", birth_date="2019-05-17")).json()
    person = child["contained"][0]
    assert person["birthDate"] == "2019-05-17"
    justification = "Vader dreigt, kinderen bang; stap 5 meldcode."
    client.post("/consent/decisions", headers=team, json={
        "activity": "report-to-veilig-thuis", "patient": VALID_BSNS[3],
        "recipients": [{"organization": "vt", "role": "veilig-thuis"}],
        "override": {"justification": justification, "meldcode_step": 5}})
    involve(client, VALID_BSNS[1])
    client.post("/fhir/Patient", headers=team, json=patient(VALID_BSNS[1], "1990-09-09"))
    logs = log_stream.getvalue()
    lines = [json.loads(line) for line in logs.splitlines()]
    assert {"referral_received", "task_status_changed", "request_refused", "request_finished",
            "consent_recorded", "related_person_registered", "consent_decided",
            "involvement_registered", "person_birth_date_recorded"} <= {
                line["event"] for line in lines}
    for needle in (bsn, "123456789", PATIENT_NAME, "Fatima", "2011-04-03", "Dorpsstraat",
                   "Groningen", NOTE_TEXT, "opvoeding", "dr. A. Bakker", VALID_BSNS[3],
                   "2019-05-17", justification, "Vader", VALID_BSNS[1], "1990-09-09"):
        assert needle not in logs
    assert all(line.get("request_id") for line in lines if line["event"] == "request_finished")

