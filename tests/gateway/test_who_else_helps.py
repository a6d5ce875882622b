"""Who else helps: an involved organisation learns which organisations help a resident (not
what they do); anyone else gets the refusal of an unknown person; Veilig Thuis and sensitive
care stay hidden without a basis, without a trace; every answer is logged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import SCOPE_WHO_ELSE_HELPS, TEAM_SCOPES
from gateway.cli.demo_data import demo_secret
from gateway.fhir.render import CLIENT_SYSTEM, TEAM_SYSTEM
from gateway.involvements.service import close_involvement, open_involvement
from gateway.platform.db.models import Involvement, PersonMerge, ProcessingLogEntry
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Unprocessable
from schemas.household import MEMBER_ROLE_EXTENSION
from tests.conftest import add_test_client, bearer, involve, row_counts
from tests.support.samples import VALID_BSNS, consent_resource, patient, service_request

BSN, OTHER_BSN = VALID_BSNS[1], VALID_BSNS[2]
URA = "http://fhir.nl/fhir/NamingSystem/ura"
VT, VT_OTHER_REGION, GGZ = "ura:90000201", "ura:90000202", "ura:90000301"
NOORD = {"type": "Organization", "identifier": {"system": TEAM_SYSTEM, "value": "wijkteam-noord"},
         "display": "Wijkteam Noord"}
ZUID = {"type": "Organization", "identifier": {"system": TEAM_SYSTEM, "value": "wijkteam-zuid"},
        "display": "Wijkteam Zuid"}
VT_REF = {"type": "Organization", "identifier": {"system": URA, "value": "90000201"},
          "display": "Veilig Thuis Noord"}
GGZ_REF = {"type": "Organization", "identifier": {"system": URA, "value": "90000301"},
           "display": "GGZ De Brug"}
FHIR = {"Content-Type": "application/fhir+json"}


def _open(sessions: sessionmaker[Session], organization: str, person_id: str,
          ref: str, **options: Any) -> str:
    """An involvement as an adapter opens it for a case in its system; returns its id."""
    with sessions.begin() as session:
        return open_involvement(session, organization=organization, person_id=person_id,
                                source="fake", source_ref=ref, registered_by="fake-system",
                                **options).id


@pytest.fixture
def world(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, Any]:
    """A resident helped by wijkteam-noord (registered), wijkteam-zuid, Veilig Thuis and a
    mental health provider (opened by adapters); each organisation's system as a client."""
    with sessions.begin() as session:
        add_test_client(session, "Zuid", list(TEAM_SCOPES), team_id="wijkteam-zuid",
                        client_id="zuid-registratie", secret=demo_secret("zuid-registratie"))
        for client_id, name, role, organization in (
                ("veilig-thuis-noord", "Veilig Thuis Noord", "veilig-thuis", VT),
                ("veilig-thuis-zuid", "Veilig Thuis Zuid", "veilig-thuis", VT_OTHER_REGION),
                ("ggz-de-brug", "GGZ De Brug", "ggz", GGZ),
                ("school-klimop", "School De Klimop", "school", "ura:90000401")):
            add_test_client(session, name, [SCOPE_WHO_ELSE_HELPS], client_id=client_id,
                            secret=demo_secret(client_id), role=role,
                            organization=organization)
    patient_ref = involve(client, BSN)
    headers = bearer(client, "demo-wijkteam-noord")
    assert client.post("/fhir/Patient", json=patient(BSN), headers={**headers, **FHIR}
                       ).status_code == 200
    person_id = patient_ref.removeprefix("Patient/")
    for organization, ref in (("wijkteam-zuid", "zuid-1"), (VT, "vt-1"), (GGZ, "ggz-1")):
        _open(sessions, organization, person_id, ref)
    return {"person": person_id, "noord": headers}


def _ask(client: TestClient, client_id: str | dict[str, str], person_id: str,
         **params: str) -> Any:
    headers = client_id if isinstance(client_id, dict) else bearer(client, client_id)
    return client.get(f"/fhir/Patient/{person_id}/$who-else-helps", params=params,
                      headers=headers)


def _members(answer: Any) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    assert answer.json()["resourceType"] == "CareTeam"
    return [p["member"] for p in answer.json()["participant"]]


