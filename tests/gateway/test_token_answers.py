"""The token endpoint answers a failed client authentication one way, whatever failed, after
the same work: the answer does not tell which client ids exist or were revoked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.auth import clients
from gateway.auth.clients import revoke_client
from gateway.cli.demo_data import demo_secret
from tests.conftest import OTHER_GP

FORM = {"grant_type": "client_credentials"}
PER_REQUEST = {"x-request-id", "x-correlation-id", "traceparent"}
EXPECTED_BODY = b'{"error":"invalid_client","error_description":"client authentication failed"}'
ATTEMPTS = {
    "unknown client": ("nobody-at-all", "some-secret"),
    "wrong secret": ("demo-huisarts", "not-the-secret"),
    "revoked client": (OTHER_GP, demo_secret(OTHER_GP)),
}


@pytest.fixture
def revoked(seeded: None, sessions) -> None:  # noqa: ANN001
    with sessions.begin() as session:
        revoke_client(session, OTHER_GP)


def _answer(client: TestClient, auth: tuple[str, str]) -> tuple[int, bytes, dict[str, str]]:
    response = client.post("/oauth/token", data=FORM, auth=auth)
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST}
    return response.status_code, response.content, headers


@pytest.mark.usefixtures("revoked")
def test_unknown_client_wrong_secret_and_revoked_client_get_one_answer(
        client: TestClient) -> None:
    answers = {name: _answer(client, auth) for name, auth in ATTEMPTS.items()}
    status, body, headers = answers["wrong secret"]
    assert (status, body) == (401, EXPECTED_BODY)
    assert headers["www-authenticate"] == ('Basic error="invalid_client", '
                                           'error_description="client authentication failed"')
    assert answers["unknown client"] == answers["wrong secret"]
    assert answers["revoked client"] == answers["wrong secret"]
    without = client.post("/oauth/token", data=FORM)
    assert (without.status_code, without.content) == (401, EXPECTED_BODY)


@pytest.mark.usefixtures("revoked")
@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_every_failure_hashes_one_secret(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                         attempt: str) -> None:
    hashed: list[str] = []
    real = clients.hash_secret

    def counting(secret: str) -> str:
        hashed.append(secret)
        return real(secret)

    monkeypatch.setattr(clients, "hash_secret", counting)
    assert _answer(client, ATTEMPTS[attempt])[0] == 401
    assert hashed == [ATTEMPTS[attempt][1]]
