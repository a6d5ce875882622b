"""A youth dossier's household message names who holds parental authority over each child: a
claim of a system whose team has no say over a child waits for an administrator's review
(docs/households.md, "Who may claim authority"); confirmed it is recorded, refused never; the
rest of the message stands."""

from __future__ import annotations

import io
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gateway.platform.db.models import RelatedPersonRow
from tests.adapters.test_zcd import CHILD, GEZIN, MOTHER, bericht, lid, xml
from tests.conftest import bearer, row_counts
from tests.support.units import (
    ADULTS,
    ZUID,
    Units,
    child_case,
    client_message,
    debt,
    zuid_youth,
)

STRANGER, NEW_CHILD = "999998456", "999990019"


def _claim(message_id: str = "z-1", child: str = CHILD) -> str:
    """A household of a stranger and the child, the stranger holding authority."""
    return bericht(
        "<zcd:gezin><zcd:gezinId>z-h</zcd:gezinId>"
        + lid(1, f"<zcd:bsn>{STRANGER}</zcd:bsn><zcd:geboortedatum>1970-01-01"
                 "</zcd:geboortedatum>", "ouder")
        + lid(2, f"<zcd:bsn>{child}</zcd:bsn><zcd:geboortedatum>2019-05-06"
                 "</zcd:geboortedatum>", "kind", "<zcd:gezagdrager>1</zcd:gezagdrager>")
        + "</zcd:gezin>", message_id)


def _send(client: TestClient, headers: dict[str, str], body: str) -> dict[str, Any]:
    sent = client.post("/adapters/zcd/messages", content=xml(body),
                       headers={**headers, "Content-Type": "application/xml"})
    assert sent.status_code in (200, 201), sent.text
    return dict(sent.json())


def _resolve(client: TestClient, review: str, resolution: str) -> httpx.Response:
    return client.post(f"/identity/reviews/{review.removeprefix('IdentityReview/')}/resolve",
                       headers=bearer(client, "demo-beheer"),
                       json={"resolution": resolution, "comment": "Gebeld met beide teams"})


def _helped_child(units: Units) -> tuple[str, list[str]]:
    """wijkteam-noord's family: both parents hold authority over the child; the adult unit
    helps the mother, the youth unit the child. The child (``Patient/{id}``) and the
    holders (``RelatedPerson/{id}``)."""
    holders = units.zcd(GEZIN)["authority"]
    units.menscentraal(client_message("a-1"))
    units.menscentraal(debt("a-2", "T-1"))
    return units.zcd(child_case("c-2"))["person"], holders


def _waiting(client: TestClient) -> list[dict[str, Any]]:
    """The authority reviews open (the admin's list: the sender, who helps no one there,
    is not told of them)."""
    return [review for review in client.get("/identity/reviews", headers=bearer(
        client, "demo-beheer")).json()["reviews"] if review["fact"] == "parental-authority"]


def _parents_consent(units: Units, child: str, holders: list[str]) -> None:
    for holder in holders:
        units.consent(child, holder, "wijkteam-volwassenen")
    units.news(ADULTS)