class TestInvolvedCaller:
    def test_gets_the_organisations_with_their_periods(self, client: TestClient,
                                                       world: dict) -> None:
        answer = _ask(client, world["noord"], world["person"])
        body = answer.json()
        assert _members(answer) == [NOORD, ZUID]
        assert body["subject"] == {"reference": f"Patient/{world['person']}"}
        assert set(body) == {"resourceType", "status", "name", "subject", "participant"}
        assert [set(p["period"]) for p in body["participant"]] == [{"start"}, {"start"}]

    def test_a_gp_involved_by_its_referral_sees_the_team(self, client: TestClient,
                                                         gp: dict, world: dict,
                                                         sessions: sessionmaker[Session]
                                                         ) -> None:
        _open(sessions, "client:demo-huisarts", world["person"], "ServiceRequest/x")
        members = _members(_ask(client, "demo-huisarts", world["person"]))
        assert [m["identifier"] for m in members] == [
            NOORD["identifier"], ZUID["identifier"],
            {"system": CLIENT_SYSTEM, "value": "demo-huisarts"}]

    @pytest.mark.parametrize("asked", ["survivor", "merged"])
    def test_the_answer_covers_the_merge_set(self, client: TestClient, world: dict,
                                             sessions: sessionmaker[Session],
                                             asked: str) -> None:
        """Noord helps the survivor only, and is answered about either record."""
        other = involve(client, OTHER_BSN, "wijkteam-zuid").removeprefix("Patient/")
        _open(sessions, GGZ, other, "ggz-2", sensitivity="none")
        with sessions.begin() as session:
            session.add(PersonMerge(survivor_id=world["person"], merged_id=other,
                                    merged_by="test"))
        person_id = world["person"] if asked == "survivor" else other
        assert _members(_ask(client, world["noord"], person_id)) == [NOORD, ZUID, ZUID,
                                                                     GGZ_REF]

    def test_ended_involvements_only_when_asked(self, client: TestClient, world: dict,
                                                sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            assert close_involvement(session, organization="wijkteam-zuid",
                                     person_id=world["person"], source_ref="zuid-1") == 1
        assert _members(_ask(client, world["noord"], world["person"])) == [NOORD]
        answer = _ask(client, world["noord"], world["person"], ended="true")
        assert _members(answer) == [NOORD, ZUID]
        assert set(answer.json()["participant"][1]["period"]) == {"start", "end"}

    def test_the_answer_is_logged_as_a_disclosure(self, client: TestClient, world: dict,
                                                  sessions: sessionmaker[Session]) -> None:
        _ask(client, world["noord"], world["person"])
        with sessions() as session:
            entry = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.action == "who-else-helps")).one()
        assert (entry.kind, entry.outcome, entry.activity_id, entry.legal_basis,
                entry.actor_id, entry.recipient, entry.recipient_role, entry.categories) == (
            "disclosure", "ok", "who-else-helps", "6.1.e", "demo-wijkteam-noord",
            "wijkteam-noord", "wijkteam", "involvement")
        assert entry.subject is not None and BSN not in entry.subject


