"""Issue 13's proof: a household registered in the youth dossier (XML) and its mother
registered by the adult records (JSON) are one person in one household, with the involvements
of both units; each unit's trajectories reach the other only as consent allows, in the other's
own format, checked against its schema; a revoked consent stops the next delivery."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters import get_adapter
from gateway.platform.db.models import (
    HouseholdIdentifier,
    HouseholdRow,
    Involvement,
    OutboxMessage,
    Person,
    ProcessingLogEntry,
)
from tests.adapters.test_zcd import GEZIN, MOTHER, OPEN
from tests.support.units import (
    ADULTS,
    YOUTH,
    Units,
    Z,
    child_case,
    client_message,
    debt,
)


def test_one_household_one_mother_two_units(units: Units,
                                            sessions: sessionmaker[Session]) -> None:
    household = units.zcd(GEZIN)["household"]
    units.zcd(OPEN)
    assert units.zcd(GEZIN)["household"] == household
    assert units.menscentraal(client_message("a-1"))["household"] == household  # joined, not new
    units.menscentraal(debt("a-2", "T-1"))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(HouseholdRow)) == 1
        assert session.scalar(select(func.count()).select_from(Person).where(
            Person.bsn == MOTHER)) == 1
        assert sorted(session.scalars(select(HouseholdIdentifier.value))) == ["HH-77", "h-1"]
        assert sorted((i.source, i.source_ref) for i in session.scalars(select(Involvement))) \
            == [("menscentraal", "traject/T-1"), ("zcd", "c-1")]


def test_the_mothers_debt_reaches_the_youth_dossier_only_with_her_consent(
        units: Units, sessions: sessionmaker[Session]) -> None:
    mother = units.household_with_debt()
    assert units.news(YOUTH) == []  # no consent: withheld, and the denial is logged
    with sessions() as session:
        denied = session.scalars(select(ProcessingLogEntry).where(
            ProcessingLogEntry.activity_id == "trajectory-sharing")).all()
        assert [(e.kind, e.recipient_role) for e in denied] == [("denial", "wijkteam-jeugd")]

    units.consent(mother, mother, "wijkteam-jeugd")  # the trajectory that waited goes now
    units.menscentraal(debt("a-3", "T-2", start="2026-11-20"))  # and the next one
    notices = units.news(YOUTH)
    assert [_traject(notice) for notice in notices] == [{
        "trajectId": _traject(notice)["trajectId"], "status": "open",
        "persoonId": mother.removeprefix("Patient/"), "bsn": MOTHER,
        "organisatie": "wijkteam-noord", "leefgebied": "financien", "begindatum": start}
        for notice, start in zip(notices, ("2026-06-01", "2026-11-20"), strict=True)]
    assert units.news(ADULTS) == []  # never echoed to the system that sent it


def _traject(notice: str) -> dict[str, str | None]:
    """A youth dossier notice, checked against its own XSD: its traject's elements."""
    get_adapter("zcd").check_outbound(notice.encode())
    traject = etree.fromstring(notice.encode()).find("zcd:traject", Z)
    return {child.tag.rpartition("}")[2]: child.text for child in traject}


def test_the_childs_upbringing_never_reaches_the_adult_records_without_a_basis(
        units: Units) -> None:
    registered = units.zcd(GEZIN)
    units.menscentraal(client_message("a-1"))
    units.menscentraal(debt("a-2", "T-1"))  # the adult unit now helps the household
    child = units.zcd(child_case("c-2"))["person"]
    assert units.news(ADULTS) == []
    mother, father = registered["authority"]
    units.consent(child, mother, "wijkteam-volwassenen")
    assert units.news(ADULTS) == []  # one holder of parental authority is not enough

    units.consent(child, father, "wijkteam-volwassenen")  # both: the case goes now
    [notice] = units.news(ADULTS)
    get_adapter("menscentraal").check_outbound(notice)  # the adult records' JSON Schema
    assert notice["soort"] == "traject"
    assert {k: v for k, v in notice["traject"].items() if k != "trajectId"} == {
        "status": "open", "client": {"persoonId": child.removeprefix("Patient/"),
                                     "bsn": "999999990"},
        "organisatie": "wijkteam-noord", "domeinen": ["opvoeding"], "start": "2026-11-10"}


def test_a_revoked_consent_stops_the_next_delivery(units: Units,
                                                   sessions: sessionmaker[Session]) -> None:
    mother = units.household_with_debt()  # the adult unit helps her: it may ask her
    given = units.consent(mother, mother, "wijkteam-jeugd")
    units.menscentraal(debt("a-3", "T-2"))  # queued in the youth feed, permitted
    revoked = units.client.put(f"/fhir/Consent/{given['id']}", headers=units.team,
                               json={**given, "status": "inactive"})
    assert revoked.status_code == 200, revoked.text
    assert units.news(YOUTH) == []  # decided again as it is read: withheld now
    units.menscentraal(debt("a-4", "T-2", status="gesloten", einde="2026-11-30"))
    assert units.news(YOUTH) == []  # and the next one is not queued at all
    with sessions() as session:
        assert list(session.scalars(select(OutboxMessage.status).order_by(
            OutboxMessage.id))) == ["withheld"] * 3
