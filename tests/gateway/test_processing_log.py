"""The processing log: what is recorded, its verification and checkpoints, and the privacy
officers' API. Attacks on the log, purge, witnesses and the PostgreSQL roles are in
test_log_integrity.py."""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.auditevent import AuditEvent
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.app import create_app
from gateway.audit.keys import log_identity
from gateway.audit.log import CONTEXT
from gateway.audit.merkle import root, verify_inclusion
from gateway.audit.note import open_checkpoint
from gateway.audit.pseudonyms import Pseudonymiser
from gateway.audit.verify import verify_database
from gateway.audit.witness import checkpoint_now
from gateway.platform.db.models import ProcessingLogCheckpoint, ProcessingLogEntry
from gateway.platform.settings import Settings
from tests.conftest import bearer, involve
from tests.support.auditlog import tamper, verify
from tests.support.samples import (
    VALID_BSNS,
    patient,
    related_person,
    service_request,
    subscription,
)

BSN = VALID_BSNS[0]
PATCH = "application/json-patch+json"


@pytest.fixture
def officer(client: TestClient) -> dict[str, str]:
    return bearer(client, "demo-privacy-officer")


@pytest.fixture
def flow(client: TestClient, gp: dict, team: dict, receiver) -> str:  # noqa: ANN001
    """A referral with consent to a subscribed team, read back and moved on: the log fills."""
    client.post("/fhir/Subscription", headers=team, json=subscription(receiver.url,
                                                                       "ServiceRequest"))
    sr = client.post("/fhir/ServiceRequest", headers=gp,
                     json=service_request(bsn=BSN, consent="self")).json()
    client.get(f"/fhir/ServiceRequest/{sr['id']}", headers=team)
    task = client.get(f"/fhir/Task?focus=ServiceRequest/{sr['id']}", headers=gp).json()
    client.patch(f"/fhir/Task/{task['entry'][0]['resource']['id']}", headers={
        **team, "Content-Type": PATCH, "If-Match": 'W/"1"'},
        json=[{"op": "replace", "path": "/status", "value": "accepted"}])
    return sr["id"]


def _entries(sessions: sessionmaker[Session]) -> list[ProcessingLogEntry]:
    with sessions() as session:
        return list(session.scalars(select(ProcessingLogEntry).order_by(ProcessingLogEntry.seq)))


class TestWhatIsRecorded:
    def test_a_referral_flow_leaves_its_trail(self, flow: str, sessions,
                                              settings: Settings) -> None:  # noqa: ANN001
        entries = _entries(sessions)
        actions = [(e.kind, e.action) for e in entries]
        assert ("write", "referral.received") in actions
        assert ("disclosure", "delivery.permitted") in actions
        assert ("read", "referral.read") in actions
        assert ("write", "task.status_changed") in actions
        received = next(e for e in entries if e.action == "referral.received")
        assert (received.activity_id, received.legal_basis, received.retention_years) == (
            "gp-referral-to-wijkteam", "6.1.e 9.2.h", 15)
        assert received.purpose.startswith("A GP refers a resident")
        assert (received.actor_id, received.recipient) == ("demo-huisarts", "wijkteam-noord")
        assert received.request_id and received.trace_id
        expected = Pseudonymiser(settings.pseudonym_key).pseudonym(f"bsn:{BSN}")[0]
        assert received.subject == expected
        disclosed = next(e for e in entries if e.kind == "disclosure")
        assert disclosed.recipient_role == "wijkteam" and "health" in disclosed.categories
        for entry in entries:  # the BSN itself is nowhere in the log
            assert BSN not in " ".join(str(v) for v in vars(entry).values())

    def test_a_refused_delivery_is_a_denial(self, client: TestClient, gp: dict, team: dict,
                                            receiver, sessions) -> None:  # noqa: ANN001
        client.post("/fhir/Subscription", headers=team, json=subscription(receiver.url,
                                                                           "ServiceRequest"))
        client.post("/fhir/ServiceRequest", headers=gp, json=service_request())
        denial = next(e for e in _entries(sessions) if e.kind == "denial")
        assert (denial.action, denial.outcome) == ("delivery.withheld", "denied")
        assert "age-unknown" in denial.details

    def test_a_failed_request_leaves_no_entries(self, client: TestClient, gp: dict,
                                                sessions) -> None:  # noqa: ANN001
        bad = service_request(team="no-such-team")
        assert client.post("/fhir/ServiceRequest", headers=gp, json=bad).status_code == 422
        assert _entries(sessions) == []


