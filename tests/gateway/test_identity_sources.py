"""One identity across sources: a child without BSN referred by a GP and registered by
another system (the fake registry) is two persons and one probable match in the review queue,
not merged; the same child by BSN in both is one person."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import adapter_scope
from gateway.cli.demo_data import demo_secret
from gateway.platform.db.models import Person, PersonMerge
from tests.conftest import add_test_client, bearer
from tests.support.samples import PATIENT_NAME, VALID_BSNS, service_request

REGISTRY = "fake-registry"
CHILD = {"familyName": "jansen-De  Vries", "givenName": "fatima", "birthDate": "2011-04-03",
         "postcode": "9712 CP"}


@pytest.fixture
def registry(client: TestClient, sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions.begin() as session:
        add_test_client(session, "Fake registry", [adapter_scope("fake")], client_id=REGISTRY,
                        secret=demo_secret(REGISTRY), team_id="wijkteam-zuid", system="fake")
    return {**bearer(client, REGISTRY), "Content-Type": "application/json"}


def _refer(client: TestClient, gp: dict[str, str], **patient: Any) -> None:
    resource = service_request(no_bsn=True)
    resource["contained"][0]["address"][0]["postalCode"] = "9712CP"
    resource["contained"][0].update(patient)
    assert client.post("/fhir/ServiceRequest", headers=gp, json=resource).status_code == 201


def _register(client: TestClient, registry: dict[str, str], person: dict[str, Any]) -> None:
    answer = client.post("/adapters/fake/messages", headers=registry, content=json.dumps(
        {"kind": "register-person", "id": "m-1", "person": person}))
    assert answer.status_code < 300, answer.text


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_child_without_bsn_in_two_systems_is_a_probable_match(
        client: TestClient, gp: dict, registry: dict, sessions) -> None:  # noqa: ANN001
    _refer(client, gp)
    _register(client, registry, {"localId": "zcd-77", **CHILD})
    admin = bearer(client, "demo-beheer")
    [review] = client.get("/identity/reviews", headers=admin).json()["reviews"]
    assert review["kind"] == "probable-match"
    assert _count(sessions, Person) == 2 and _count(sessions, PersonMerge) == 0
    with sessions() as session:
        assert {p.id for p in session.scalars(select(Person))} == {
            review["patient"].removeprefix("Patient/"),
            review["candidate"].removeprefix("Patient/")}
    assert PATIENT_NAME.lower() not in json.dumps(review).lower()


def test_the_same_child_by_bsn_is_one_person(client: TestClient, gp: dict, registry: dict,
                                             sessions) -> None:  # noqa: ANN001
    _refer(client, gp, identifier=[{"system": "http://fhir.nl/fhir/NamingSystem/bsn",
                                    "value": VALID_BSNS[3]}])
    _register(client, registry, {"bsn": VALID_BSNS[3], "localId": "zcd-77", **CHILD})
    assert _count(sessions, Person) == 1
    assert client.get("/identity/reviews", headers=bearer(client, "demo-beheer")).json()[
        "reviews"] == []