class TestAClaimWithoutASay:
    def test_it_waits_for_review_and_the_rest_of_the_message_stands(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session],
            log_stream: io.StringIO) -> None:
        child, _ = _helped_child(units)
        zuid = zuid_youth(client, sessions)
        before = row_counts(sessions)
        answer = _send(client, zuid, _claim())
        [named] = answer["authority"]  # the id it will have: told as if recorded (no oracle)
        assert answer["reviews"] == []
        after = row_counts(sessions)
        assert (after["related_persons"], after["household_members"],
                after["identity_reviews"]) == (before["related_persons"],
                                              before["household_members"] + 2,
                                              before["identity_reviews"] + 1)
        [review] = _waiting(client)
        assert {k: review[k] for k in ("kind", "fact", "patient", "known", "claimed",
                                       "source", "sender")} == {
            "kind": "conflict", "fact": "parental-authority", "patient": child,
            "known": None, "claimed": named, "source": answer["household"], "sender": ZUID}
        assert review["candidate"].startswith("Patient/")
        said = log_stream.getvalue()
        assert CHILD not in said and STRANGER not in said

    def test_sent_again_it_names_the_same_review(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        _helped_child(units)
        zuid = zuid_youth(client, sessions)
        _send(client, zuid, _claim())
        [review] = _waiting(client)
        _send(client, zuid, _claim("z-2"))
        assert _waiting(client) == [review]

    def test_confirmed_the_stranger_holds_authority_from_then_on(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        child, holders = _helped_child(units)
        _parents_consent(units, child, holders)
        [named] = _send(client, zuid_youth(client, sessions), _claim())["authority"]
        [review] = _waiting(client)
        units.zcd(child_case("c-3"))
        assert len(units.news(ADULTS)) == 1  # the parents' consent is the child's
        confirmed = _resolve(client, review["id"], "holds-authority")
        assert confirmed.status_code == 200, confirmed.text
        assert (confirmed.json()["status"], confirmed.json()["released"]) == ("resolved", 0)
        holder = confirmed.json()["authority"]
        assert holder == named
        with sessions() as session:
            row = session.get(RelatedPersonRow, holder.removeprefix("RelatedPerson/"))
            assert (row.client_id, row.representation, row.person_id) == (
                ZUID, "parental-authority", child.removeprefix("Patient/"))
        units.zcd(child_case("c-4"))
        assert units.news(ADULTS) == []  # a third holder now, who did not consent
        units.consent(child, holder, "wijkteam-volwassenen")
        assert len(units.news(ADULTS)) == 1

    def test_refused_it_never_counts_nor_comes_back(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        child, holders = _helped_child(units)
        _parents_consent(units, child, holders)
        zuid = zuid_youth(client, sessions)
        [named] = _send(client, zuid, _claim())["authority"]
        [review] = _waiting(client)
        refused = _resolve(client, review["id"], "no-authority")
        assert (refused.status_code, refused.json()["released"]) == (200, 0), refused.text
        assert "authority" not in refused.json()
        before = row_counts(sessions)
        again = _send(client, zuid, _claim("z-2"))
        assert (again["authority"], again["reviews"], _waiting(client)) == ([named], [], [])
        assert row_counts(sessions)["related_persons"] == before["related_persons"]
        assert row_counts(sessions)["identity_reviews"] == before["identity_reviews"]
        units.zcd(child_case("c-3"))
        assert len(units.news(ADULTS)) == 1

    def test_a_first_claim_over_a_child_another_team_helps_waits_too(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        """No holder yet, but the youth unit helps the child: a stranger would be the only
        one to speak for them."""
        units.zcd(child_case("c-1").replace("<zcd:lokaalId>k-7</zcd:lokaalId>",
                                            f"<zcd:bsn>{CHILD}</zcd:bsn><zcd:geboortedatum>"
                                            "2019-05-06</zcd:geboortedatum>"))
        answer = _send(client, zuid_youth(client, sessions), _claim())
        [review] = _waiting(client)
        assert answer["authority"] == [review["claimed"]]

    def test_a_resolution_of_another_kind_is_refused(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        _helped_child(units)
        _send(client, zuid_youth(client, sessions), _claim())
        [review] = _waiting(client)
        refused = _resolve(client, review["id"], "known-is-right")
        assert refused.status_code == 422, refused.text
        assert refused.json()["issue"][0]["expression"] == ["resolution"]
        birth_date = units.menscentraal({"berichtId": "a-9", "soort": "client", "client": {
            "clientnummer": "C-1", "bsn": MOTHER, "geboortedatum": "1990-01-01"}})["reviews"]
        assert _resolve(client, birth_date[0], "holds-authority").status_code == 422


class TestAClaimWithASay:
    def test_a_team_that_helps_the_child_records_it_at_once(
            self, client: TestClient, units: Units) -> None:
        _helped_child(units)
        answer = units.zcd(_claim())
        assert (len(answer["authority"]), answer["reviews"]) == (1, [])

    def test_a_team_that_helps_someone_in_the_childs_household_records_it_at_once(
            self, units: Units) -> None:
        """The team's adult unit helps the mother, who lives with the child: what its youth
        dossier says of the child's parents counts."""
        units.zcd(GEZIN)
        units.menscentraal(client_message("a-1"))
        units.menscentraal(debt("a-2", "T-1"))
        answer = units.zcd(_claim())
        assert (len(answer["authority"]), answer["reviews"]) == (1, [])

    def test_a_first_claim_over_a_child_no_one_helps_is_the_familys_registration(
            self, client: TestClient, units: Units, sessions: sessionmaker[Session]) -> None:
        answer = _send(client, zuid_youth(client, sessions), _claim(child=NEW_CHILD))
        assert (len(answer["authority"]), answer["reviews"]) == (1, [])
