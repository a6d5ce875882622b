"""The consent API asks every representative in force: each holder of parental authority of a
child, a parent without authority never; a bewindvoerder for finances only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.identity.matching import identify
from gateway.involvements.service import open_involvement
from gateway.platform.db.models import ConsentRow, RelatedPersonRow
from gateway.platform.db.types import utcnow
from schemas import Identifier, PersonClaim, local_system
from tests.conftest import bearer, row_counts
from tests.support.flows import born, post_consent, resident
from tests.support.samples import (
    BSN,
    VALID_BSNS,
    consent_resource,
    related_person,
    service_request,
)

CHILD_BSN, ADULT_BSN, MOTHER_BSN = VALID_BSNS[2], VALID_BSNS[1], VALID_BSNS[3]
NOORD = {"organization": "wijkteam-noord", "role": "wijkteam"}


def represent(sessions, patient: str, kind: str, *,  # noqa: ANN001
              start: datetime | None = None, end: datetime | None = None,
              bsn: str | None = None) -> str:
    """A representation as a household system registers it (stored directly: the households
    API is tested on its own); returns ``RelatedPerson/{id}``."""
    with sessions.begin() as session:
        row = RelatedPersonRow(person_id=patient.removeprefix("Patient/"), representation=kind,
                               relationship="MTH" if kind == "parental-authority" else None,
                               client_id="demo-wijkteam-noord", period_start=start,
                               period_end=end, bsn=bsn)
        session.add(row)
        session.flush()
        return f"RelatedPerson/{row.id}"


def declared_parent(client: TestClient, team: dict, patient: str) -> str:
    """A parent as a sender declares one today, holding no known authority."""
    response = client.post("/fhir/RelatedPerson", json=related_person(patient), headers=team)
    assert response.status_code == 201, response.text
    return f"RelatedPerson/{response.json()['id']}"


def consent(client: TestClient, team: dict, patient: str, performer: str,
            **kw: Any) -> dict[str, Any]:
    response = post_consent(client, team, consent_resource(patient, performer=performer, **kw))
    assert response.status_code == 201, response.text
    return response.json()


def decision(client: TestClient, team: dict, patient: str,
             activity: str = "gp-referral-to-wijkteam") -> dict[str, Any]:
    response = client.post("/consent/decisions", headers=team, json={
        "activity": activity, "patient": patient, "recipients": [NOORD]})
    assert response.status_code == 200, response.text
    return response.json()["recipients"][0]


class TestChild:
    def test_every_holder_must_consent_and_each_is_recorded_by_name(
            self, client: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
        child = resident(client, team, CHILD_BSN, age=8)
        mother, father = (represent(sessions, child, "parental-authority") for _ in range(2))
        first = consent(client, team, child, mother)
        assert first["performer"] == [{"reference": mother}]
        only_mother = decision(client, team, child)
        assert (only_mother["decision"], "authority-holders" in only_mother["rules"]) == (
            "deny", True)
        assert only_mother["explanation"].endswith("no consent of a holder of parental authority")
        consent(client, team, child, father)
        assert decision(client, team, child)["decision"] == "permit"
        with sessions() as session:
            assert sorted(session.scalars(select(ConsentRow.grantors))) == sorted(
                [mother, father])

    def test_a_revoked_consent_of_one_holder_no_longer_counts(
            self, client: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
        child = resident(client, team, CHILD_BSN, age=8)
        mother = represent(sessions, child, "parental-authority")
        given = consent(client, team, child, mother)
        assert decision(client, team, child)["decision"] == "permit"
        revoked = client.put(f"/fhir/Consent/{given['id']}", headers=team,
                             json={**given, "status": "inactive"})
        assert revoked.status_code == 200, revoked.text
        assert decision(client, team, child)["decision"] == "deny"
        with sessions() as session:
            assert list(session.scalars(select(ConsentRow.grantors))) == [mother, mother]

    def test_one_objecting_parent_denies(self, client: TestClient, team: dict,
                                         sessions) -> None:  # noqa: ANN001
        child = resident(client, team, CHILD_BSN, age=8)
        mother, father = (represent(sessions, child, "parental-authority") for _ in range(2))
        consent(client, team, child, mother)
        consent(client, team, child, father, verdict="deny")
        assert decision(client, team, child)["explanation"].endswith(
            "a holder of parental authority objected")

    def test_a_parent_without_authority_cannot_consent(self, client: TestClient, team: dict,
                                                       sessions) -> None:  # noqa: ANN001
        child = resident(client, team, CHILD_BSN, age=8)
        represent(sessions, child, "parental-authority")
        stepfather = declared_parent(client, team, child)
        before = row_counts(sessions)
        response = post_consent(client, team, consent_resource(child, performer=stepfather))
        assert response.status_code == 422
        issue = response.json()["issue"][0]
        assert issue["expression"] == ["Consent.performer[0]"]
        assert "holds no parental authority" in issue["diagnostics"]
        assert row_counts(sessions) == before

    def test_without_known_authority_a_declared_parent_still_counts(
            self, client: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
        """Today's flow, until a household system registers who holds authority: then only
        the holders count, and the declared parent's consent no longer does."""
        child = resident(client, team, CHILD_BSN, age=8)
        consent(client, team, child, declared_parent(client, team, child))
        unverified = decision(client, team, child)
        assert (unverified["decision"], "authority-unverified" in unverified["rules"]) == (
            "permit", True)
        holder = represent(sessions, child, "parental-authority")
        assert decision(client, team, child)["decision"] == "deny"
        consent(client, team, child, holder)
        assert decision(client, team, child)["decision"] == "permit"

    def test_authority_that_ended_is_not_asked(self, client: TestClient, team: dict,
                                               sessions) -> None:  # noqa: ANN001
        child = resident(client, team, CHILD_BSN, age=8)
        ended = represent(sessions, child, "parental-authority",
                          end=utcnow() - timedelta(days=1))
        consent(client, team, child, declared_parent(client, team, child))
        assert decision(client, team, child)["decision"] == "permit"
        response = post_consent(client, team, consent_resource(child, performer=ended))
        assert response.status_code == 201  # no holder known now: counts as declared


class TestReferral:
    """A GP's referral carries a parent's consent as the GP's system declares the parent."""

    @pytest.mark.parametrize("parent_bsn,verdict", [(MOTHER_BSN, "permit"),
                                                    (ADULT_BSN, "deny"), (None, "deny")])
    def test_a_parent_counts_as_the_holder_their_bsn_names(
            self, client: TestClient, team: dict, gp: dict, sessions,  # noqa: ANN001
            parent_bsn: str | None, verdict: str) -> None:
        child = resident(client, team, CHILD_BSN, age=8)
        represent(sessions, child, "parental-authority", bsn=MOTHER_BSN)
        referral = service_request(bsn=CHILD_BSN, consent="parent", birth_date=born(8))
        parent = next(c for c in referral["contained"] if c["id"] == "parent")
        if parent_bsn:
            parent["identifier"] = [{"system": BSN, "value": parent_bsn}]
        response = client.post("/fhir/ServiceRequest", json=referral, headers=gp)
        assert response.status_code == 201, response.text  # the GP learns nothing either way
        answer = decision(client, team, child)
        assert (answer["decision"], "authority-holders" in answer["rules"]) == (verdict, True)


class TestAdult:
    DEBT = "debt-support"

    def test_a_bewindvoerders_consent_covers_finances_only(
            self, client: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
        adult = resident(client, team, ADULT_BSN, age=45)
        bewind = represent(sessions, adult, "financial-administrator")
        consent(client, team, adult, bewind, activity=self.DEBT)
        answer = decision(client, team, adult, self.DEBT)
        assert (answer["permitted_categories"], "financial-administrator-scope" in
                answer["rules"]) == (["finances"], True)
        consent(client, team, adult, adult, activity=self.DEBT)
        assert decision(client, team, adult, self.DEBT)["permitted_categories"] == [
            "contact", "finances", "identification", "social-situation"]

    @pytest.mark.parametrize("kind,categories", [
        ("financial-administrator", ("contact", "social-situation")),
        ("mentor", ("finances",)),
    ])
    def test_a_consent_outside_the_representatives_scope_is_refused(
            self, client: TestClient, team: dict, sessions, kind: str,  # noqa: ANN001
            categories: tuple[str, ...]) -> None:
        adult = resident(client, team, ADULT_BSN, age=45)
        representative = represent(sessions, adult, kind)
        before = row_counts(sessions)
        response = post_consent(client, team, consent_resource(
            adult, performer=representative, activity=self.DEBT, categories=categories))
        assert response.status_code == 422
        issue = response.json()["issue"][0]
        assert issue["expression"] == ["Consent.provision.code"]
        assert f"a {kind} speaks for" in issue["diagnostics"]
        assert row_counts(sessions) == before

    def test_a_curator_decides_and_the_persons_objection_stands(
            self, client: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
        adult = resident(client, team, ADULT_BSN, age=45)
        curator = represent(sessions, adult, "curator")
        consent(client, team, adult, curator)
        assert decision(client, team, adult)["decision"] == "permit"
        consent(client, team, adult, adult, verdict="deny")
        objected = decision(client, team, adult)
        assert (objected["decision"], "person-objection-stands" in objected["rules"]) == (
            "deny", True)

    def test_a_parent_cannot_consent_for_an_adult(self, client: TestClient, team: dict,
                                                  sessions) -> None:  # noqa: ANN001
        adult = resident(client, team, ADULT_BSN, age=17)
        holder = represent(sessions, adult, "parental-authority")
        response = post_consent(client, team, consent_resource(adult, performer=holder))
        assert response.status_code == 422
        assert "from 16 the person decides alone" in response.json()["issue"][0]["diagnostics"]


def test_a_representation_of_a_merged_record_speaks_for_the_resident(
        client: TestClient, team: dict, sessions) -> None:  # noqa: ANN001
    """Two records of one resident, merged: the curator registered on one decides about the
    other, and a consent recorded on either counts for both."""
    with sessions.begin() as session:
        known, twin = (identify(session, PersonClaim(
            bsn=bsn, local=Identifier(system=local_system(system), value="L-1"),
            family_name="de Wit", given_name="Ans", birth_date=date(1960, 2, 14),
            postcode="3511 AB"),
            client_id="demo-wijkteam-noord", source_ref=f"{system}/L-1").person.id
            for bsn, system in ((ADULT_BSN, "menscentraal"), (None, "zcd")))
        for person in (known, twin):
            open_involvement(session, organization="wijkteam-noord", person_id=person,
                             source="registration", source_ref=f"case-{person}",
                             registered_by="demo-wijkteam-noord")
    curator = represent(sessions, f"Patient/{known}", "curator")
    consent(client, team, f"Patient/{known}", curator)
    assert decision(client, team, f"Patient/{twin}")["decision"] == "deny"
    admin = bearer(client, "demo-beheer")
    [review] = client.get("/identity/reviews", headers=admin).json()["reviews"]
    assert client.post(f"/identity/reviews/{review['id']}/resolve", headers=admin, json={
        "resolution": "merge", "comment": "Zelfde persoon"}).status_code == 200
    merged = decision(client, team, f"Patient/{twin}")
    assert (merged["decision"], "curator-scope" in merged["rules"]) == ("permit", True)
