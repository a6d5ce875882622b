"""Merging a probable match: the review resolves by merge or keep-apart; a merge combines the
two persons' consents and involvements for every later decision, shows in audit search and
the access report under both pseudonyms, is logged, and is undone the same way. Bad merges
are 4xx naming the element, and change nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gateway.delivery.worker import Worker
from gateway.identity.matching import identify
from gateway.identity.service import queue_conflict
from gateway.involvements.repository import is_involved
from gateway.involvements.service import open_involvement
from gateway.platform.db.models import OutboxMessage, ProcessingLogEntry, ServiceRequestRow
from gateway.platform.db.types import utcnow
from schemas import Identifier, PersonClaim, local_system
from tests.conftest import bearer, involve, row_counts
from tests.support.flows import post_consent, resident
from tests.support.samples import VALID_BSNS, consent_resource, service_request, subscription
from tests.support.webhooks import WebhookReceiver

BSN = VALID_BSNS[2]
ASK = {"activity": "casusoverleg",
       "recipients": [{"organization": "school-de-regenboog", "role": "casusoverleg-deelnemer"}]}


def _person(sessions: sessionmaker[Session], bsn: str | None, system: str,
            organization: str) -> str:
    """A person as a source system registers them (an adult, same name key, birth date and
    postcode every time), helped by ``organization``; returns the id."""
    claim = PersonClaim(bsn=bsn, local=Identifier(system=local_system(system), value="L-1"),
                        family_name="de Wit", given_name="Samira", birth_date=date(1985, 2, 14),
                        postcode="3511 AB")
    with sessions.begin() as session:
        person = identify(session, claim, client_id="demo-wijkteam-noord",
                          source_ref=f"{system}/L-1").person
        open_involvement(session, organization=organization, person_id=person.id,
                         source="registration", source_ref=f"{system}/case-1",
                         registered_by="demo-wijkteam-noord")
        return person.id


@pytest.fixture
def pair(client: TestClient, sessions: sessionmaker[Session]) -> tuple[str, str]:
    """The known person (BSN, helped by Noord) and a new look-alike without BSN from another
    system (helped by Zuid, and by Noord for its own case): a probable match."""
    known = _person(sessions, BSN, "menscentraal", "wijkteam-noord")
    new = _person(sessions, None, "zcd", "wijkteam-zuid")
    with sessions.begin() as session:
        open_involvement(session, organization="wijkteam-noord", person_id=new,
                         source="registration", source_ref="zcd/case-2",
                         registered_by="demo-wijkteam-noord")
    return known, new


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return bearer(client, "demo-beheer")


def _review(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    [review] = client.get("/identity/reviews", headers=admin).json()["reviews"]
    return review


def _decide(client: TestClient, team: dict[str, str], person: str) -> str:
    response = client.post("/consent/decisions", headers=team,
                           json={**ASK, "patient": f"Patient/{person}"})
    assert response.status_code == 200, response.text
    return response.json()["decision"]


def _involved(sessions: sessionmaker[Session], organization: str, person: str) -> bool:
    with sessions() as session:
        return is_involved(session, organization, person, utcnow())


def _subjects(client: TestClient) -> set[str]:
    officer = bearer(client, "demo-privacy-officer")
    entries = client.get(f"/audit/entries?subject={BSN}&_count=200", headers=officer).json()
    return {e["subject"] for e in entries["entries"]}


def test_a_merge_combines_and_an_undo_restores(client: TestClient, team: dict,
                                               admin: dict, pair: tuple[str, str],
                                               sessions) -> None:  # noqa: ANN001
    known, new = pair
    assert post_consent(client, team, consent_resource(
        f"Patient/{known}", activity="casusoverleg")).status_code == 201
    review = _review(client, admin)
    assert (review["kind"], review["patient"], review["candidate"]) == (
        "probable-match", f"Patient/{new}", f"Patient/{known}")
    assert _decide(client, team, new) == "deny"  # the consent is the known person's
    assert not _involved(sessions, "wijkteam-zuid", known)
    assert len(_subjects(client)) == 1

    resolved = client.post(f"/identity/reviews/{review['id']}/resolve", headers=admin,
                           json={"resolution": "merge", "comment": "Zelfde moeder, ZCD belde"})
    assert resolved.status_code == 200, resolved.text
    merge_id = resolved.json()["merge"]
    assert _decide(client, team, new) == "permit"  # a later decision sees both
    assert _involved(sessions, "wijkteam-zuid", known)
    assert len(_subjects(client)) == 2  # audit search: both pseudonyms
    officer = bearer(client, "demo-privacy-officer")
    report = client.get(f"/audit/access-report?patient={BSN}", headers=officer).json()
    assert {"identity.merged", "identity.probable_match_queued"} <= {
        e["action"] for e in report["other"]}
    assert [c["activity"] for c in report["consents"]] == ["casusoverleg"]
    [shown] = client.get(f"/identity/merges?patient=Patient/{new}", headers=admin).json()[
        "merges"]
    assert (shown["survivor"], shown["merged"], shown["status"]) == (
        f"Patient/{known}", f"Patient/{new}", "in-force")

    undone = client.post(f"/identity/merges/{merge_id}/undo", headers=admin,
                         json={"comment": "Toch twee personen"})
    assert (undone.status_code, undone.json()["status"]) == (200, "undone")
    assert _decide(client, team, new) == "deny"
    assert not _involved(sessions, "wijkteam-zuid", known)
    assert len(_subjects(client)) == 1
    again = client.post(f"/identity/merges/{merge_id}/undo", headers=admin,
                        json={"comment": "nogmaals"})
    assert (again.status_code, again.json()["issue"][0]["expression"]) == (409, ["id"])
    with sessions() as session:
        logged = session.scalars(sa.select(ProcessingLogEntry.action).where(
            ProcessingLogEntry.action.in_(("identity.merged", "identity.unmerged")))).all()
    assert sorted(logged) == ["identity.merged"] * 2 + ["identity.unmerged"] * 2  # both persons


def test_keep_apart_changes_nothing_but_the_review(client: TestClient, team: dict,
                                                   admin: dict, pair: tuple[str, str],
                                                   sessions) -> None:  # noqa: ANN001
    known, new = pair
    review = _review(client, admin)
    before = row_counts(sessions)
    kept = client.post(f"/identity/reviews/{review['id']}/resolve", headers=admin,
                       json={"resolution": "keep-apart", "comment": "Andere Samira"})
    assert (kept.status_code, kept.json()["resolution"]) == (200, "keep-apart")
    after = row_counts(sessions)
    assert after["person_merges"] == before["person_merges"] == 0
    assert not _involved(sessions, "wijkteam-zuid", known)


@pytest.mark.parametrize("resolution", ["known-is-right", "different-person"])
def test_a_probable_match_takes_only_its_own_resolutions(
        client: TestClient, admin: dict, pair: tuple[str, str], sessions,
        resolution: str) -> None:  # noqa: ANN001
    _wrong_kind(client, admin, sessions, _review(client, admin)["id"], resolution)


def test_a_conflict_is_not_merged(client: TestClient, admin: dict, pair: tuple[str, str],
                                  sessions) -> None:  # noqa: ANN001
    known, _ = pair
    with sessions.begin() as session:
        conflict = queue_conflict(session, person_id=known, fact="birth_date",
                                  known="1985-02-14", claimed="1985-03-14",
                                  source_ref="zcd/L-1", client_id="demo-wijkteam-noord").id
    _wrong_kind(client, admin, sessions, conflict, "merge")


def _wrong_kind(client: TestClient, admin: dict, sessions, review_id: str,
                resolution: str) -> None:  # noqa: ANN001
    before = row_counts(sessions)
    response = client.post(f"/identity/reviews/{review_id}/resolve", headers=admin,
                           json={"resolution": resolution, "comment": "verkeerde soort"})
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["resolution"]
    assert row_counts(sessions) == before


class TestBadMerges:
    def _refused(self, client: TestClient, admin: dict, sessions, body: dict,
                 status: int, expression: str) -> None:  # noqa: ANN001
        before = row_counts(sessions)
        response = client.post("/identity/merges", headers=admin,
                               json={"comment": "Zelfde persoon", **body})
        assert response.status_code == status, response.text
        assert response.json()["issue"][0]["expression"] == [expression]
        assert row_counts(sessions) == before

    def test_a_person_with_itself(self, client: TestClient, admin: dict,
                                  pair: tuple[str, str], sessions) -> None:  # noqa: ANN001
        known, _ = pair
        self._refused(client, admin, sessions, {"survivor": f"Patient/{known}",
                                                "merged": f"Patient/{known}"}, 422, "merged")

    def test_an_already_merged_person(self, client: TestClient, admin: dict,
                                      pair: tuple[str, str], sessions) -> None:  # noqa: ANN001
        known, new = pair
        third = involve(client, VALID_BSNS[3]).removeprefix("Patient/")
        first = client.post("/identity/merges", headers=admin, json={
            "survivor": f"Patient/{known}", "merged": f"Patient/{new}",
            "comment": "Zelfde persoon"})
        assert first.status_code == 201, first.text
        self._refused(client, admin, sessions, {"survivor": f"Patient/{third}",
                                                "merged": f"Patient/{new}"}, 409, "merged")
        self._refused(client, admin, sessions, {"survivor": f"Patient/{new}",
                                                "merged": f"Patient/{third}"}, 409, "survivor")
        self._refused(client, admin, sessions, {"survivor": f"Patient/{third}",
                                                "merged": f"Patient/{known}"}, 409, "merged")

    def test_two_bsns_unknown_and_malformed_persons(self, client: TestClient, admin: dict,
                                                    pair: tuple[str, str],
                                                    sessions) -> None:  # noqa: ANN001
        known, _ = pair
        other = involve(client, VALID_BSNS[3])
        self._refused(client, admin, sessions, {"survivor": f"Patient/{known}",
                                                "merged": other}, 409, "merged")
        self._refused(client, admin, sessions, {"survivor": "Patient/nobody",
                                                "merged": other}, 422, "survivor")
        self._refused(client, admin, sessions, {"survivor": BSN, "merged": other}, 400,
                      "body.survivor")

    def test_unknown_review_and_merge(self, client: TestClient, admin: dict,
                                      sessions) -> None:  # noqa: ANN001
        before = row_counts(sessions)
        response = client.post("/identity/reviews/nope/resolve", headers=admin,
                               json={"resolution": "merge", "comment": "Zelfde persoon"})
        assert (response.status_code, response.json()["issue"][0]["expression"]) == (
            404, ["id"])
        response = client.post("/identity/merges/nope/undo", headers=admin,
                               json={"comment": "Toch niet"})
        assert (response.status_code, response.json()["issue"][0]["expression"]) == (
            404, ["id"])
        assert row_counts(sessions) == before

    def test_only_identity_reviewers(self, client: TestClient, team: dict,
                                     pair: tuple[str, str]) -> None:
        known, new = pair
        response = client.post("/identity/merges", headers=team, json={
            "survivor": f"Patient/{known}", "merged": f"Patient/{new}", "comment": "Zelfde"})
        assert response.status_code == 403


@pytest.mark.parametrize("merged", [True, False])
def test_a_merge_takes_effect_on_a_later_delivery(client: TestClient, gp: dict, team: dict,
                                                  admin: dict, receiver: WebhookReceiver,
                                                  sessions, settings,  # noqa: ANN001
                                                  merged: bool) -> None:
    """A referral about a person without BSN waits for consent; the consent is recorded for
    the person it turns out to be, after the merge: the referral goes out (not without it)."""
    assert client.post("/fhir/Subscription", headers=team, json=subscription(
        receiver.url, "ServiceRequest")).status_code == 201
    resource = service_request(no_bsn=True)
    resource["contained"][0]["birthDate"] = "1985-02-14"
    referral = client.post("/fhir/ServiceRequest", headers=gp, json=resource).json()
    with sessions() as session:
        row = session.get(ServiceRequestRow, referral["id"])
        new = row.person_id
    known = resident(client, team, bsn=BSN)
    if merged:
        assert client.post("/identity/merges", headers=admin, json={
            "survivor": known, "merged": f"Patient/{new}",
            "comment": "Zelfde persoon"}).status_code == 201
    assert post_consent(client, team, consent_resource(known)).status_code == 201
    Worker(sessions, settings, jitter=lambda: 1.0).run_once()
    with sessions() as session:
        [message] = session.scalars(sa.select(OutboxMessage)).all()
    assert message.status == ("delivered" if merged else "withheld")
