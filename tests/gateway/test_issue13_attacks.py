"""Red team, issue 13: a trajectory reaches only the team systems that help the household,
as consent allows, never a sensitive or justice one; no side channel tells an outsider it
exists; the youth dossier's XML and the adult records' JSON answer odd input with a 4xx that
echoes no personal data."""

# ruff: noqa: F811 (the fixtures imported from the suites they attack are parameters here)
from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import SCOPE_SUBSCRIPTION_WRITE, adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.platform.db.models import OutboxMessage, SubscriptionRow
from tests.adapters.test_zcd import CHILD, FATHER, GEZIN, MOTHER, bericht, lid, xml
from tests.conftest import add_test_client, bearer
from tests.support.units import ADULTS, YOUTH, Units, child_case, client_message, debt

ZUID = "zuid-jeugd"  # the youth system of wijkteam-zuid


def _zuid(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    """wijkteam-zuid's youth system, subscribed to trajectories by feed."""
    with sessions.begin() as session:
        add_test_client(session, ZUID, [adapter_scope("zcd"), SCOPE_SUBSCRIPTION_WRITE],
                        client_id=ZUID, secret=demo_secret(ZUID), team_id="wijkteam-zuid",
                        system="zcd", role="wijkteam-jeugd")
    headers = bearer(client, ZUID)
    subscribed = client.post("/fhir/Subscription", headers=headers, json={
        "resourceType": "Subscription", "status": "requested", "criteria": "EpisodeOfCare",
        "reason": "trajectories", "channel": {"type": "message"}})
    assert subscribed.status_code == 201, subscribed.text
    return headers


def _feed(client: TestClient, headers: dict[str, str], system: str = "zcd") -> Any:
    page = client.get(f"/adapters/{system}/feed", headers=headers)
    assert page.status_code == 200, page.text
    return page.json()


def _zcd(client: TestClient, headers: dict[str, str], body: str) -> Any:
    return client.post("/adapters/zcd/messages", content=xml(body),
                       headers={**headers, "Content-Type": "application/xml"})


def _statuses(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


def _gezin(father_leaves: str = "") -> str:
    """The household of the mother, the father (who may have left) and their child."""
    return bericht(
        "<zcd:gezin><zcd:gezinId>h-1</zcd:gezinId>"
        + lid(1, f"<zcd:bsn>{MOTHER}</zcd:bsn>", "ouder")
        + lid(2, f"<zcd:bsn>{FATHER}</zcd:bsn><zcd:geboortedatum>1986-10-12"
                 "</zcd:geboortedatum>", "ouder",
              f"<zcd:einddatum>{father_leaves}</zcd:einddatum>" if father_leaves else "")
        + lid(3, f"<zcd:bsn>{CHILD}</zcd:bsn><zcd:lokaalId>k-7</zcd:lokaalId>"
                 "<zcd:geboortedatum>2019-05-06</zcd:geboortedatum>", "kind",
              "<zcd:gezagdrager>1</zcd:gezagdrager>")
        + "</zcd:gezin>", "g-1")


class TestWhoHears:
    @pytest.mark.parametrize("left", ["", "2026-01-01"])
    def test_a_parent_who_moved_out_is_out_of_the_circle(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session],
            left: str) -> None:
        """wijkteam-zuid helps the child; the father's debt reaches it only while he lives
        with the child, consent or not."""
        zuid = _zuid(client, sessions)
        units.zcd(_gezin(left))
        opened = _zcd(client, zuid, child_case("z-1").replace(
            "<zcd:lokaalId>k-7</zcd:lokaalId>", f"<zcd:bsn>{CHILD}</zcd:bsn>"))
        assert opened.status_code == 201, opened.text
        father = units.menscentraal({"berichtId": "f-1", "soort": "client", "client": {
            "clientnummer": "C-2", "bsn": FATHER}})["person"]
        for message_id, number in (("f-2", "T-5"), ("f-3", "T-6")):
            units.menscentraal({**debt(message_id, number), "traject": {
                **debt(message_id, number)["traject"], "client": {"clientnummer": "C-2"}}})
            if number == "T-5":  # the adult unit helps him now: it may record his consent
                units.consent(father, father, "wijkteam-jeugd")
        assert len(_feed(client, zuid)["entries"]) == (0 if left else 1)

    def test_a_parent_without_authority_does_not_consent_for_the_child(
            self, units: Units) -> None:
        """Only the mother holds authority: the father's word is not the child's."""
        registered = units.zcd(_gezin())
        units.menscentraal(client_message("a-1"))
        units.menscentraal(debt("a-2", "T-1"))  # the adult unit helps the household
        child = units.zcd(child_case("c-2"))["person"]
        father = units.menscentraal({"berichtId": "f-1", "soort": "client", "client": {
            "clientnummer": "C-2", "bsn": FATHER}})["person"]
        refused = units.client.post("/fhir/Consent", headers=units.team, json={
            **_trajectory_consent(child, father)})
        assert refused.status_code in (403, 422), refused.text
        units.zcd(child_case("c-3"))
        assert units.news(ADULTS) == []
        [mother] = registered["authority"]
        units.consent(child, mother, "wijkteam-volwassenen")
        units.zcd(child_case("c-4"))
        assert len(units.news(ADULTS)) == 1  # the one who holds authority may

    def test_the_same_change_under_a_new_message_id_is_not_told_twice(
            self, units: Units) -> None:
        """A trajectory opened or closed again under a new message id is no news (it was:
        fixed, gateway.outbox.repository.already_told)."""
        mother = units.household_with_debt()
        units.consent(mother, mother, "wijkteam-jeugd")
        for message_id in ("a-3", "a-4"):
            units.menscentraal(debt(message_id, "T-2"))
        for message_id in ("a-5", "a-6"):
            units.menscentraal(debt(message_id, "T-2", status="gesloten", einde="2026-11-30"))
        assert len(units.news(YOUTH)) == 2

    def test_a_withheld_trajectory_opened_again_after_consent_stays_withheld(
            self, units: Units) -> None:
        mother = units.household_with_debt()
        units.consent(mother, mother, "wijkteam-jeugd")
        units.menscentraal(debt("a-3", "T-1"))  # T-1 was withheld, before her consent
        assert units.news(YOUTH) == []

    def test_a_case_marked_sensitive_when_opened_again_is_not_told_again(
            self, units: Units) -> None:
        units.household_with_debt()
        registered = units.zcd(GEZIN)
        child = units.zcd(child_case("c-5"))["person"]
        for holder in registered["authority"]:
            units.consent(child, holder, "wijkteam-volwassenen")
        units.zcd(child_case("c-6"))
        assert len(units.news(ADULTS)) == 1
        units.zcd(child_case("c-6").replace("m-c-6", "m-c-6b").replace(
            "</zcd:begindatum>", "</zcd:begindatum><zcd:gevoeligheid>gevoelige-zorg"
            "</zcd:gevoeligheid>"))
        assert units.news(ADULTS) == []

    def test_a_justice_domain_withholds_the_whole_trajectory(self, units: Units) -> None:
        """Debts and justice in one trajectory: whole or not at all, so not at all."""
        mother = units.household_with_debt()
        units.consent(mother, mother, "wijkteam-jeugd")
        both = debt("a-3", "T-2")
        both["traject"]["domein"] = "financien"
        both["traject"]["domeinen"] = ["financien", "justitie"]
        sent = units.client.post("/adapters/menscentraal/messages", content=json.dumps(both),
                                 headers={**units.adults, "Content-Type": "application/json"})
        if sent.status_code == 400:  # the schema has one domain: try the youth dossier's way
            units.zcd(_gezin())
            units.consent(mother, mother, "wijkteam-volwassenen")
            units.zcd(bericht(
                f"<zcd:casusOpenen><zcd:persoon><zcd:bsn>{MOTHER}</zcd:bsn></zcd:persoon>"
                "<zcd:casusId>j-1</zcd:casusId><zcd:begindatum>2026-11-10</zcd:begindatum>"
                "<zcd:leefgebied>financien</zcd:leefgebied>"
                "<zcd:leefgebied>justitie</zcd:leefgebied>"
                "<zcd:casusregisseur><zcd:medewerker>jeugd-7</zcd:medewerker>"
                "<zcd:organisatie>wijkteam-noord</zcd:organisatie></zcd:casusregisseur>"
                "</zcd:casusOpenen>", "m-j-1"))
        assert units.news(YOUTH) == [] and units.news(ADULTS) == []


class TestSideChannels:
    def test_an_outsider_learns_nothing_from_its_subscription_or_feed(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        zuid = _zuid(client, sessions)
        before = _feed(client, zuid)
        with sessions() as session:
            url = f"/fhir/Subscription/{session.scalar(select(SubscriptionRow.id))}"
        subscription = client.get(url, headers=zuid)
        units.household_with_debt()
        assert _feed(client, zuid) == before
        again = client.get(url, headers=zuid)
        assert (again.status_code, again.json()) == (subscription.status_code,
                                                     subscription.json())

    @pytest.mark.parametrize("criteria", ["EpisodeOfCare?patient=Patient/x",
                                          f"EpisodeOfCare?patient.identifier={MOTHER}"])
    def test_a_subscription_cannot_name_a_patient(
            self, client: TestClient, sessions: sessionmaker[Session], criteria: str) -> None:
        zuid = _zuid(client, sessions)
        refused = client.post("/fhir/Subscription", headers=zuid, json={
            "resourceType": "Subscription", "status": "requested", "criteria": criteria,
            "reason": "x", "channel": {"type": "message"}})
        assert refused.status_code in (400, 422), refused.text
        assert MOTHER not in refused.text

    def test_a_system_reads_no_other_systems_feed(self, client: TestClient,
                                                  units: Units) -> None:
        assert client.get("/adapters/menscentraal/feed", headers=units.youth).status_code \
            == 403

    def test_no_personal_data_in_the_log_or_metrics(
            self, client: TestClient, units: Units, log_stream: io.StringIO) -> None:
        mother = units.household_with_debt()
        units.consent(mother, mother, "wijkteam-jeugd")
        units.menscentraal(debt("a-3", "T-2"))
        units.news(YOUTH)
        said = log_stream.getvalue() + client.get("/metrics").text
        for value in (MOTHER, FATHER, CHILD, "Jansen", "Anna", "Pietje", "1234AB"):
            assert value not in said


ANNA = {"clientnummer": "C-9", "bsn": MOTHER, "achternaam": "Jansen", "voornamen": "Anna",
        "postcode": "1234AB"}
BAD_BSN = "123456789"


def _client_body(**changes: Any) -> bytes:
    return json.dumps({"berichtId": "x-1", "soort": "client",
                       "client": {**ANNA, **changes}}).encode()


class TestAdultRecordsInput:
    @pytest.mark.parametrize("body", [
        _client_body(bsn=BAD_BSN),
        _client_body(bsn=int(MOTHER)),
        _client_body(voornamen=["Anna"]),
        _client_body(geboortedatum="1988-02-30"),
        _client_body(geboortedatum="0000-01-01"),
        _client_body(geboortedatum="9999-12-31"),
        _client_body(huishouden={"huishoudnummer": "HH-1", "rol": "ouder",
                                 "sinds": "1988-13-01"}),
        b'{"berichtId": "x-1", "soort": "client", "client": {"clientnummer": "C-9", '
        b'"bsn": "' + MOTHER.encode() + b'", "achternaam": "\\ud800Jansen"}}',
        b'{"berichtId": "x-1", "soort": "client", "client": {"clientnummer": 1' + b"0" * 5000
        + b', "bsn": "' + MOTHER.encode() + b'"}}',
        b'{"berichtId": "x-1", "soort": "client", "client": {"clientnummer": "C-9", '
        b'"bsn": "' + MOTHER.encode() + b'", "geboortedatum": 1e999}}',
        b'{"berichtId": "x-1", "soort": "client", "client": ' + b"[" * 5000 + b"]" * 5000
        + b"}",
        b'{"berichtId": "x-1", "soort": "traject", "traject": {"trajectnummer": "T", '
        b'"client": {"clientnummer": "C-9", "bsn": "' + MOTHER.encode()
        + b'"}, "domein": "financien", "status": "open", "start": "2026-01-01", '
        b'"einde": "2025-01-01"}}',
    ], ids=["elfproef", "number", "array", "feb-30", "year-0", "future", "month-13",
            "surrogate", "huge-int", "huge-float", "deep", "ends-before-start"])
    def test_odd_input_is_a_4xx_that_echoes_nothing(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session],
            log_stream: io.StringIO, body: bytes) -> None:
        """(A BSN as a number crashed the schema's format check: fixed, it is a 400.)"""
        answer = client.post("/adapters/menscentraal/messages", content=body,
                             headers={**units.adults, "Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500, answer.text
        for value in (MOTHER, BAD_BSN, "Jansen", "Anna", "1234AB"):
            assert value not in answer.text and value not in log_stream.getvalue()

    def test_a_duplicate_key_is_not_read_two_ways(self, client: TestClient,
                                                  units: Units) -> None:
        """A validator in front that keeps the first ``soort`` and the gateway that keeps
        the last must not read two messages out of one body."""
        body = (b'{"berichtId": "x-1", "soort": "client", "client": {"clientnummer": "C-9"},'
                b' "soort": "traject"}')
        answer = client.post("/adapters/menscentraal/messages", content=body,
                             headers={**units.adults, "Content-Type": "application/json"})
        assert answer.status_code == 400, answer.text


def _trajectory_consent(patient: str, performer: str) -> dict[str, Any]:
    from tests.support.samples import consent_resource

    return consent_resource(patient, performer=performer, activity="trajectory-sharing",
                            role="wijkteam-volwassenen")

