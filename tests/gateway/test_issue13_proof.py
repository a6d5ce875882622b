"""Issue 13's proof, as far as it stands: a household registered in the youth dossier (XML)
and its mother registered by the adult records (JSON) are one person in one household, with
the involvements of both units."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.platform.db.models import HouseholdIdentifier, HouseholdRow, Involvement, Person
from tests.adapters.test_zcd import GEZIN, MOTHER, OPEN, xml
from tests.conftest import add_test_client, bearer


def test_one_household_one_mother_two_units(client: TestClient,
                                            sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for client_id, system in (("jeugd-noord", "zcd"), ("volwassenen-noord", "menscentraal")):
            add_test_client(session, client_id, [adapter_scope(system)], client_id=client_id,
                            secret=demo_secret(client_id), team_id="wijkteam-noord",
                            system=system)
    youth, adults = bearer(client, "jeugd-noord"), bearer(client, "volwassenen-noord")
    for body in (GEZIN, OPEN):
        sent = client.post("/adapters/zcd/messages", content=xml(body),
                           headers={**youth, "Content-Type": "application/xml"})
        assert sent.status_code == 201, sent.text
    household = client.post("/adapters/zcd/messages", content=xml(GEZIN),
                            headers={**youth, "Content-Type": "application/xml"}
                            ).json()["household"]
    for message in (
            {"berichtId": "a-1", "soort": "client", "client": {
                "clientnummer": "C-1", "bsn": MOTHER,
                "huishouden": {"huishoudnummer": "HH-77", "rol": "ouder"}}},
            {"berichtId": "a-2", "soort": "traject", "traject": {
                "trajectnummer": "T-1", "client": {"clientnummer": "C-1"},
                "domein": "financien", "status": "open", "start": "2026-06-01"}}):
        sent = client.post("/adapters/menscentraal/messages", content=json.dumps(message),
                           headers={**adults, "Content-Type": "application/json"})
        assert sent.status_code == 201, sent.text
        if message["soort"] == "client":
            assert sent.json()["household"] == household  # joined, not a second one
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(HouseholdRow)) == 1
        assert session.scalar(select(func.count()).select_from(Person).where(
            Person.bsn == MOTHER)) == 1
        assert sorted(session.scalars(select(HouseholdIdentifier.value))) == ["HH-77", "h-1"]
        assert sorted((i.source, i.source_ref) for i in session.scalars(select(Involvement))) \
            == [("menscentraal", "traject/T-1"), ("zcd", "c-1")]
