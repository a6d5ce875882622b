"""The acting person: a system names the worker it acts for by token exchange (RFC 8693),
only people and roles registered for it, and every log entry records them."""

from __future__ import annotations

import csv
import io
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey
from sqlalchemy import select

from gateway.auth.actors import ActorRegistrationError, add_actor
from gateway.auth.bearer import Actor
from gateway.auth.clients import add_client
from gateway.auth.scopes import SCOPE_SERVICE_REQUEST_READ
from gateway.auth.token_exchange import (
    GRANT_TOKEN_EXCHANGE,
    TOKEN_TYPE_ACCESS,
    TOKEN_TYPE_JWT,
    exchange_form,
)
from gateway.cli.demo_data import demo_secret
from gateway.platform.db.models import ProcessingLogEntry
from tests.conftest import BASE_URL, bearer
from tests.support.samples import service_request

TOKEN_URL = BASE_URL + "/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GP, GP_ACTOR = "demo-huisarts", Actor("huisarts-1", "gp")
TEAM, TEAM_ACTOR = "demo-wijkteam-noord", Actor("medewerker-1", "worker", "adult")


def _exchange(client: TestClient, client_id: str, form: dict[str, str]):  # noqa: ANN202
    return client.post("/oauth/token", data=form, auth=(client_id, demo_secret(client_id)))


def _system_token(client: TestClient, client_id: str) -> dict[str, str]:
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client_id, demo_secret(client_id)))
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class TestExchange:
    def test_the_token_names_the_person_and_the_system(self, client: TestClient) -> None:
        response = _exchange(client, TEAM, exchange_form(TEAM, demo_secret(TEAM), TEAM_ACTOR,
                                                         TOKEN_URL))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["issued_token_type"] == TOKEN_TYPE_ACCESS
        keys = KeySet.import_key_set(client.get("/oauth/jwks").json())
        claims = jwt.decode(body["access_token"], keys).claims
        assert (claims["sub"], claims["act"], claims["client_id"]) == (
            "medewerker-1", {"sub": TEAM}, TEAM)
        assert (claims["acting_role"], claims["acting_unit"]) == ("worker", "adult")

    @pytest.mark.parametrize("actor,words", [
        (Actor("medewerker-2", "worker", "adult"), "not registered to act"),
        (Actor("medewerker-1", "team-leader", "adult"), "not registered to act"),
        (Actor("medewerker-1", "worker", "youth"), "not registered to act"),
        (Actor("huisarts-1", "gp"), "not registered to act"),  # another system's person
    ])
    def test_only_registered_people_and_roles(self, client: TestClient, actor: Actor,
                                              words: str) -> None:
        response = _exchange(client, TEAM, exchange_form(TEAM, demo_secret(TEAM), actor,
                                                         TOKEN_URL))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
        assert words in response.json()["error_description"]

    def _subject(self, key: object, alg: str = "HS256", **change: object) -> str:
        now = int(time.time())
        claims = {"iss": TEAM, "sub": "medewerker-1", "aud": TOKEN_URL, "exp": now + 60,
                  "role": "worker", **change}
        return jwt.encode({"alg": alg}, {k: v for k, v in claims.items() if v is not None},
                          key)

    @pytest.mark.parametrize("change,description", [
        ({"iss": GP}, f"the subject token has a wrong iss: it must be the client id, {TEAM}"),
        ({"aud": "https://elders.example"},  # made for another base URL: say which one
         f"the subject token has a wrong aud: it must be the token endpoint URL, {TOKEN_URL}"),
        ({"exp": int(time.time()) - 120}, "the subject token has expired (exp)"),
        ({"role": None}, "the subject token lacks role"),
        ({"sub": None}, "the subject token lacks sub"),
        ({"exp": int(time.time()) + 3600}, "the subject token lives too long: at most 10 "
         "minutes, as it names a person for this one exchange"),
    ])
    def test_a_bad_subject_token_is_invalid_grant(self, client: TestClient, change: dict,
                                                  description: str) -> None:
        subject = self._subject(OctKey.import_key(demo_secret(TEAM)), **change)
        response = _exchange(client, TEAM, {"grant_type": GRANT_TOKEN_EXCHANGE,
                                            "subject_token_type": TOKEN_TYPE_JWT,
                                            "subject_token": subject})
        assert (response.status_code, response.json()["error"],
                response.json()["error_description"]) == (400, "invalid_grant", description)

    def test_a_subject_token_signed_with_another_secret_is_refused(
            self, client: TestClient) -> None:
        subject = self._subject(OctKey.import_key(demo_secret(GP)), aud="https://x.example")
        response = _exchange(client, TEAM, {"grant_type": GRANT_TOKEN_EXCHANGE,
                                            "subject_token_type": TOKEN_TYPE_JWT,
                                            "subject_token": subject})
        assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
        assert response.json()["error_description"] == (  # unsigned claims are not judged
            "the subject token is not valid: a JWT signed as the client authenticates, with "
            "iss, sub, aud, exp and role")

    @pytest.mark.parametrize("form", [
        {"subject_token_type": "urn:ietf:params:oauth:token-type:saml2"},
        {"actor_token": "x", "actor_token_type": TOKEN_TYPE_JWT},
    ])
    def test_unsupported_parameters_are_invalid_request(self, client: TestClient,
                                                        form: dict) -> None:
        base = exchange_form(TEAM, demo_secret(TEAM), TEAM_ACTOR, TOKEN_URL)
        response = _exchange(client, TEAM, {**base, **form})
        assert (response.status_code, response.json()["error"]) == (400, "invalid_request")

    def test_a_private_key_jwt_client_signs_with_its_key(self, client: TestClient,
                                                         sessions) -> None:  # noqa: ANN001
        key = ECKey.generate_key("P-256", private=True)
        key.ensure_kid()
        with sessions.begin() as session:
            row, _ = add_client(session, "Praktijk met sleutel", [SCOPE_SERVICE_REQUEST_READ],
                                public_jwks=KeySet([key]).as_dict(private=False))
            add_actor(session, row.id, "dokter-2", "gp")
        now = int(time.time())
        assertion = jwt.encode({"alg": "ES256", "kid": key.kid}, {
            "iss": row.id, "sub": row.id, "aud": TOKEN_URL, "exp": now + 60, "iat": now,
            "jti": uuid.uuid4().hex}, key)
        subject = jwt.encode({"alg": "ES256", "kid": key.kid}, {
            "iss": row.id, "sub": "dokter-2", "aud": TOKEN_URL, "exp": now + 60,
            "role": "gp"}, key)
        response = client.post("/oauth/token", data={
            "grant_type": GRANT_TOKEN_EXCHANGE, "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion, "subject_token_type": TOKEN_TYPE_JWT,
            "subject_token": subject})
        assert response.status_code == 200, response.text


