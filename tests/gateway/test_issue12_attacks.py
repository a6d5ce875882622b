"""Red team, issue 12: who-else-helps is no oracle and leaves no trace of what it hides,
the identity queue and merges are for administrators only, and the fake adapter's endpoint
answers odd input with a 4xx that echoes no personal data."""

# ruff: noqa: F811 (the fixtures imported from the suites they attack are parameters here)
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import SCOPE_IDENTITY_REVIEW
from gateway.cli.demo_data import demo_secret
from gateway.platform.db.models import PersonMerge
from schemas.household import MEMBER_ROLE_EXTENSION
from tests.conftest import BASE_URL, bearer, involve, row_counts
from tests.gateway.test_adapter_messages import MOTHER, URL, _send, registry  # noqa: F401
from tests.gateway.test_who_else_helps import (  # noqa: F401
    BSN,
    NOORD,
    OTHER_BSN,
    ZUID,
    _ask,
    _open,
    world,
)
from tests.support.samples import VALID_BSNS

VT, GGZ = "ura:90000201", "ura:90000301"
UNKNOWN = "00000000-0000-0000-0000-000000000000"
VOLATILE = {"date", "x-request-id", "content-length", "traceparent", "x-correlation-id"}


def _same_refusal(known: Any, unknown: Any) -> None:
    """Status, body and headers (but per-request ones) alike."""
    assert (known.status_code, unknown.status_code) == (403, 403)
    assert known.json() == unknown.json()
    assert {k: v for k, v in known.headers.items() if k not in VOLATILE} == {
        k: v for k, v in unknown.headers.items() if k not in VOLATILE}


class TestWhoElseHelpsOracle:
    @pytest.mark.parametrize("params", [{}, {"ended": "true"}])
    def test_patient_known_and_unknown_alike_to_an_uninvolved_team(
            self, client: TestClient, world: dict, params: dict) -> None:
        """A system with the scope that helps nobody."""
        _same_refusal(_ask(client, "school-klimop", world["person"], **params),
                      _ask(client, "school-klimop", UNKNOWN, **params))

    def test_patient_known_and_unknown_alike_to_an_uninvolved_gp(
            self, client: TestClient, world: dict) -> None:
        _same_refusal(_ask(client, "demo-huisarts", world["person"]),
                      _ask(client, "demo-huisarts", UNKNOWN))

    def test_a_merged_away_id_refuses_as_an_unknown_one(
            self, client: TestClient, world: dict, sessions: sessionmaker[Session]) -> None:
        other = involve(client, OTHER_BSN, "wijkteam-zuid").removeprefix("Patient/")
        with sessions.begin() as session:
            session.add(PersonMerge(survivor_id=world["person"], merged_id=other,
                                    merged_by="test"))
        _same_refusal(_ask(client, "demo-huisarts", other),
                      _ask(client, "demo-huisarts", UNKNOWN))

    @pytest.mark.parametrize("person_id", ["x" * 5000, "ü'\"<>;--", "%00", "a/b"])
    def test_odd_ids_are_refused_not_crashed(self, client: TestClient, world: dict,
                                             person_id: str) -> None:
        answer = _ask(client, "demo-huisarts", person_id)
        assert answer.status_code in (400, 403, 404), answer.text
        assert BSN not in answer.text

    def test_group_of_helped_members_and_unknown_group_alike_to_an_uninvolved_gp(
            self, client: TestClient, world: dict) -> None:
        created = client.post("/fhir/Group", headers={**world["noord"],
                                                      "Content-Type": "application/fhir+json"},
                              json={"resourceType": "Group", "type": "person", "actual": True,
                                    "member": [{"entity": {
                                        "reference": f"Patient/{world['person']}"},
                                        "extension": [{"url": MEMBER_ROLE_EXTENSION,
                                                       "valueCode": "parent"}]}]})
        assert created.status_code == 201, created.text
        known = client.get(f"/fhir/Group/{created.json()['id']}/$who-else-helps",
                           headers=bearer(client, "demo-huisarts"))
        unknown = client.get("/fhir/Group/no-such-group/$who-else-helps",
                             headers=bearer(client, "demo-huisarts"))
        _same_refusal(known, unknown)