class TestUninvolvedCaller:
    def test_same_refusal_for_a_known_and_an_unknown_person(
            self, client: TestClient, world: dict, sessions: sessionmaker[Session]) -> None:
        before = row_counts(sessions)
        known = _ask(client, "school-klimop", world["person"])
        unknown = _ask(client, "school-klimop", "00000000-0000-0000-0000-000000000000")
        assert (known.status_code, unknown.status_code) == (403, 403)
        assert known.json() == unknown.json()
        assert "not involved" in known.json()["issue"][0]["diagnostics"]
        with sessions() as session:
            denials = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.kind == "denial")).all()
        assert [(d.action, d.outcome) for d in denials] == [("who-else-helps", "denied")] * 2
        assert {k: v for k, v in row_counts(sessions).items() if k != "processing_log"} == {
            k: v for k, v in before.items() if k != "processing_log"}

    def test_an_ended_involvement_no_longer_answers(self, client: TestClient, world: dict,
                                                    sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            close_involvement(session, organization="wijkteam-zuid", person_id=world["person"],
                              source_ref="zuid-1")
        assert _ask(client, "zuid-registratie", world["person"]).status_code == 403

    def test_a_role_the_activity_does_not_answer_is_refused(
            self, client: TestClient, world: dict, sessions: sessionmaker[Session]) -> None:
        _open(sessions, "ura:90000401", world["person"], "school-1")
        answer = _ask(client, "school-klimop", world["person"])
        assert answer.status_code == 403
        assert "role" in answer.json()["issue"][0]["diagnostics"]


class TestAskedByBsn:
    """A GP's system knows the resident by BSN only: it asks on Patient without an id."""

    def _by_bsn(self, client: TestClient, headers: dict[str, str], bsn: str,
                **params: str) -> Any:
        return client.get("/fhir/Patient/$who-else-helps", headers=headers, params={
            "identifier": f"http://fhir.nl/fhir/NamingSystem/bsn|{bsn}", **params})

    def test_a_gp_that_referred_learns_who_helps(self, client: TestClient, gp: dict,
                                                 world: dict) -> None:
        sent = client.post("/fhir/ServiceRequest", json=service_request(bsn=BSN),
                           headers={**gp, **FHIR})
        assert sent.status_code == 201, sent.text
        answer = self._by_bsn(client, gp, BSN)
        assert answer.json()["subject"] == {"reference": f"Patient/{world['person']}"}
        named = {m["identifier"]["value"] for m in _members(answer)}
        assert named == {"wijkteam-noord", "wijkteam-zuid", "demo-huisarts"}  # no VT, no GGZ
        assert _members(self._by_bsn(client, gp, BSN, ended="true"))

    def test_an_unknown_bsn_is_the_refusal_of_an_uninvolved_caller(
            self, client: TestClient, gp: dict, world: dict,
            sessions: sessionmaker[Session]) -> None:
        unknown = self._by_bsn(client, gp, VALID_BSNS[3])
        uninvolved = self._by_bsn(client, gp, BSN)
        assert (unknown.status_code, uninvolved.status_code) == (403, 403)
        assert unknown.json() == uninvolved.json()
        assert VALID_BSNS[3] not in unknown.text
        with sessions() as session:
            denials = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.kind == "denial")).all()
        assert len(denials) == 2 and all(d.subject for d in denials)  # pseudonyms

    @pytest.mark.parametrize(("params", "element"), [
        ({}, "identifier"),
        ({"identifier": "http://fhir.nl/fhir/NamingSystem/bsn|123456789"}, "identifier"),
        ({"identifier": "urn:oid:2.16.840.1.113883.2.4.6.3|111222333"}, "identifier"),
        ({"identifier": "111222333"}, "identifier"),
        ({"identifier": "http://fhir.nl/fhir/NamingSystem/bsn|111222333", "ended": "x"},
         "ended"),
        ({"identifier": "http://fhir.nl/fhir/NamingSystem/bsn|111222333", "name": "x"},
         "name")])
    def test_bad_parameters_are_a_400_naming_them(self, client: TestClient, gp: dict,
                                                  params: dict, element: str) -> None:
        answer = client.get("/fhir/Patient/$who-else-helps", headers=gp, params=params)
        assert answer.status_code == 400, answer.text
        assert answer.json()["issue"][0]["expression"] == [element]
        assert "123456789" not in answer.text and "111222333" not in answer.text


class TestSensitiveInvolvements:
    def test_hidden_without_a_basis_leaving_no_trace(self, client: TestClient,
                                                     world: dict) -> None:
        """The same answer as for a resident whom Veilig Thuis and GGZ do not help."""
        hidden = _ask(client, world["noord"], world["person"]).json()
        assert [p["member"] for p in hidden["participant"]] == [NOORD, ZUID]
        assert "90000201" not in str(hidden) and "90000301" not in str(hidden)

    def test_sensitive_care_shown_with_consent_for_the_asking_team(
            self, client: TestClient, world: dict) -> None:
        recorded = client.post("/fhir/Consent", headers={**world["noord"], **FHIR},
                               json=consent_resource(f"Patient/{world['person']}",
                                                     activity="who-else-helps-sensitive",
                                                     organization="wijkteam-noord"))
        assert recorded.status_code == 201, recorded.text
        assert _members(_ask(client, world["noord"], world["person"])) == [NOORD, ZUID,
                                                                          GGZ_REF]
        assert _members(_ask(client, "zuid-registratie", world["person"])) == [NOORD, ZUID]

    def test_veilig_thuis_shown_to_veilig_thuis_only(self, client: TestClient, world: dict,
                                                     sessions: sessionmaker[Session]) -> None:
        _open(sessions, VT_OTHER_REGION, world["person"], "vt-zuid-1")
        other_region = _members(_ask(client, "veilig-thuis-zuid", world["person"]))
        assert VT_REF in other_region and GGZ_REF not in other_region
        assert VT_REF not in _members(_ask(client, "ggz-de-brug", world["person"]))

    def test_an_organisation_always_sees_itself(self, client: TestClient,
                                                world: dict) -> None:
        assert _members(_ask(client, "ggz-de-brug", world["person"])) == [NOORD, ZUID, GGZ_REF]