class TestVerification:
    """The untampered cases; the attacks are in test_log_integrity.py."""

    def test_an_intact_log_verifies(self, flow: str, sessions) -> None:  # noqa: ANN001
        checkpoint_now(sessions)
        result = verify(sessions)
        entries = _entries(sessions)
        assert (result.ok, result.entries, result.tree_size, result.signed_size) == (
            True, len(entries), len(entries), len(entries))
        assert result.entries >= 5 and result.checkpoints == 1
        assert result.head_hash == entries[-1].hash
        assert result.root_hash == root([bytes.fromhex(e.hash) for e in entries]).hex()

    def test_an_edit_without_rehashing_is_named(self, flow: str, sessions,
                                                admin_url: str) -> None:  # noqa: ANN001
        tamper(admin_url, "UPDATE processing_log SET recipient = 'elsewhere' WHERE seq = 3")
        result = verify(sessions)
        assert (result.ok, result.bad_seq) == (False, 3)
        assert result.problem == (f"entry 3 ({result.bad_id}) was changed: its content does "
                                  "not match its leaf hash")


def test_periodic_checkpoints_and_side_by_side_segments(
        small_checkpoints: TestClient, sessions, database_url: str) -> None:  # noqa: ANN001
    gp = {**bearer(small_checkpoints, "demo-huisarts"), "Content-Type": "application/fhir+json"}
    for _ in range(3):
        small_checkpoints.post("/fhir/ServiceRequest", headers=gp, json=service_request())
    with sessions() as session:
        marks = list(session.scalars(select(ProcessingLogCheckpoint.seq)))
        size = session.scalar(select(func.count()).select_from(ProcessingLogEntry))
    assert marks == list(range(3, size + 1, 3))
    context = sessions.kw["info"][CONTEXT]
    single = verify(sessions)
    side_by_side = verify_database(database_url, context, workers=2)
    assert single.ok and single.checkpoints == len(marks)
    assert dataclasses.asdict(side_by_side) == dataclasses.asdict(single)


@pytest.fixture
def small_checkpoints(settings: Settings, seeded: None) -> Iterator[TestClient]:  # noqa: ARG001
    tuned = settings.model_copy(update={"audit_checkpoint_every": 3})
    with TestClient(create_app(tuned, configure_logs=False)) as test_client:
        yield test_client


