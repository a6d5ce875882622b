"""OAuth 2.0 Token Exchange (RFC 8693): a connected system trades its credentials plus a
statement of the worker it acts for (the *subject token*) for an access token that names
that worker. The log then records the person, as NEN 7513 asks, not only the system.

The subject token is a JWT the system issues (``subject_token_type`` ``...:token-type:jwt``):
``iss`` the client id, ``sub`` the worker's id in that system, ``aud`` the token endpoint,
``exp``, ``role`` and optionally ``unit``. It is signed the way the client authenticates: with
its registered key (``private_key_jwt`` clients), or HS256 with its client secret. The person
and role must be registered for the client (``wijkgateway clients actors add``).

The issued token has ``sub`` = the worker and ``act`` = ``{"sub": client_id}``, the RFC's way
of saying "this system, acting for this person".
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import KeySet, OctKey
from sqlalchemy.orm import Session

from gateway.auth.actors import registered_actor
from gateway.auth.bearer import Actor

GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
TOKEN_TYPE_JWT = "urn:ietf:params:oauth:token-type:jwt"
TOKEN_TYPE_ACCESS = "urn:ietf:params:oauth:token-type:access_token"
_KEY_ALGORITHMS = ["ES256", "ES384", "RS256", "PS256", "EdDSA"]
MAX_SUBJECT_TOKEN_SECONDS = 600


class ActingUser:
    """authlib's "user" of an exchanged token: its id becomes the token's ``sub``."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def get_user_id(self) -> str:
        return self.actor.id


def acting_claims(client_id: str, user: ActingUser | None) -> dict[str, Any]:
    """The claims an exchanged token carries besides RFC 9068's own."""
    if user is None:
        return {}
    return {"act": {"sub": client_id}, "acting_role": user.actor.role,
            **({"acting_unit": user.actor.unit} if user.actor.unit else {})}


def verify_subject_token(session: Session, client: Any, form: dict[str, str],
                         headers: dict[str, str], audiences: list[str]) -> ActingUser:
    """Check the subject token of an exchange request; ``client`` is authenticated already."""
    if form.get("actor_token"):
        raise InvalidRequestError(description="actor_token is not supported: the client "
                                  "that authenticates is the actor")
    if form.get("subject_token_type") != TOKEN_TYPE_JWT:
        raise InvalidRequestError(description=f"subject_token_type must be {TOKEN_TYPE_JWT}")
    token = form.get("subject_token") or ""
    row = client.row
    if row.public_jwks is not None:
        key: Any = KeySet.import_key_set(row.public_jwks)
        algorithms = _KEY_ALGORITHMS
    else:
        _client_id, secret = extract_basic_authorization(headers)
        key, algorithms = OctKey.import_key(secret or ""), ["HS256"]
    try:
        claims = jwt.decode(token, key, algorithms=algorithms).claims
    except (JoseError, ValueError, TypeError):
        raise InvalidGrantError(description="the subject token is not valid: a JWT signed "
                                "as the client authenticates, with iss, sub, aud, exp and "
                                "role") from None
    try:
        jwt.JWTClaimsRegistry(
            leeway=30, iss={"essential": True, "value": row.id},
            aud={"essential": True, "values": audiences}, exp={"essential": True},
            sub={"essential": True}, role={"essential": True},
        ).validate(claims)
    except ClaimError as error:  # signed by this client: naming the claim tells no secret
        raise InvalidGrantError(description=_claim_problem(error, row.id, audiences)) from None
    except (JoseError, ValueError, TypeError):
        raise InvalidGrantError(description="the subject token's claims are not valid: iss, "
                                "sub, aud, exp and role") from None
    if int(claims["exp"]) > time.time() + MAX_SUBJECT_TOKEN_SECONDS:
        raise InvalidGrantError(description="the subject token lives too long: at most "
                                f"{MAX_SUBJECT_TOKEN_SECONDS // 60} minutes, as it names a "
                                "person for this one exchange")
    actor_id, role, unit = str(claims["sub"]), str(claims["role"]), claims.get("unit")
    registered = registered_actor(session, row.id, actor_id, role)
    if registered is None or (unit is not None and unit != registered.unit):
        raise InvalidGrantError(description="this client is not registered to act for that "
                                "person in that role (and unit)")
    return ActingUser(Actor(actor_id, role, registered.unit))


def _claim_problem(error: ClaimError, client_id: str, audiences: list[str]) -> str:
    """Which claim of a correctly signed subject token is wrong, and what it should be: the
    usual slip is an ``aud`` made for another base URL than this gateway's."""
    expected = {"iss": f"the client id, {client_id}",
                "aud": f"the token endpoint URL, {audiences[0]}"}.get(error.claim)
    if isinstance(error, ExpiredTokenError):
        return "the subject token has expired (exp)"
    verb = "lacks" if isinstance(error, MissingClaimError) else "has a wrong"
    return f"the subject token {verb} {error.claim}" + (f": it must be {expected}"
                                                        if expected else "")


def subject_token(client_id: str, secret: str, actor: Actor, audience: str,
                  ttl_seconds: int = 300) -> str:
    """A subject token as a client with a secret makes it (for the demo, the CLI and tests;
    a connected system builds the same JWT with its own library)."""
    now = int(time.time())
    claims = {"iss": client_id, "sub": actor.id, "aud": audience, "iat": now,
              "exp": now + ttl_seconds, "role": actor.role,
              **({"unit": actor.unit} if actor.unit else {})}
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret))


def exchange_form(client_id: str, secret: str, actor: Actor, token_url: str,
                  scope: str | None = None) -> dict[str, str]:
    """The form of a token exchange request by a client with a secret (sent with HTTP Basic
    authentication), for the demo, benchmarks and tests."""
    return {"grant_type": GRANT_TOKEN_EXCHANGE, "subject_token_type": TOKEN_TYPE_JWT,
            "subject_token": subject_token(client_id, secret, actor, token_url),
            **({"scope": scope} if scope else {})}