class TestHousehold:
    """Group/{id}/$who-else-helps: an answer per member the caller helps, nobody else's."""

    @pytest.fixture
    def household(self, client: TestClient, world: dict,
                  sessions: sessionmaker[Session]) -> str:
        """The world's resident (helped by noord) and a son helped by zuid, and by noord
        only while it registered the household."""
        son = involve(client, OTHER_BSN, "wijkteam-zuid")
        _open(sessions, "wijkteam-noord", son.removeprefix("Patient/"), "intake-son")
        created = client.post("/fhir/Group", headers={**world["noord"], **FHIR}, json={
            "resourceType": "Group", "type": "person", "actual": True, "member": [
                {"entity": {"reference": f"Patient/{world['person']}"},
                 "extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "parent"}]},
                {"entity": {"reference": son},
                 "extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "child"}]}]})
        assert created.status_code == 201, created.text
        with sessions.begin() as session:
            close_involvement(session, organization="wijkteam-noord",
                              person_id=son.removeprefix("Patient/"), source_ref="intake-son")
        return created.json()["id"]

    def _ask(self, client: TestClient, client_id: str, group_id: str) -> Any:
        return client.get(f"/fhir/Group/{group_id}/$who-else-helps",
                          headers=bearer(client, client_id))

    def test_only_the_members_the_caller_helps(self, client: TestClient, world: dict,
                                               household: str) -> None:
        answer = self._ask(client, "demo-wijkteam-noord", household).json()
        assert (answer["resourceType"], answer["type"]) == ("Bundle", "collection")
        assert [(e["resource"]["subject"]["reference"],
                 [p["member"] for p in e["resource"]["participant"]])
                for e in answer["entry"]] == [(f"Patient/{world['person']}", [NOORD, ZUID])]

    def test_a_caller_helping_no_member_gets_the_unknown_groups_refusal(
            self, client: TestClient, household: str) -> None:
        known = self._ask(client, "school-klimop", household)
        unknown = self._ask(client, "school-klimop", "no-such-group")
        assert (known.status_code, unknown.status_code) == (403, 403)
        assert known.json() == unknown.json()


class TestOpenAndClose:
    """Adapters open and close involvements with the cases their systems register."""

    def test_open_is_idempotent_per_case_and_logged_once(
            self, world: dict, sessions: sessionmaker[Session]) -> None:
        first = _open(sessions, "wijkteam-zuid", world["person"], "zuid-2")
        again = _open(sessions, "wijkteam-zuid", world["person"], "zuid-2")
        with sessions() as session:
            rows = session.scalars(select(Involvement).where(
                Involvement.source_ref == "zuid-2")).all()
            opened = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.action == "involvement.opened")).all()
        assert (first, [r.id for r in rows]) == (again, [first])
        assert len(opened) == 4  # the world's three and this one

    def test_close_is_idempotent_and_a_reopened_case_starts_anew(
            self, world: dict, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            closes = [close_involvement(session, organization="wijkteam-zuid",
                                        person_id=world["person"], source_ref="zuid-1")
                      for _ in range(2)]
        reopened = _open(sessions, "wijkteam-zuid", world["person"], "zuid-1")
        with sessions() as session:
            rows = session.scalars(select(Involvement).where(
                Involvement.source_ref == "zuid-1").order_by(Involvement.started_at)).all()
            closed = session.scalars(select(ProcessingLogEntry).where(
                ProcessingLogEntry.action == "involvement.closed")).all()
        assert closes == [1, 0] and len(closed) == 1
        assert [r.ended_at is None for r in rows] == [False, True]
        assert rows[1].id == reopened

    def test_sensitivity_from_the_source_or_the_organisations_role(
            self, world: dict, sessions: sessionmaker[Session]) -> None:
        start = utcnow() - timedelta(days=3)
        explicit = _open(sessions, "wijkteam-zuid", world["person"], "zuid-3",
                         sensitivity="sensitive-care", start=start)
        with sessions() as session:
            by_ref = {r.source_ref: r for r in session.scalars(select(Involvement))}
        assert {ref: by_ref[ref].sensitivity for ref in ("zuid-1", "vt-1", "ggz-1")} == {
            "zuid-1": "none", "vt-1": "veilig-thuis", "ggz-1": "sensitive-care"}
        assert (by_ref["zuid-3"].id, by_ref["zuid-3"].sensitivity,
                by_ref["zuid-3"].started_at) == (explicit, "sensitive-care", start)


class TestBadInput:
    @pytest.mark.parametrize(("params", "element"), [
        ({"ended": "maybe"}, "ended"), ({"status": "active"}, "status"),
        ({"_pretty": "yes"}, "_pretty")])
    def test_named_in_a_400(self, client: TestClient, world: dict, params: dict,
                            element: str) -> None:
        answer = _ask(client, world["noord"], world["person"], **params)
        assert answer.status_code == 400
        assert answer.json()["issue"][0]["expression"] == [element]

    def test_an_unknown_sensitivity_is_a_422(self, world: dict,
                                             sessions: sessionmaker[Session]) -> None:
        with pytest.raises(Unprocessable) as raised, sessions.begin() as session:
            open_involvement(session, organization="wijkteam-zuid", person_id=world["person"],
                             source="fake", source_ref="zuid-9", registered_by="fake",
                             sensitivity="secret")
        assert raised.value.issues[0].expression == "sensitivity"
