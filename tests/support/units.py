"""The youth dossier and the adult records of one team, connected through the gateway: each
reads the other's trajectories (``EpisodeOfCare``) from its feed, in its own format."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from adapters.zcd.document import NAMESPACE
from gateway.auth.scopes import SCOPE_SUBSCRIPTION_WRITE, adapter_scope
from gateway.cli.demo_data import demo_secret
from tests.adapters.test_zcd import GEZIN, MOTHER, bericht, xml
from tests.conftest import add_test_client, bearer
from tests.support.flows import post_consent
from tests.support.samples import consent_resource

YOUTH, ADULTS = "jeugd-noord", "volwassenen-noord"
ZUID = "zuid-jeugd"  # the youth system of wijkteam-zuid, which helps no one of the household
XML, JSON = "application/xml", "application/json"
Z = {"zcd": NAMESPACE}


def child_case(case_id: str) -> str:
    """The youth unit opens a case on the child's upbringing (opvoeding)."""
    return bericht("<zcd:casusOpenen><zcd:persoon><zcd:lokaalId>k-7</zcd:lokaalId>"
                   f"</zcd:persoon><zcd:casusId>{case_id}</zcd:casusId>"
                   "<zcd:begindatum>2026-11-10</zcd:begindatum>"
                   "<zcd:leefgebied>opvoeding</zcd:leefgebied>"
                   "<zcd:casusregisseur><zcd:medewerker>jeugd-7</zcd:medewerker>"
                   "<zcd:organisatie>wijkteam-noord</zcd:organisatie></zcd:casusregisseur>"
                   "</zcd:casusOpenen>", f"m-{case_id}")


def client_message(message_id: str) -> dict[str, Any]:
    return {"berichtId": message_id, "soort": "client", "client": {
        "clientnummer": "C-1", "bsn": MOTHER,
        "huishouden": {"huishoudnummer": "HH-77", "rol": "ouder"}}}


def mother_of(units: Units) -> str:
    """The mother as the adult records register her: ``Patient/{id}``."""
    return str(units.menscentraal({"berichtId": "a-0", "soort": "client", "client": {
        "clientnummer": "C-1", "bsn": MOTHER}})["person"])


def debt(message_id: str, number: str, **changes: str) -> dict[str, Any]:
    return {"berichtId": message_id, "soort": "traject", "traject": {
        "trajectnummer": number, "client": {"clientnummer": "C-1"}, "domein": "financien",
        "status": "open", "start": "2026-06-01", **changes}}


class Units:
    """The youth dossier and the adult records of wijkteam-noord, each reading its feed of
    trajectories (``EpisodeOfCare``), and the team system that records consent."""

    def __init__(self, client: TestClient, team: dict[str, str]) -> None:
        self.client, self.team = client, team
        self.youth, self.adults = bearer(client, YOUTH), bearer(client, ADULTS)
        self.read = {YOUTH: None, ADULTS: None}  # each feed's cursor

    def zcd(self, body: str) -> dict[str, Any]:
        sent = self.client.post("/adapters/zcd/messages", content=xml(body),
                                headers={**self.youth, "Content-Type": XML})
        assert sent.status_code in (200, 201), sent.text
        return sent.json()

    def menscentraal(self, message: dict[str, Any]) -> dict[str, Any]:
        sent = self.client.post("/adapters/menscentraal/messages", content=json.dumps(message),
                                headers={**self.adults, "Content-Type": JSON})
        assert sent.status_code in (200, 201), sent.text
        return sent.json()

    def news(self, unit: str) -> list[Any]:
        """The notices new in the unit's feed since it last read."""
        system, headers = ("zcd", self.youth) if unit == YOUTH else ("menscentraal", self.adults)
        params = {"after": self.read[unit]} if self.read[unit] else {}
        page = self.client.get(f"/adapters/{system}/feed", params=params, headers=headers)
        assert page.status_code == 200, page.text
        self.read[unit] = page.json()["next"]
        return [entry["notice"] for entry in page.json()["entries"]]

    def household_with_debt(self) -> str:
        """The youth dossier's household; the adult records register the mother in it and
        open her debt trajectory T-1 (message ids a-0 to a-2). Returns ``Patient/{id}``."""
        self.zcd(GEZIN)
        self.menscentraal(client_message("a-1"))
        mother = mother_of(self)
        self.menscentraal(debt("a-2", "T-1"))
        return mother

    def consent(self, patient: str, performer: str, role: str) -> dict[str, Any]:
        given = post_consent(self.client, self.team, consent_resource(
            patient, performer=performer, activity="trajectory-sharing", role=role))
        assert given.status_code == 201, given.text
        return given.json()


def connect_units(client: TestClient, team: dict[str, str],
                  sessions: sessionmaker[Session]) -> Units:
    """Both units' systems of wijkteam-noord, each subscribed to trajectories by feed."""
    with sessions.begin() as session:
        for client_id, system, role in ((YOUTH, "zcd", "wijkteam-jeugd"),
                                        (ADULTS, "menscentraal", "wijkteam-volwassenen")):
            add_test_client(session, client_id,
                            [adapter_scope(system), SCOPE_SUBSCRIPTION_WRITE],
                            client_id=client_id, secret=demo_secret(client_id),
                            team_id="wijkteam-noord", system=system, role=role)
    units = Units(client, team)
    for headers in (units.youth, units.adults):
        subscribed = client.post("/fhir/Subscription", headers=headers, json={
            "resourceType": "Subscription", "status": "requested", "criteria": "EpisodeOfCare",
            "reason": "the other unit's trajectories", "channel": {"type": "message"}})
        assert subscribed.status_code == 201, subscribed.text
    return units


def zuid_youth(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    """wijkteam-zuid's youth system (``ZUID``), subscribed to trajectories by feed: its
    headers."""
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