class TestRequired:
    def test_residents_data_needs_the_acting_person(self, client: TestClient) -> None:
        system = {**_system_token(client, GP), "Content-Type": "application/fhir+json"}
        response = client.post("/fhir/ServiceRequest", json=service_request(), headers=system)
        assert response.status_code == 403
        assert "names the worker" in response.json()["issue"][0]["diagnostics"]
        assert response.json()["issue"][0]["expression"] == ["Authorization"]

    def test_no_residents_data_no_acting_person_needed(self, client: TestClient) -> None:
        response = client.get("/fhir/Organization", headers=_system_token(client, GP))
        assert response.status_code == 200


def test_every_entry_of_a_request_names_the_acting_person(
        client: TestClient, gp: dict, sessions) -> None:  # noqa: ANN001
    assert client.post("/fhir/ServiceRequest", json=service_request(),
                       headers=gp).status_code == 201
    with sessions() as session:
        entries = session.scalars(select(ProcessingLogEntry)).all()
    assert {(e.action, e.actor_id, e.acting_person, e.acting_role, e.acting_unit)
            for e in entries} == {("referral.received", GP, "huisarts-1", "gp", None)}


@pytest.mark.parametrize("actor_id,role,unit,words", [
    ("Jan de Vries", "worker", None, "not a name"),
    ("w-1\n", "worker", None, "not a name"),
    ("w-1", "boss", None, "role must be one of"),
    ("w-1", "worker", "elderly", "unit must be one of"),
])
def test_bad_actor_registrations(sessions, seeded, actor_id: str, role: str,  # noqa: ANN001
                                 unit: str | None, words: str) -> None:
    with sessions.begin() as session, pytest.raises(ActorRegistrationError, match=words):
        add_actor(session, TEAM, actor_id, role, unit)


def test_privacy_officers_see_the_acting_person(client: TestClient, gp: dict) -> None:
    """In the API's entries, the CSV export and the FHIR AuditEvent export."""
    assert client.post("/fhir/ServiceRequest", json=service_request(),
                       headers=gp).status_code == 201
    officer = bearer(client, "demo-privacy-officer")
    entries = client.get("/audit/entries?kind=write", headers=officer).json()["entries"]
    assert [e["actor"] for e in entries] == [{"type": "client", "id": GP, "person": "huisarts-1",
                                              "role": "gp", "unit": None}]
    rows = list(csv.DictReader(io.StringIO(client.get("/audit/entries.csv?kind=write",
                                                      headers=officer).text)))
    assert [(r["actor_id"], r["acting_person"], r["acting_role"]) for r in rows] == [
        (GP, "huisarts-1", "gp")]
    bsn = service_request()["subject"]["identifier"]["value"]
    bundle = client.get(f"/fhir/AuditEvent?patient={bsn}", headers=officer).json()
    agents = [a for e in bundle["entry"] for a in e["resource"]["agent"]
              if a["type"]["text"] == "gp"]
    assert [a["who"]["identifier"]["value"] for a in agents] == ["huisarts-1"]


@pytest.mark.parametrize("path", ["/.well-known/smart-configuration",
                                  "/fhir/.well-known/smart-configuration"])
def test_discovery_names_both_grants_at_the_root_and_the_fhir_base(client: TestClient,
                                                                   path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["grant_types_supported"] == ["client_credentials",
                                                        GRANT_TOKEN_EXCHANGE]
    assert response.json()["token_endpoint"] == TOKEN_URL
