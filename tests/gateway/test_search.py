"""FHIR search on every endpoint: _lastUpdated, _sort, _summary/_count=0, _elements,
_include/_revinclude (decided, minimised and logged like a plain read), reference and token
parameters, Prefer: handling=lenient, and Bundle links that answer the same page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.fhir.subset import MASKED
from gateway.platform.db.models import ProcessingLogEntry, ServiceRequestRow
from gateway.referrals.teams import add_identifiers
from schemas import AGB_SYSTEM, URA_SYSTEM
from tests.conftest import BASE_URL, bearer
from tests.support.samples import REFERRAL_SYSTEM, VALID_BSNS, service_request

TASK_STATUS = "http://hl7.org/fhir/task-status"
LENIENT = {"Prefer": "handling=lenient"}
TIMES = (datetime(2026, 1, 15, 10, 0, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC),
         datetime(2026, 3, 10, 12, 30, 45, 500000, tzinfo=UTC))


def _ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def _get(client: TestClient, path: str, headers: dict, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    Bundle.model_validate(response.json())
    return response.json()


def _refer(client: TestClient, gp: dict, **options: Any) -> dict[str, Any]:
    response = client.post("/fhir/ServiceRequest", json=service_request(**options), headers=gp)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def dated(client: TestClient, gp: dict, sessions: sessionmaker[Session]) -> list[str]:
    """Three referrals last updated at TIMES (oldest first); their ids."""
    ids = [_refer(client, gp, identifier=f"dated-{n}")["id"] for n in range(3)]
    with sessions.begin() as session:
        for row_id, moment in zip(ids, TIMES, strict=True):
            session.execute(update(ServiceRequestRow).where(ServiceRequestRow.id == row_id)
                            .values(updated_at=moment))
    return ids


class TestLastUpdated:
    @pytest.mark.parametrize("value,expected", [
        ("2026-02", [1]), ("eq2026", [0, 1, 2]), ("gt2026-02", [2]), ("ge2026-02-01", [1, 2]),
        ("lt2026-02-01T00:00:00Z", [0]), ("le2026-02-01T00:00:00Z", [0, 1]),
        ("ge2026-01-15T11:00:00+01:00", [0, 1, 2]), ("gt2026-01-15T11:00:00+01:00", [1, 2]),
        ("2026-03-10T12:30:45.5Z", [2]), ("2026-03-10T12:30:45Z", [2]),
        ("gt2026-03-10T12:30:45.500000+00:00", []), ("lt2025", []), ("2026-03-10T12:30Z", [2]),
        (">2026-02", [2]), (">=2026-02-01", [1, 2]), ("<2026-02-01T00:00:00Z", [0]),
        ("<=2026-02-01T00:00:00Z", [0, 1]),  # DSTU1 comparators, as fhirclient's $gt sends
    ])
    def test_prefixes_and_precision(self, client: TestClient, gp: dict, dated: list[str],
                                    value: str, expected: list[int]) -> None:
        found = _get(client, "/fhir/ServiceRequest", gp, _lastUpdated=value)
        assert _ids(found) == [dated[i] for i in expected]

    def test_a_range_is_two_values(self, client: TestClient, gp: dict,
                                   dated: list[str]) -> None:
        found = client.get("/fhir/ServiceRequest?_lastUpdated=ge2026-01-01"
                           "&_lastUpdated=lt2026-03", headers=gp).json()
        assert _ids(found) == dated[:2]

    def test_polling_with_the_last_seen_time_finds_what_changed_since(
            self, client: TestClient, gp: dict, team: dict) -> None:
        created = _refer(client, gp)
        task = _get(client, "/fhir/Task", gp, focus=created["id"])["entry"][0]["resource"]
        seen = task["meta"]["lastUpdated"]
        assert _get(client, "/fhir/Task", gp, _lastUpdated=f"gt{seen}")["total"] == 0
        client.patch(f"/fhir/Task/{task['id']}", headers={
            **team, "Content-Type": "application/json-patch+json", "If-Match": 'W/"1"'},
            json=[{"op": "replace", "path": "/status", "value": "accepted"}])
        changed = _get(client, "/fhir/Task", gp, _lastUpdated=f"gt{seen}")
        assert [e["resource"]["status"] for e in changed["entry"]] == ["accepted"]

    def test_consents_by_last_updated(self, client: TestClient, team: dict) -> None:
        assert _get(client, "/fhir/Consent", team, _lastUpdated="lt2000")["total"] == 0

    @pytest.mark.parametrize("value", [
        "ne2026", "ap2026", "2026-13", "2026-02-30", "2026-02-01T10:00:00", "yesterday",
        "0001-01-01T00:00:00+01:00", "2026-02-01T25:00:00Z", "2026-02-01T10:00:00+99:00",
        "gt", "20260201", ">", "=>2026", "><2026", ">gt2026",
    ])
    def test_bad_values_are_400(self, client: TestClient, gp: dict, value: str) -> None:
        response = client.get("/fhir/ServiceRequest", params={"_lastUpdated": value}, headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == ["_lastUpdated"]

    def test_an_unencoded_plus_is_explained(self, client: TestClient, gp: dict) -> None:
        response = client.get("/fhir/ServiceRequest?_lastUpdated=gt2026-02-01T10:00:00+01:00",
                              headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["diagnostics"].endswith("write %2B)")


class TestSortAndCount:
    def test_sort_by_last_updated_both_ways(self, client: TestClient, gp: dict,
                                            dated: list[str]) -> None:
        assert _ids(_get(client, "/fhir/ServiceRequest", gp, _sort="-_lastUpdated")) == \
            dated[::-1]
        assert _ids(_get(client, "/fhir/ServiceRequest", gp, _sort="_lastUpdated")) == dated

    @pytest.mark.parametrize("query", ["_summary=count", "_count=0"])
    def test_total_only(self, client: TestClient, gp: dict, dated: list[str],
                        query: str) -> None:
        bundle = client.get(f"/fhir/ServiceRequest?{query}", headers=gp).json()
        assert (bundle["total"], "entry" in bundle) == (3, False)
        assert [link["relation"] for link in bundle["link"]] == ["self"]
        Bundle.model_validate(bundle)

    def test_total_only_reads_nothing(self, client: TestClient, gp: dict, team: dict,
                                      sessions: sessionmaker[Session]) -> None:
        _refer(client, gp)
        before = _reads(sessions)
        assert _get(client, "/fhir/ServiceRequest", team, _summary="count")["total"] == 1
        assert _reads(sessions) == before

    @pytest.mark.parametrize("query,expression", [
        ("_summary=true", "_summary"), ("_summary=data", "_summary"),
        ("_sort=authored", "_sort"), ("_sort=_lastUpdated,_id", "_sort"),
        ("_count=-1", "_count"), ("identifier=", "identifier"), ("_total=exact", "_total"),
        ("_totalMethod=estimate", "_totalMethod"),
    ])
    def test_bad_values_are_400(self, client: TestClient, gp: dict, query: str,
                                expression: str) -> None:
        response = client.get(f"/fhir/ServiceRequest?{query}", headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == [expression]


def _reads(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [(e.kind, e.action, e.details or "") for e in session.scalars(
            select(ProcessingLogEntry).where(ProcessingLogEntry.action == "referral.read")
            .order_by(ProcessingLogEntry.seq))]


class TestElements:
    def test_only_those_elements_and_the_mandatory_ones(self, client: TestClient, gp: dict,
                                                         team: dict) -> None:
        created = _refer(client, gp, consent="self")
        found = _get(client, "/fhir/ServiceRequest", team, _elements="status,performer")
        seen = found["entry"][0]["resource"]
        assert sorted(seen) == ["contained", "id", "intent", "meta", "performer",
                                "resourceType", "status", "subject"]
        assert seen["subject"] == created["subject"]  # mandatory, and permitted here
        assert [c["resourceType"] for c in seen["contained"]] == ["Patient"]  # what it refers to
        assert [t["code"] for t in seen["meta"]["tag"]] == ["SUBSETTED"]
        assert "profile" not in seen["meta"]

    def test_elements_never_widen_what_consent_permits(self, client: TestClient, gp: dict,
                                                       team: dict) -> None:
        created = _refer(client, gp)  # no consent: the team sees the envelope
        plain = client.get(f"/fhir/ServiceRequest/{created['id']}", headers=team).json()
        found = _get(client, "/fhir/ServiceRequest", team, _elements="subject,note,reasonCode")
        seen = found["entry"][0]["resource"]
        assert seen["subject"] == MASKED
        assert {"note", "reasonCode"}.isdisjoint(seen)
        assert set(seen) <= set(plain)

    def test_choice_qualified_and_fhirpy_names(self, client: TestClient, gp: dict) -> None:
        _refer(client, gp)
        seen = _get(client, "/fhir/ServiceRequest", gp, _elements="ServiceRequest.identifier,"
                    "occurrence,id,resourceType")["entry"][0]["resource"]
        assert sorted(seen) == ["id", "identifier", "intent", "meta", "resourceType", "status",
                                "subject"]

    def test_unknown_element_is_400(self, client: TestClient, gp: dict) -> None:
        response = client.get("/fhir/Task?_elements=status,bogus", headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == ["_elements"]


class TestIncludes:
    def test_include_focus_is_a_read_of_the_referral(self, client: TestClient, gp: dict,
                                                      team: dict,
                                                      sessions: sessionmaker[Session]) -> None:
        created = _refer(client, gp)  # no consent for the team
        plain = client.get(f"/fhir/ServiceRequest/{created['id']}", headers=team).json()
        before = len(_reads(sessions))
        found = _get(client, "/fhir/Task", team, _include="Task:focus")
        assert found["total"] == 1
        included = [e for e in found["entry"] if e["search"]["mode"] == "include"]
        assert [e["resource"] for e in included] == [plain]
        assert included[0]["fullUrl"] == f"{BASE_URL}/fhir/ServiceRequest/{created['id']}"
        assert included[0]["resource"]["subject"] == MASKED
        logged = _reads(sessions)[before:]
        assert [(kind, action) for kind, action, _ in logged] == [("denial", "referral.read")]
        assert f"ServiceRequest/{created['id']}" in logged[0][2]

    def test_the_sender_includes_what_it_sent(self, client: TestClient, gp: dict) -> None:
        created = _refer(client, gp)
        found = _get(client, "/fhir/Task", gp, focus=created["id"],
                     _include="Task:focus:ServiceRequest")
        included = [e["resource"] for e in found["entry"] if e["search"]["mode"] == "include"]
        assert included == [client.get(f"/fhir/ServiceRequest/{created['id']}",
                                        headers=gp).json()]

    def test_revinclude_tasks_on_referrals(self, client: TestClient, gp: dict,
                                           team: dict) -> None:
        created = [_refer(client, gp)["id"] for _ in range(2)]
        found = _get(client, "/fhir/ServiceRequest", team, _revinclude="Task:focus")
        assert (found["total"], _ids(found)) == (2, created)
        tasks = [e["resource"] for e in found["entry"] if e["search"]["mode"] == "include"]
        assert [t["focus"]["reference"] for t in tasks] == [f"ServiceRequest/{i}" for i in created]
        plain = _get(client, "/fhir/Task", team)
        assert tasks == [e["resource"] for e in plain["entry"]]

    def test_another_practice_includes_nothing(self, client: TestClient, gp: dict) -> None:
        _refer(client, gp)
        other = bearer(client, "other-huisarts")
        found = _get(client, "/fhir/ServiceRequest", other, _revinclude="Task:focus")
        assert (found["total"], "entry" in found) == (0, False)

    def test_includes_are_fetched_in_one_query(self, client: TestClient, gp: dict) -> None:
        engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
        _refer(client, gp)
        one = _statements(engine, lambda: _get(client, "/fhir/Task", gp, _include="Task:focus"))
        for _ in range(3):
            _refer(client, gp)
        four = _statements(engine, lambda: _get(client, "/fhir/Task", gp,
                                                _include="Task:focus"))
        assert (one, four) == (1, 1)

    @pytest.mark.parametrize("path,query", [
        ("/fhir/Task", "_include=ServiceRequest:subject"), ("/fhir/Task", "_include=*"),
        ("/fhir/Task", "_revinclude=Task:focus"), ("/fhir/ServiceRequest", "_include=Task:focus"),
        ("/fhir/ServiceRequest", "_revinclude=Provenance:target"),
    ])
    def test_other_includes_are_400(self, client: TestClient, gp: dict, path: str,
                                    query: str) -> None:
        response = client.get(f"{path}?{query}", headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == [query.split("=")[0]]


def _statements(engine: sa.Engine, action: Any) -> int:
    """How many statements read ``service_requests`` rows by id list while ``action`` runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM service_requests" in statement and " IN (" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(seen)


class TestReferencesAndTokens:
    def test_a_reference_in_every_form_finds_the_same(self, client: TestClient,
                                                      gp: dict) -> None:
        first, second = (_refer(client, gp)["id"] for _ in range(2))
        for focus in (f"ServiceRequest/{first}", first,
                      f"{BASE_URL}/fhir/ServiceRequest/{first}"):
            found = _get(client, "/fhir/Task", gp, focus=focus)
            assert [e["resource"]["focus"]["reference"] for e in found["entry"]] == [
                f"ServiceRequest/{first}"], focus
        both = _get(client, "/fhir/Task", gp, focus=f"{first},ServiceRequest/{second}")
        assert both["total"] == 2

    @pytest.mark.parametrize("focus", [
        "https://elders.example/fhir/ServiceRequest/1", "Patient/1", "ServiceRequest/a b",
        f"{BASE_URL}/fhir/Task/1", "ServiceRequest/1/_history/1",
    ])
    def test_bad_references_are_400(self, client: TestClient, gp: dict, focus: str) -> None:
        response = client.get("/fhir/Task", params={"focus": focus}, headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == ["focus"]

    def test_consent_actor_as_id_or_url(self, client: TestClient, team: dict) -> None:
        for actor in ("wijkteam-noord", f"{BASE_URL}/fhir/Organization/wijkteam-noord"):
            assert _get(client, "/fhir/Consent", team, actor=actor)["total"] == 0

    @pytest.mark.parametrize("value,expected", [
        (f"{REFERRAL_SYSTEM}|tok-1", [0]), ("tok-1", [0]), ("tok-1,tok-2", [0, 1]),
        (f"{REFERRAL_SYSTEM}|tok-2,tok-1", [0, 1]), ("|tok-1", []),
        ("http://elders.example|tok-1", []), (f"{REFERRAL_SYSTEM}|", [0, 1]),
    ])
    def test_identifier_tokens(self, client: TestClient, gp: dict, value: str,
                               expected: list[int]) -> None:
        ids = [_refer(client, gp, identifier=f"tok-{n}")["id"] for n in (1, 2)]
        assert _ids(_get(client, "/fhir/ServiceRequest", gp, identifier=value)) == \
            [ids[i] for i in expected]

    @pytest.mark.parametrize("value,total", [
        ("requested", 1), ("requested,accepted", 1), ("accepted", 0),
        (f"{TASK_STATUS}|requested", 1), ("http://elders.example|requested", 0),
        ("|requested", 0), (f"{TASK_STATUS}|accepted,requested", 1),
    ])
    def test_status_tokens(self, client: TestClient, gp: dict, value: str, total: int) -> None:
        _refer(client, gp)
        assert _get(client, "/fhir/Task", gp, status=value)["total"] == total

    @pytest.mark.parametrize("query,expression", [
        ("status=bogus", "status"), ("status=requested,bogus", "status"),
        ("status:not=requested", "status:not"), ("focus:missing=true", "focus:missing"),
        ("status=requested&status=accepted", "status"),
    ])
    def test_bad_tokens_and_modifiers_are_400(self, client: TestClient, gp: dict, query: str,
                                              expression: str) -> None:
        response = client.get(f"/fhir/Task?{query}", headers=gp)
        assert response.status_code == 400
        assert response.json()["issue"][0]["expression"] == [expression]

    def test_consent_status_with_its_system(self, client: TestClient, team: dict) -> None:
        for value in ("http://hl7.org/fhir/consent-state-codes|active", "active,inactive",
                      "http://elders.example|active"):
            assert _get(client, "/fhir/Consent", team, status=value)["total"] == 0


class TestOrganizations:
    @pytest.fixture(autouse=True)
    def identifiers(self, sessions: sessionmaker[Session], seeded: None) -> None:
        with sessions.begin() as session:
            add_identifiers(session, "wijkteam-noord", ["ura:20000001", "agb:03000001"])
            add_identifiers(session, "wijkteam-zuid", ["ura:20000002"])

    @pytest.mark.parametrize("value,expected", [
        (f"{URA_SYSTEM}|20000001", ["wijkteam-noord"]),
        ("urn:oid:2.16.528.1.1007.3.3|20000002", ["wijkteam-zuid"]),
        ("03000001", ["wijkteam-noord"]),
        ("20000001,20000002", ["wijkteam-noord", "wijkteam-zuid"]),
        (f"{URA_SYSTEM}|", ["wijkteam-noord", "wijkteam-zuid"]), (f"{AGB_SYSTEM}|20000001", []),
        ("http://elders.example|20000001", []), ("|20000001", []),
    ])
    def test_by_identifier(self, client: TestClient, gp: dict, value: str,
                           expected: list[str]) -> None:
        found = _get(client, "/fhir/Organization", gp, identifier=value)
        assert _ids(found) == expected
        for team in found.get("entry", []):
            assert team["resource"]["identifier"]


class TestLenient:
    def test_unknown_parameters_are_ignored_and_named(self, client: TestClient,
                                                      gp: dict) -> None:
        created = _refer(client, gp, identifier="len-1")
        response = client.get("/fhir/ServiceRequest?bogus=1&identifier=len-1&status:not=x",
                              headers={**gp, **LENIENT})
        assert response.status_code == 200
        bundle = response.json()
        Bundle.model_validate(bundle)
        assert _ids(bundle) == [created["id"]]
        outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
        assert [(i["severity"], i["code"], i["expression"]) for i in
                outcome[0]["resource"]["issue"]] == [("warning", "not-supported", ["bogus"]),
                                                    ("warning", "not-supported", ["status:not"])]
        assert bundle["link"][0] == {"relation": "self", "url": f"{BASE_URL}/fhir/ServiceRequest"
                                     "?identifier=len-1&_count=50&_offset=0"}

    def test_strict_is_the_default(self, client: TestClient, gp: dict) -> None:
        for prefer in ({}, {"Prefer": "handling=strict"}, {"Prefer": "return=minimal"}):
            response = client.get("/fhir/ServiceRequest?bogus=1", headers={**gp, **prefer})
            assert response.status_code == 400
            assert response.json()["issue"][0]["expression"] == ["bogus"]

    def test_lenient_does_not_excuse_a_bad_value(self, client: TestClient, gp: dict) -> None:
        response = client.get("/fhir/Task?status=bogus", headers={**gp, **LENIENT})
        assert response.status_code == 400


class TestLinks:
    def test_links_answer_the_same_page(self, client: TestClient, gp: dict,
                                        dated: list[str]) -> None:
        first = _get(client, "/fhir/ServiceRequest", gp, _count=2, _sort="-_lastUpdated",
                     _lastUpdated="ge2026")
        links = {link["relation"]: link["url"] for link in first["link"]}
        assert set(links) == {"self", "next"}
        assert _follow(client, gp, links["self"]) == first
        second = _follow(client, gp, links["next"])
        assert _ids(first) + _ids(second) == dated[::-1]
        back = {link["relation"]: link["url"] for link in second["link"]}
        assert set(back) == {"self", "previous"}
        assert _follow(client, gp, back["self"]) == second
        assert _follow(client, gp, back["previous"]) == first

    def test_previous_from_an_odd_offset(self, client: TestClient, gp: dict,
                                         dated: list[str]) -> None:
        page = _get(client, "/fhir/ServiceRequest", gp, _count=2, _offset=1)
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert links["previous"] == f"{BASE_URL}/fhir/ServiceRequest?_count=2&_offset=0"
        assert _ids(_follow(client, gp, links["previous"])) == dated[:2]


def _follow(client: TestClient, headers: dict, url: str) -> dict[str, Any]:
    assert url.startswith(BASE_URL)
    response = client.get(url.removeprefix(BASE_URL), headers=headers)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def officer(client: TestClient) -> dict[str, str]:
    return bearer(client, "demo-privacy-officer")


ENDPOINTS = {"/fhir/ServiceRequest": "gp", "/fhir/Task": "gp", "/fhir/Consent": "team",
             "/fhir/Subscription": "team", "/fhir/Organization": "gp",
             "/fhir/AuditEvent": "officer"}
# Each parameter on each endpoint: supported -> 200, anything else -> 400 naming it.
SUPPORTED = {
    "_lastUpdated=ge2026": {"/fhir/ServiceRequest", "/fhir/Task", "/fhir/Consent"},
    "_sort=-_lastUpdated": {"/fhir/ServiceRequest", "/fhir/Task", "/fhir/Consent"},
    "_summary=count": set(ENDPOINTS), "_count=0": set(ENDPOINTS),
    "_elements=id": set(ENDPOINTS),
    "_include=Task:focus": {"/fhir/Task"},
    "_revinclude=Task:focus": {"/fhir/ServiceRequest"},
    "status=requested": {"/fhir/Task"}, "status=active": {"/fhir/Consent"},
    "focus=ServiceRequest/x": {"/fhir/Task"}, "purpose=x": {"/fhir/Consent"},
    "identifier=ura:1": {"/fhir/ServiceRequest", "/fhir/Organization"},
    "_total=accurate": set(ENDPOINTS), "_totalMethod=count": set(ENDPOINTS),
    "_pretty=true": set(ENDPOINTS), "_pretty=yes": set(),  # as on a read; the JSON stays compact
    "_id=x": set(), "_has:Task:focus:status=requested": set(),
    "_text=x": set(), "_content=x": set(), "identifier:text=x": set(),
}


@pytest.fixture
def headers_for(gp: dict, team: dict, officer: dict) -> Iterator[dict[str, dict]]:
    yield {"gp": gp, "team": team, "officer": officer}


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
@pytest.mark.parametrize("query", sorted(SUPPORTED))
def test_each_parameter_on_each_endpoint_works_or_is_400(
        path: str, query: str, client: TestClient, headers_for: dict[str, dict]) -> None:
    audit = f"&patient={VALID_BSNS[0]}" if path == "/fhir/AuditEvent" else ""
    response = client.get(f"{path}?{query}{audit}", headers=headers_for[ENDPOINTS[path]])
    if path in SUPPORTED[query]:
        assert response.status_code == 200, response.text
        Bundle.model_validate(response.json())
    else:
        assert response.status_code == 400, response.text
        assert response.json()["issue"][0]["expression"] == [query.split("=")[0]]
