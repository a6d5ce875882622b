"""Check a bearer token and say who the caller is and what it may do."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from gateway.platform.errors import Unauthorized


@dataclass(frozen=True)
class Actor:
    """The person on whose behalf a system acts (NEN 7513 asks the log to name them): an id
    in the connected system, a role and, for a team's worker, the unit."""

    id: str
    role: str  # worker, team-leader, privacy-officer, gp, administrator
    unit: str | None = None  # youth or adult


@dataclass(frozen=True)
class Caller:
    client_id: str
    scopes: frozenset[str]
    team_id: str | None
    role: str  # the recipient role consent decisions see for this client
    organization: str = ""  # the team, or the GP practice (agb:/ura:), else client:{id}
    actor: Actor | None = None


def actor_from(claims: dict[str, Any]) -> Actor | None:
    """The acting person of an exchanged token (RFC 8693: ``sub`` is the person and ``act``
    the system acting for them), or None for a system's own token."""
    if not isinstance(claims.get("act"), dict):
        return None
    return Actor(str(claims["sub"]), str(claims.get("acting_role", "")),
                 claims.get("acting_unit"))


class VerifiedTokens:
    """Claims of tokens already verified, until they expire: a client reuses its token for
    many requests, and an ES256 verify costs more than the rest of the auth check. Entries
    live no longer than the shortest token lifetime allowed, and are checked for expiry."""

    def __init__(self, key: ECKey, issuer: str, max_entries: int = 10_000,
                 ttl_seconds: float = 60) -> None:
        self.key = key
        self.issuer = issuer
        self._claims: TTLCache[str, dict[str, Any]] = TTLCache(max_entries, ttl_seconds)

    def claims(self, authorization: str | None) -> dict[str, Any]:
        cached = self._claims.get(authorization or "")
        if cached is not None and cached["exp"] > time.time():
            return cached
        claims = verify_access_token(authorization, self.key, self.issuer)
        self._claims[authorization or ""] = claims
        return claims


def verify_access_token(authorization: str | None, key: ECKey, issuer: str) -> dict[str, Any]:
    """Signature, issuer, audience and expiry; returns the claims. CPU only, no I/O."""
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
    return decoded.claims
