"""The adult records (MensCentraal-style) at ``POST /adapters/menscentraal/messages``: a client
is a person, a trajectory an involvement of the adult team, a provision request involves the
team while it stands; a message failing the JSON Schema is a 400 naming each pointer, and
changes nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.involvements.service import months_after
from gateway.platform.db.models import Involvement
from gateway.platform.db.types import utcnow
from tests.conftest import add_test_client, bearer, row_counts
from tests.support.samples import VALID_BSNS

URL = "/adapters/menscentraal/messages"
RECORDS = "menscentraal-noord"  # the adult unit's records system, for wijkteam-noord
CLIENT = {"clientnummer": "mc-1", "bsn": VALID_BSNS[0], "achternaam": "Jansen",
          "voornamen": "Anna", "geboortedatum": "1988-03-04", "postcode": "1234AB"}
REF = {"clientnummer": "mc-1", "bsn": VALID_BSNS[0]}


@pytest.fixture
def records(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions.begin() as session:
        add_test_client(session, "Volwassenen registratie", [adapter_scope("menscentraal")],
                        client_id=RECORDS, secret=demo_secret(RECORDS),
                        team_id="wijkteam-noord", system="menscentraal")
    return bearer(client, RECORDS)


def _send(client: TestClient, headers: dict[str, str], message: dict[str, Any]) -> Any:
    return client.post(URL, content=json.dumps(message),
                       headers={**headers, "Content-Type": "application/json"})


def _involvements(sessions: sessionmaker[Session]) -> list[tuple[str, str, bool]]:
    with sessions() as session:
        return [(i.organization, i.source_ref, i.ended_at is None) for i in session.scalars(
            select(Involvement).where(Involvement.source == "menscentraal")
            .order_by(Involvement.source_ref))]


def test_a_client_and_its_trajectory(client: TestClient, records: dict[str, str],
                                     sessions: sessionmaker[Session]) -> None:
    person = _send(client, records, {"berichtId": "m-1", "soort": "client", "client": CLIENT})
    assert (person.status_code, sorted(person.json())) == (
        201, ["kind", "message", "person", "reviews"]), person.text
    trajectory = {"trajectnummer": "t-1", "client": REF, "domein": "financien",
                  "status": "open", "start": "2026-06-01"}
    opened = _send(client, records, {"berichtId": "m-2", "soort": "traject",
                                     "traject": trajectory})
    assert opened.json()["person"] == person.json()["person"]
    assert _involvements(sessions) == [("wijkteam-noord", "traject/t-1", True)]
    closed = _send(client, records, {"berichtId": "m-3", "soort": "traject", "traject": {
        **trajectory, "status": "gesloten", "einde": "2026-11-30"}})
    assert (closed.status_code, closed.json()["closed"]) == (201, 1)
    assert _involvements(sessions) == [("wijkteam-noord", "traject/t-1", False)]


def test_a_provision_request_involves_the_team_while_it_stands(
        client: TestClient, records: dict[str, str], sessions: sessionmaker[Session]) -> None:
    request = {"aanvraagnummer": "a-1", "client": REF, "voorziening": "schuldhulpverlening",
               "status": "aangevraagd", "datum": "2026-11-02"}
    asked = _send(client, records, {"berichtId": "m-1", "soort": "voorzieningaanvraag",
                                    "aanvraag": request})
    assert (asked.status_code, asked.json()["status"]) == (201, "requested"), asked.text
    granted = _send(client, records, {"berichtId": "m-2", "soort": "voorzieningaanvraag",
                                      "aanvraag": {**request, "status": "toegekend"}})
    assert granted.json()["involvement"] == asked.json()["involvement"]
    assert _involvements(sessions) == [("wijkteam-noord", "provision/a-1", True)]
    withdrawn = _send(client, records, {"berichtId": "m-3", "soort": "voorzieningaanvraag",
                                        "aanvraag": {**request, "status": "ingetrokken"}})
    assert (withdrawn.json()["status"], withdrawn.json()["closed"]) == ("withdrawn", 1)
    assert _involvements(sessions) == [("wijkteam-noord", "provision/a-1", False)]


def test_a_message_failing_the_schema_is_a_400_naming_each_pointer(
        client: TestClient, records: dict[str, str], sessions: sessionmaker[Session]) -> None:
    before = row_counts(sessions)
    answer = _send(client, records, {"berichtId": "m-1", "soort": "traject", "traject": {
        "trajectnummer": "t-1", "client": {"bsn": "123456789"}, "domein": "pedagogiek",
        "status": "open", "start": "2026-06-01T00:00:00Z"}})
    assert answer.status_code == 400, answer.text
    assert [i["expression"] for i in answer.json()["issue"]] == [
        ["/traject/client/bsn"], ["/traject/client/clientnummer"], ["/traject/domein"],
        ["/traject/start"]]
    assert answer.headers["X-Wijkgateway-Stage"] == "parse"
    assert "123456789" not in answer.text
    assert row_counts(sessions) == before


def test_a_replay_changes_nothing(client: TestClient, records: dict[str, str],
                                  sessions: sessionmaker[Session]) -> None:
    message = {"berichtId": "m-1", "soort": "client", "client": CLIENT}
    first = _send(client, records, message)
    counts = row_counts(sessions)
    again = _send(client, records, message)
    assert (again.status_code, again.json()) == (200, first.json())
    assert row_counts(sessions) == counts


def test_the_schemas_are_published(client: TestClient) -> None:
    """Public, as the API's description is: a system's builders validate before they send."""
    answer = client.get("/adapters/menscentraal/schemas/bericht.schema.json")
    assert answer.headers["content-type"].startswith("application/schema+json")
    assert answer.json() == get_adapter_schema("bericht.schema.json")
    unknown = client.get("/adapters/menscentraal/schemas/parse.py")
    assert unknown.status_code == 404
    assert "bericht.schema.json" in unknown.json()["issue"][0]["diagnostics"]
    assert client.get("/adapters/menscentraal/schemas/..%2F__init__.py").status_code == 404


def get_adapter_schema(name: str) -> Any:
    path = Path(__file__).parents[2] / "adapters" / "menscentraal" / "schema" / name
    return json.loads(path.read_text())


def test_trajectories_open_past_six_months_are_listed_for_review(
        client: TestClient, records: dict[str, str], sessions: sessionmaker[Session]) -> None:
    """The adult unit's own limit: listed, never refused; closed trajectories, provision
    requests and younger trajectories are not."""
    today = utcnow().date()
    old, young = (today - timedelta(days=200)).isoformat(), (today - timedelta(days=20)).isoformat()
    for number, start, status in (("T-old", old, "open"), ("T-young", young, "open"),
                                  ("T-closed", old, "gesloten")):
        trajectory = {"trajectnummer": number, "client": REF, "domein": "huisvesting",
                      "status": status, "start": start,
                      **({"einde": young} if status == "gesloten" else {})}
        assert _send(client, records, {"berichtId": f"m-{number}", "soort": "traject",
                                       "traject": trajectory}).status_code == 201
    _send(client, records, {"berichtId": "m-a", "soort": "voorzieningaanvraag", "aanvraag": {
        "aanvraagnummer": "A-1", "client": REF, "voorziening": "rolstoel",
        "status": "aangevraagd", "datum": old}})
    answer = client.get("/adapters/menscentraal/reviews-due", headers=records)
    assert answer.status_code == 200, answer.text
    [due] = answer.json()["due"]
    assert (answer.json()["reviewAfterMonths"], due["case"], due["start"]) == (
        6, "traject/T-old", old)
    assert date.fromisoformat(due["reviewDue"]) <= today
    assert client.get("/adapters/menscentraal/reviews-due").status_code == 401


@pytest.mark.parametrize(("start", "months", "due"), [
    (date(2026, 8, 31), 6, date(2027, 2, 28)), (date(2027, 8, 31), 6, date(2028, 2, 29)),
    (date(2026, 1, 15), 6, date(2026, 7, 15)), (date(2026, 3, 31), -1, date(2026, 2, 28))])
def test_six_months_later_is_the_same_day_or_the_months_last(start: date, months: int,
                                                            due: date) -> None:
    assert months_after(start, months) == due


def test_a_household_number_another_team_holds_is_a_409_naming_it(
        client: TestClient, records: dict[str, str], sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_test_client(session, "Volwassenen zuid", [adapter_scope("menscentraal")],
                        client_id="menscentraal-zuid", secret=demo_secret("menscentraal-zuid"),
                        team_id="wijkteam-zuid", system="menscentraal")
    household = {"huishoudnummer": "HH-1", "rol": "ouder"}
    zuid = _send(client, bearer(client, "menscentraal-zuid"), {
        "berichtId": "z-1", "soort": "client",
        "client": {"clientnummer": "z-9", "bsn": VALID_BSNS[1], "huishouden": household}})
    assert zuid.status_code == 201, zuid.text
    before = row_counts(sessions)
    answer = _send(client, records, {"berichtId": "m-1", "soort": "client",
                                     "client": {**CLIENT, "huishouden": household}})
    assert answer.status_code == 409, answer.text
    [issue] = answer.json()["issue"]
    assert issue["expression"] == ["/client/huishouden/huishoudnummer"]
    assert "HH-1" not in answer.text and VALID_BSNS[0] not in answer.text
    assert row_counts(sessions) == before