class TestOfficersApi:
    def test_search_by_person_and_filters(self, flow: str, client: TestClient, officer: dict,
                                          sessions) -> None:  # noqa: ANN001
        body = client.get(f"/audit/entries?subject={BSN}", headers=officer).json()
        assert body["total"] >= 5
        assert {e["action"] for e in body["entries"]} >= {"referral.received",
                                                          "delivery.permitted"}
        kinds = client.get("/audit/entries?kind=disclosure&recipient=wijkteam-noord"
                           "&activity=gp-referral-to-wijkteam", headers=officer).json()
        assert kinds["total"] == 1 and kinds["entries"][0]["categories"]
        today = datetime.now(UTC).date().isoformat()
        assert client.get(f"/audit/entries?from={today}&to={today}",
                          headers=officer).json()["total"] >= body["total"]
        paged = client.get(f"/audit/entries?subject={BSN}&_count=2&_offset=1",
                           headers=officer).json()
        # offset 1 skips the newest entry: the record of the first search, about this person
        assert [e["seq"] for e in paged["entries"]] == [e["seq"] for e in body["entries"][0:2]]
        looked = _entries(sessions)[-1]  # the officer's search is itself recorded
        assert (looked.action, looked.actor_id) == ("audit.entries.read", "demo-privacy-officer")
        assert looked.subject == body["entries"][0]["subject"]

    @pytest.mark.parametrize("query,field", [
        ("subject=123456789", "subject"),
        ("subject=' OR 1=1 --", "subject"),
        ("activity=x'; DROP TABLE processing_log; --", "activity"),
        ("recipient=a b", "recipient"),
        ("kind=everything", "kind"),
        ("from=0001-01-01", "from"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("to=2999-01-01", "to"),
        ("from=yesterday", "from"),
        ("_count=1000000", "_count"),
        ("household=1", "household"),
        ("flat=1", "flat"),
    ])
    def test_bad_filters_are_400(self, client: TestClient, officer: dict, query: str,
                                 field: str) -> None:
        response = client.get(f"/audit/entries?{query}", headers=officer)
        assert response.status_code == 400, response.text
        assert response.json()["issue"][0]["expression"] == [field]

    def test_household_takes_in_parents_and_children(self, client: TestClient, team: dict,
                                                     officer: dict, sessions) -> None:  # noqa: ANN001
        parent_bsn, child_bsn = VALID_BSNS[1], VALID_BSNS[2]
        child_ref = involve(client, child_bsn)
        involve(client, parent_bsn)
        client.post("/fhir/Patient", headers=team, json=patient(child_bsn, "2019-01-01"))
        link = {**related_person(child_ref),
                "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn",
                                "value": parent_bsn}]}
        assert client.post("/fhir/RelatedPerson", headers=team, json=link).status_code == 201
        client.post("/fhir/Patient", headers=team, json=patient(parent_bsn, "1988-01-01"))

        def actions(query: str) -> list[str]:
            body = client.get(f"/audit/entries?{query}&kind=write", headers=officer).json()
            return sorted(e["action"] for e in body["entries"])

        mine = ["involvement.registered", "person.birth_date_recorded"]
        assert actions(f"subject={parent_bsn}") == mine
        family = sorted([*mine, *mine, "related_person.registered"])
        assert actions(f"household={parent_bsn}") == family
        assert actions(f"household={child_bsn}") == family
        searched = _entries(sessions)[-1]
        assert searched.action == "audit.entries.read"
        assert child_bsn not in (searched.details or "")  # a pseudonym, never the BSN

    def test_non_officers_are_refused_and_logged(self, client: TestClient, team: dict,
                                                 sessions) -> None:  # noqa: ANN001
        for path in ("/audit/entries", "/audit/entries.csv", f"/audit/access-report?patient={BSN}",
                     f"/fhir/AuditEvent?patient={BSN}"):
            assert client.get(path, headers=team).status_code == 403
        refusals = [e for e in _entries(sessions) if e.action == "audit.access_refused"]
        assert len(refusals) == 4
        assert {(e.actor_id, e.outcome) for e in refusals} == {("demo-wijkteam-noord", "denied")}

    def test_csv_export(self, flow: str, client: TestClient, officer: dict) -> None:
        response = client.get(f"/audit/entries.csv?subject={BSN}", headers=officer)
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert {"referral.received", "delivery.permitted"} <= {r["action"] for r in rows}
        assert BSN not in response.text

    def test_access_report(self, flow: str, client: TestClient, officer: dict) -> None:
        report = client.get(f"/audit/access-report?patient={BSN}", headers=officer).json()
        [shared] = report["disclosures"]
        assert (shared["recipient"], shared["activity"]) == ("wijkteam-noord",
                                                             "gp-referral-to-wijkteam")
        assert [c["verdict"] for c in report["consents"]] == ["permit"]
        page = client.get(f"/audit/access-report?patient={BSN}&format=html", headers=officer)
        assert page.headers["content-type"].startswith("text/html")
        assert "wijkteam-noord" in page.text and "Met wie zijn gegevens gedeeld" in page.text
        assert client.get("/audit/access-report?patient=1", headers=officer).status_code == 400

    def test_access_report_with_inclusion_proofs(self, flow: str, client: TestClient,
                                                 officer: dict, sessions,
                                                 settings: Settings) -> None:  # noqa: ANN001
        """Every entry about the resident is proven in the latest signed checkpoint's tree,
        with nothing but the report and the log's verifier key."""
        signed = checkpoint_now(sessions)
        client.get(f"/audit/access-report?patient={BSN}", headers=officer)  # one more entry
        report = client.get(f"/audit/access-report?patient={BSN}&proofs=true",
                            headers=officer).json()
        proofs = report["proofs"]
        assert proofs["checkpoint"] == signed
        checkpoint = open_checkpoint(signed, [log_identity(settings).signer.verifier])
        assert proofs["tree_size"] == checkpoint.size
        seqs = sorted(item["seq"] for part in ("disclosures", "withheld", "other")
                      for item in report[part])
        assert [p["seq"] for p in proofs["entries"]] + proofs["not_yet_covered"] == seqs
        assert proofs["not_yet_covered"] == [seqs[-1]]  # the first report, after the checkpoint
        by_seq = {e.seq: e for e in _entries(sessions)}
        for proof in proofs["entries"]:
            leaf = base64.b64decode(proof["leaf_hash"])
            assert leaf.hex() == by_seq[proof["seq"]].hash
            path = [base64.b64decode(h) for h in proof["inclusion_proof"]]
            assert verify_inclusion(leaf, proof["leaf_index"], checkpoint.size, path,
                                    checkpoint.root) is True
            assert verify_inclusion(leaf, proof["leaf_index"] + 1, checkpoint.size, path,
                                    checkpoint.root) is False
        bad = client.get(f"/audit/access-report?patient={BSN}&proofs=yes", headers=officer)
        assert (bad.status_code, bad.json()["issue"][0]["expression"]) == (400, ["proofs"])

    def test_fhir_audit_event_export(self, flow: str, client: TestClient,
                                     officer: dict) -> None:
        bundle = client.get(f"/fhir/AuditEvent?patient=http://fhir.nl/fhir/NamingSystem/bsn|"
                            f"{BSN}", headers=officer).json()
        assert bundle["total"] >= 5
        for entry in bundle["entry"]:
            AuditEvent.model_validate(entry["resource"])
        actions = {e["resource"]["subtype"][0]["code"] for e in bundle["entry"]}
        assert "delivery.permitted" in actions
        bad = client.get("/fhir/AuditEvent?patient=999999999", headers=officer)
        assert bad.status_code == 400
