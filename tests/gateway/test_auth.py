"""Token endpoint (client_secret_basic, private_key_jwt) and bearer tokens. The scope matrix per
endpoint is read from the app's routes in ``test_route_scopes.py``."""

from __future__ import annotations

import time
import uuid

import pytest
import time_machine
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from gateway.auth.clients import add_client, revoke_client
from gateway.auth.scopes import SCOPE_TASK_READ
from tests.conftest import BASE_URL, bearer, get_token

TOKEN_URL = f"{BASE_URL}/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class TestClientSecretBasic:
    def test_token_is_an_es256_jwt_with_the_granted_scopes(self, client: TestClient) -> None:
        response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               auth=("demo-huisarts", "demo-huisarts-secret"))
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 900
        assert "system/ServiceRequest.write" in body["scope"].split()
        keys = KeySet.import_key_set(client.get("/oauth/jwks").json())
        claims = jwt.decode(body["access_token"], keys).claims
        assert (claims["iss"], claims["aud"], claims["client_id"]) == \
            (BASE_URL, BASE_URL, "demo-huisarts")

    def test_narrower_scope_on_request(self, client: TestClient) -> None:
        token = get_token(client, "demo-huisarts", scope=SCOPE_TASK_READ)
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/fhir/Task", headers=headers).status_code == 200
        assert client.get("/fhir/ServiceRequest", headers=headers).status_code == 403

    @pytest.mark.parametrize("scope", ["system/Task.write", "system/Everything.read"])
    def test_scope_not_granted_is_invalid_scope(self, scope: str, client: TestClient) -> None:
        response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                     "scope": scope},
                               auth=("demo-huisarts", "demo-huisarts-secret"))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"

    @pytest.mark.parametrize("auth", [("demo-huisarts", "wrong"), ("nobody", "x"), None])
    def test_bad_credentials_are_401(self, auth: tuple | None, client: TestClient) -> None:
        response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               auth=auth)
        assert response.status_code == 401  # RFC 6749 5.2: the client tried to authenticate
        assert response.json()["error"] == "invalid_client"

    def test_other_grant_types_are_refused(self, client: TestClient) -> None:
        response = client.post("/oauth/token", data={"grant_type": "password"},
                               auth=("demo-huisarts", "demo-huisarts-secret"))
        assert response.json()["error"] == "unsupported_grant_type"

    def test_token_request_must_be_a_form(self, client: TestClient) -> None:
        response = client.post("/oauth/token", json={"grant_type": "client_credentials"},
                               auth=("demo-huisarts", "demo-huisarts-secret"))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


@pytest.fixture
def jwt_client(sessions) -> tuple[str, ECKey]:  # noqa: ANN001
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    with sessions.begin() as session:
        row, secret = add_client(session, "Praktijk met sleutel", [SCOPE_TASK_READ],
                                 public_jwks=KeySet([key]).as_dict(private=False))
    assert secret is None
    return row.id, key


def _assertion(client_id: str, key: ECKey, aud: str = TOKEN_URL, jti: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "exp": now + 60, "iat": now,
              "jti": jti or uuid.uuid4().hex}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


class TestPrivateKeyJwt:
    def test_signed_assertion_gets_a_token(self, client: TestClient, jwt_client) -> None:  # noqa: ANN001
        client_id, key = jwt_client
        response = client.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(client_id, key)})
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == SCOPE_TASK_READ

    def test_replayed_assertion_is_refused(self, client: TestClient, jwt_client) -> None:  # noqa: ANN001
        client_id, key = jwt_client
        form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": _assertion(client_id, key, jti="once")}
        assert client.post("/oauth/token", data=form).status_code == 200
        assert client.post("/oauth/token", data=form).json()["error"] == "invalid_client"

    def test_assertion_signed_by_another_key_is_refused(self, client: TestClient,
                                                        jwt_client) -> None:  # noqa: ANN001
        client_id, _ = jwt_client
        stranger = ECKey.generate_key("P-256", private=True)
        stranger.ensure_kid()
        response = client.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(client_id, stranger)})
        assert response.json()["error"] == "invalid_client"

    def test_wrong_audience_is_refused(self, client: TestClient, jwt_client) -> None:  # noqa: ANN001
        client_id, key = jwt_client
        response = client.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(client_id, key, aud="https://elsewhere")})
        assert response.json()["error"] == "invalid_client"


class TestBearer:
    def test_missing_token_is_401_with_challenge(self, client: TestClient) -> None:
        response = client.get("/fhir/Task")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Bearer realm="wijkgateway"')
        assert response.json()["issue"][0]["expression"] == ["Authorization"]

    def test_garbage_token_is_401(self, client: TestClient) -> None:
        response = client.get("/fhir/Task", headers={"Authorization": "Bearer abc.def.ghi"})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]

    def test_expired_token_is_401(self, client: TestClient) -> None:
        headers = bearer(client, "demo-huisarts")
        with time_machine.travel(time.time() + 3600):
            response = client.get("/fhir/Task", headers=headers)
        assert response.status_code == 401
        assert response.json()["issue"][0]["diagnostics"] == "the access token has expired"

    def test_revoked_client_token_stops_working(self, client: TestClient, sessions) -> None:  # noqa: ANN001
        headers = bearer(client, "demo-huisarts")
        with sessions.begin() as session:
            revoke_client(session, "demo-huisarts")
        assert client.get("/fhir/Task", headers=headers).status_code == 401

    def test_token_signed_by_another_key_is_401(self, client: TestClient) -> None:
        key = ECKey.generate_key("P-256", private=True)
        forged = jwt.encode({"alg": "ES256"}, {"iss": BASE_URL, "aud": BASE_URL,
                                               "client_id": "demo-huisarts",
                                               "exp": int(time.time()) + 60,
                                               "scope": "system/Task.read"}, key)
        response = client.get("/fhir/Task", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401

