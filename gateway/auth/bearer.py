"""Check a bearer token and say who the caller is and what it may do."""

from __future__ import annotations

from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from gateway.auth.clients import find_active_client
from gateway.errors import Unauthorized


@dataclass(frozen=True)
class Caller:
    client_id: str
    scopes: frozenset[str]
    team_id: str | None


def authenticate_bearer(authorization: str | None, key: ECKey, issuer: str,
                        session: Session) -> Caller:
    """Verify signature, issuer, audience and expiry, then that the client still exists."""
    if not authorization:
        raise Unauthorized("an access token is required (Authorization: Bearer ...)",
                           error="invalid_request")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use the Bearer scheme", error="invalid_request")
    try:
        decoded = jwt.decode(token.strip(), key, algorithms=["ES256"])
        jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": issuer},
            exp={"essential": True},
            client_id={"essential": True},
        ).validate(decoded.claims)
    except JoseError as error:
        message = "the access token has expired" if error.error == "expired_token" else \
            "the access token is not valid"
        raise Unauthorized(message) from None
    except ValueError:
        raise Unauthorized("the access token is not valid") from None
    client = find_active_client(session, decoded.claims["client_id"])
    if client is None:
        raise Unauthorized("the client of this token is unknown or revoked")
    return Caller(client_id=client.id,
                  scopes=frozenset(str(decoded.claims.get("scope", "")).split()),
                  team_id=client.team_id)