class TestHiddenLeavesNoTrace:
    def test_team_answer_equals_that_of_a_resident_without_vt_or_ggz(
            self, client: TestClient, world: dict, sessions: sessionmaker[Session]) -> None:
        """The same resident's answer with and without the hidden involvements: identical
        but for the subject, ended ones included (no gap, no count, no period)."""
        plain = involve(client, VALID_BSNS[3]).removeprefix("Patient/")
        _open(sessions, "wijkteam-zuid", plain, "zuid-plain")
        for params in ({}, {"ended": "true"}):
            hidden = _ask(client, world["noord"], world["person"], **params)
            clean = _ask(client, world["noord"], plain, **params)
            assert [p["member"] for p in hidden.json()["participant"]] == [NOORD, ZUID]
            assert [p["member"] for p in clean.json()["participant"]] == [NOORD, ZUID]
            assert set(hidden.json()) == set(clean.json())
            assert {k for k in hidden.headers if k not in VOLATILE} == {
                k for k in clean.headers if k not in VOLATILE}
            assert "9000020" not in hidden.text and "9000030" not in hidden.text
            assert "Veilig" not in hidden.text and "GGZ" not in hidden.text

    def test_an_ended_veilig_thuis_involvement_stays_hidden(
            self, client: TestClient, world: dict, sessions: sessionmaker[Session]) -> None:
        from gateway.involvements.service import close_involvement
        with sessions.begin() as session:
            close_involvement(session, organization=VT, person_id=world["person"],
                              source_ref="vt-1")
        answer = _ask(client, world["noord"], world["person"], ended="true")
        assert [p["member"] for p in answer.json()["participant"]] == [NOORD, ZUID]

    def test_a_gp_involved_sees_no_veilig_thuis_or_sensitive_care(
            self, client: TestClient, world: dict, sessions: sessionmaker[Session]) -> None:
        _open(sessions, "client:demo-huisarts", world["person"], "ServiceRequest/y")
        answer = _ask(client, "demo-huisarts", world["person"], ended="true")
        assert "90000201" not in answer.text and "90000301" not in answer.text

    def test_an_involvement_on_a_merged_record_stays_hidden(
            self, client: TestClient, world: dict, sessions: sessionmaker[Session]) -> None:
        other = involve(client, OTHER_BSN, "wijkteam-zuid").removeprefix("Patient/")
        _open(sessions, VT, other, "vt-merged")
        _open(sessions, GGZ, other, "ggz-merged")
        with sessions.begin() as session:
            session.add(PersonMerge(survivor_id=world["person"], merged_id=other,
                                    merged_by="test"))
        for asked in (world["person"], other):
            answer = _ask(client, world["noord"], asked, ended="true")
            assert answer.status_code == 200, answer.text
            assert "90000201" not in answer.text and "90000301" not in answer.text


class TestIdentityIsForAdministrators:
    @pytest.mark.parametrize("client_id", ["demo-wijkteam-noord", "demo-huisarts"])
    def test_reviews_and_merges_refused(self, client: TestClient, world: dict,
                                        sessions: sessionmaker[Session],
                                        client_id: str) -> None:
        headers = bearer(client, client_id)
        counts = row_counts(sessions)
        answers = [
            client.get("/identity/reviews", headers=headers),
            client.get("/identity/reviews", params={"status": "resolved"}, headers=headers),
            client.get("/identity/merges", params={"patient": f"Patient/{world['person']}"},
                       headers=headers),
            client.post("/identity/merges", headers=headers, json={
                "survivor": f"Patient/{world['person']}", "merged": f"Patient/{UNKNOWN}",
                "comment": "the same resident"}),
            client.post(f"/identity/merges/{UNKNOWN}/undo", headers=headers,
                        json={"comment": "not the same"}),
            client.post(f"/identity/reviews/{UNKNOWN}/resolve", headers=headers,
                        json={"resolution": "merge", "comment": "the same resident"})]
        assert [a.status_code for a in answers] == [403] * 6, [a.text for a in answers]
        for answer in answers:
            assert BSN not in answer.text and "birth" not in answer.text.lower()
        assert {k: v for k, v in row_counts(sessions).items() if k != "processing_log"} == {
            k: v for k, v in counts.items() if k != "processing_log"}

    @pytest.mark.parametrize("client_id", ["demo-wijkteam-noord", "demo-huisarts"])
    def test_no_token_with_the_review_scope(self, client: TestClient, seeded: None,
                                            client_id: str) -> None:
        from gateway.auth.token_exchange import exchange_form
        from tests.conftest import actor_of
        answer = client.post("/oauth/token", data=exchange_form(
            client_id, demo_secret(client_id), actor_of(client_id), BASE_URL + "/oauth/token",
            SCOPE_IDENTITY_REVIEW), auth=(client_id, demo_secret(client_id)))
        assert answer.status_code == 400 or SCOPE_IDENTITY_REVIEW not in answer.json().get(
            "scope", ""), answer.text


def _person(**fields: Any) -> dict[str, Any]:
    return {"kind": "register-person", "id": "m-odd", "person": {**MOTHER, **fields}}


ODD = [
    _person(familyName="Ja\u0000nsen"), _person(familyName="\ud800".encode(
        "utf-8", "surrogatepass").decode("utf-8", "replace")),
    _person(familyName="J" * 100_000), _person(familyName=""), _person(familyName=7),
    _person(familyName=None), _person(familyName=["Jansen"]), _person(birthDate="1988-02-30"),
    _person(birthDate=19880304), _person(bsn=123456789), _person(bsn="12345678\u0669"),
    _person(bsn=""), _person(postcode={"a": 1}), _person(givenName="\U0001F600" * 10),
    {"kind": "register-person", "id": "", "person": MOTHER},
    {"kind": "register-person", "id": "x" * 10_000, "person": MOTHER},
    {"kind": "register-person", "id": 5, "person": MOTHER},
    {"kind": "register-person", "id": None, "person": MOTHER},
    {"kind": "register-person", "id": "m", "person": None},
    {"kind": "register-person", "id": "m", "person": []},
    {"kind": "register-person", "id": "m", "person": "Jansen"},
    {"kind": "no-such-kind", "id": "m", "person": MOTHER},
    {"kind": ["register-person"], "id": "m"}, {"kind": None}, {}, [], "text", 3, None,
    {"kind": "register-person", "id": "m", "person": MOTHER, "extra": {"a": [1] * 10}},
]


@pytest.mark.parametrize("message", ODD, ids=range(len(ODD)))
def test_odd_messages_are_a_4xx_without_personal_data(
        client: TestClient, registry: dict[str, str],
        sessions: sessionmaker[Session], message: Any) -> None:
    answer = _send(client, registry, message)
    assert 400 <= answer.status_code < 500 or answer.status_code in (200, 201), answer.text
    if answer.status_code >= 400:
        assert answer.json()["resourceType"] == "OperationOutcome"
        for value in (MOTHER["bsn"], "Jansen", "Anna", "1988", "1234AB"):
            assert value not in answer.text, answer.text


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"{" * 5000 + b"}" * 5000,
                                  (b'{"kind": "register-person", "id": "m", "person": {"a": '
                                   + b"[" * 200 + b"]" * 200 + b"}}"),
                                  b'{"kind": "register-person", "id": "m", "id": "n"}',
                                  b'{"kind": "register-person", "id": "m", "person": NaN}'])
def test_malformed_bodies_are_a_4xx(client: TestClient, registry: dict[str, str],
                                    sessions: sessionmaker[Session], body: bytes) -> None:
    counts = row_counts(sessions)
    answer = client.post(URL, content=body, headers={**registry,
                                                      "Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert row_counts(sessions) == counts


def test_replay_with_another_body_changes_nothing_and_echoes_nothing(
        client: TestClient, registry: dict[str, str],
        sessions: sessionmaker[Session]) -> None:
    first = _send(client, registry, {"kind": "register-person", "id": "r-1", "person": MOTHER})
    assert first.status_code == 201, first.text
    counts = row_counts(sessions)
    for changed in ({**MOTHER, "familyName": "Pietersen"}, {**MOTHER, "bsn": VALID_BSNS[3]}):
        other = _send(client, registry, {"kind": "register-person", "id": "r-1",
                                         "person": changed})
        assert other.status_code == 422, other.text
        assert "Pietersen" not in other.text and VALID_BSNS[3] not in other.text
        assert MOTHER["bsn"] not in other.text
    assert row_counts(sessions) == counts
