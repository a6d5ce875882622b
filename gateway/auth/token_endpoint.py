"""The OAuth2 token endpoint, built on authlib's framework-neutral AuthorizationServer.

Grant: client credentials. Client authentication: ``client_secret_basic`` or
``private_key_jwt`` (RFC 7523). Tokens: RFC 9068 JWT access tokens signed with ES256.

A failed client authentication gets one answer, whatever failed (unknown client, wrong
secret, revoked client, bad assertion), after the same work: an unknown or revoked client is
checked against a decoy, so neither the answer nor its cost tells which client ids exist.
An authenticated client past its token limit gets a 429 (``TooManyTokenRequests``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidScopeError, OAuth2Error
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.orm import Session

from gateway.auth.clients import (
    AUTH_PRIVATE_KEY_JWT,
    AUTH_SECRET_BASIC,
    RegisteredClient,
    decoy_client,
    find_active_client,
)
from gateway.auth.scopes import SCOPES
from gateway.auth.token_exchange import (
    GRANT_TOKEN_EXCHANGE,
    TOKEN_TYPE_ACCESS,
    acting_claims,
    verify_subject_token,
)
from gateway.platform.db.models import UsedClientAssertion
from gateway.platform.logging import get_logger
from schemas import shown

TOKEN_PATH = "/oauth/token"
AUTHENTICATION_FAILED = "client authentication failed"
log = get_logger()

# Checks the token limit of a client that has authenticated: None, or seconds to wait.
ClientLimit = Callable[[str], "int | None"]


class TooManyTokenRequests(OAuth2Error):
    """RFC 6749 section 5.2 shape; 429 and ``Retry-After`` as RFC 6585 asks."""

    error = "temporarily_unavailable"
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(description="too many token requests; retry after the number of "
                                     "seconds in Retry-After")
        self.retry_after = retry_after

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


class _FormRequest(OAuth2Request):
    def __init__(self, uri: str, headers: dict[str, str], form: dict[str, str]) -> None:
        super().__init__("POST", uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class _ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_SECRET_BASIC, AUTH_PRIVATE_KEY_JWT]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = (self.request.payload.scope or "").split()
        granted = self.request.client.row.scopes.split()
        if missing := [s for s in requested if s not in granted]:
            raise InvalidScopeError(
                description="scope not granted to this client: "
                f"{' '.join(shown(s, 100) for s in missing)}"
            )
        if (wait := self.server.client_limit(self.request.client.get_client_id())) is not None:
            raise TooManyTokenRequests(wait)


class _TokenExchange(_ClientCredentials):
    """RFC 8693: the same client authentication and scopes, plus the acting person."""

    GRANT_TYPE = GRANT_TOKEN_EXCHANGE

    def validate_token_request(self) -> None:
        super().validate_token_request()
        server = self.server
        assert isinstance(server, TokenEndpoint)
        self.request.user = verify_subject_token(
            server.session, self.request.client, self.request.form, self.request.headers,
            [server.issuer + TOKEN_PATH, server.issuer])

    def create_token_response(self) -> tuple[int, Any, Any]:
        token = self.generate_token(user=self.request.user, scope=self.request.payload.scope,
                                    include_refresh_token=False)
        token["issued_token_type"] = TOKEN_TYPE_ACCESS
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class _PrivateKeyJwt(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = AUTH_PRIVATE_KEY_JWT

    def __init__(self, session: Session, audiences: list[str]) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.session = session
        self.audiences = audiences

    def get_audiences(self) -> list[str]:
        return self.audiences

    def resolve_client_public_key(self, client: RegisteredClient) -> KeySet:
        return KeySet.import_key_set(client.row.public_jwks)

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        key = f"{claims['sub']}:{jti}"[:255]
        if self.session.get(UsedClientAssertion, key) is not None:
            return False
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC) + timedelta(seconds=60)
        self.session.add(UsedClientAssertion(jti=key, client_id=claims["sub"],
                                             expires_at=expires))
        return True


class _AccessTokens(JWTBearerTokenGenerator):
    def __init__(self, issuer: str, key: ECKey, ttl: int) -> None:
        super().__init__(issuer=issuer, alg="ES256",
                         expires_generator=lambda _client, _grant: ttl)
        self.key = key

    def get_jwks(self) -> KeySet:
        return KeySet([self.key])

    def get_audiences(self, client: RegisteredClient, user: Any, scope: str) -> str:
        return self.issuer

    def get_extra_claims(self, client: RegisteredClient, grant_type: str, user: Any,
                         scope: str) -> dict[str, Any]:
        return acting_claims(client.get_client_id(), user)


class TokenEndpoint(AuthorizationServer):
    """One per request: authlib's hooks have no request argument, so the session rides here."""

    def __init__(self, session: Session, issuer: str, key: ECKey, ttl: int,
                 client_limit: ClientLimit) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.session = session
        self.issuer = issuer
        self.client_limit = client_limit
        self.register_grant(_ClientCredentials)
        self.register_grant(_TokenExchange)
        self.register_client_auth_method(
            AUTH_PRIVATE_KEY_JWT, _PrivateKeyJwt(session, [issuer + TOKEN_PATH, issuer])
        )
        self.register_token_generator("default", _AccessTokens(issuer, key, ttl))

    def query_client(self, client_id: str) -> RegisteredClient:
        """An unknown or revoked client gets a decoy that fails the same checks, at the same
        cost, as a wrong secret or key."""
        row = find_active_client(self.session, client_id)
        return RegisteredClient(row) if row is not None else decoy_client(client_id)

    def handle_error_response(self, request: OAuth2Request,
                              error: OAuth2Error) -> tuple[int, Any, Any]:
        if isinstance(error, InvalidClientError):
            error = InvalidClientError(status_code=401, description=AUTHENTICATION_FAILED)
        return super().handle_error_response(request, error)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        log.info("token_issued", client_id=request.client.get_client_id(),
                 auth_method=request.auth_method, scope=token.get("scope"))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: dict[str, Any]) -> OAuth2Request:
        return _FormRequest(self.issuer + TOKEN_PATH, request["headers"], request["form"])

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers
