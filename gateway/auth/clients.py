"""Registered clients: one per connected system or GP practice.

Client secrets are 256-bit random tokens, so a plain SHA-256 digest is enough to store them
(a slow password KDF protects guessable secrets; these are not guessable, and a fast check keeps
the token endpoint cheap).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import DEFAULT_SYSTEM, available
from gateway.auth.bearer import Caller
from gateway.auth.scopes import unknown_scopes
from gateway.platform.db.models import OAuthClient, Organization
from gateway.platform.db.types import utcnow

AUTH_SECRET_BASIC = "client_secret_basic"
AUTH_PRIVATE_KEY_JWT = "private_key_jwt"
TEAM_ROLE, GP_ROLE = "wijkteam", "huisarts"
GRANT_TYPES = ("client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange")
_PRACTICE = re.compile(r"(?:agb|ura):[0-9]{8}")
_ROLE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ClientRegistrationError(ValueError):
    pass


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def webhook_secret(server_secret: str, client_id: str) -> str:
    """The per-client key that signs webhooks: derived, so it is never stored."""
    digest = hmac.new(server_secret.encode(), f"webhook:{client_id}".encode(), hashlib.sha256)
    return "whsec_" + base64.b64encode(digest.digest()).decode()


@dataclass
class RegisteredClient(ClientMixin):
    """authlib's view of a client row."""

    row: OAuthClient

    def get_client_id(self) -> str:
        return self.row.id

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.row.secret_hash
        return stored is not None and hmac.compare_digest(stored, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if method == AUTH_SECRET_BASIC:
            return self.row.secret_hash is not None
        if method == AUTH_PRIVATE_KEY_JWT:
            return self.row.public_jwks is not None
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.row.scopes.split()
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope.split() if s in allowed)


def organization_of(row: OAuthClient) -> str:
    """The organisation a client speaks for: its team, else the GP practice it was registered
    with (``agb:...`` or ``ura:...``), else the client itself (``client:{id}``)."""
    return row.team_id or row.organization or f"client:{row.id}"


def sender_of(session: Session, client_id: str) -> Caller:
    """The client that sent what waited for review, as the caller it was then (no scopes:
    it acts in no request of its own)."""
    client = session.get(OAuthClient, client_id)
    assert client is not None  # clients are never deleted
    return Caller(client.id, frozenset(), client.team_id, client.role, organization_of(client))


@cache
def _decoy_credentials() -> tuple[str, dict[str, Any]]:
    """A secret digest and a public key whose secret and private key nobody holds."""
    key = ECKey.generate_key("P-256", private=True)
    return hash_secret(secrets.token_urlsafe(32)), {"keys": [key.as_dict(private=False)]}


def decoy_client(client_id: str) -> RegisteredClient:
    """Stands in for an unknown or revoked client: every secret and every assertion fails
    against it, after the same hashing or signature check as for a real client."""
    secret_hash, public_jwks = _decoy_credentials()
    return RegisteredClient(OAuthClient(id=client_id[:64], name="", scopes="",
                                        secret_hash=secret_hash, public_jwks=public_jwks))


def find_active_client(session: Session, client_id: str) -> OAuthClient | None:
    row = session.get(OAuthClient, client_id)
    return row if row is not None and row.revoked_at is None else None


def add_client(session: Session, name: str, scopes: list[str], team_id: str | None = None,
               public_jwks: dict[str, Any] | None = None, client_id: str | None = None,
               secret: str | None = None, role: str | None = None,
               organization: str | None = None,
               system: str | None = None) -> tuple[OAuthClient, str | None]:
    """Register a client. Without a public JWK set it gets a secret, returned once.
    ``role`` is the recipient role consent decisions see (default: ``wijkteam`` for a team's
    system, else ``huisarts``). ``system``: the adapter that renders what it receives
    (default ``gp-referral``: FHIR R4B)."""
    role = role or (TEAM_ROLE if team_id else GP_ROLE)
    if not _ROLE.match(role):
        raise ClientRegistrationError("a role is lower-case words joined by '-', e.g. school")
    if not scopes:
        raise ClientRegistrationError("give at least one scope")
    if organization is not None and not _PRACTICE.fullmatch(organization):
        raise ClientRegistrationError("an organisation is agb:<8 digits> or ura:<8 digits>")
    if unknown := unknown_scopes(scopes):
        raise ClientRegistrationError(f"unknown scope(s): {', '.join(unknown)}")
    if system is not None and system not in available():
        raise ClientRegistrationError(f"no adapter {system!r} (known: {', '.join(available())})")
    if team_id is not None and session.get(Organization, team_id) is None:
        raise ClientRegistrationError(f"unknown team {team_id!r}; add it with `teams add`")
    if public_jwks is not None:
        try:
            KeySet.import_key_set(public_jwks)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise ClientRegistrationError(f"not a usable JWK set: {error}") from None
        if any("d" in key for key in public_jwks.get("keys", [])):
            raise ClientRegistrationError("the JWK set holds a private key; register public keys")
    client_id = client_id or f"{_slug(name)}-{secrets.token_hex(4)}"
    if session.get(OAuthClient, client_id) is not None:
        raise ClientRegistrationError(f"client {client_id!r} already exists")
    if public_jwks is None:
        secret = secret or secrets.token_urlsafe(32)
    row = OAuthClient(id=client_id, name=name, scopes=" ".join(scopes), team_id=team_id,
                      role=role, public_jwks=public_jwks, organization=organization,
                      system=None if system == DEFAULT_SYSTEM else system,
                      secret_hash=hash_secret(secret) if public_jwks is None and secret else None)
    session.add(row)
    session.flush()
    return row, secret if public_jwks is None else None


def revoke_client(session: Session, client_id: str, now: datetime | None = None) -> OAuthClient:
    row = session.get(OAuthClient, client_id)
    if row is None:
        raise ClientRegistrationError(f"no client {client_id!r}")
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
    return row


def list_clients(session: Session) -> list[OAuthClient]:
    return list(session.scalars(select(OAuthClient).order_by(OAuthClient.created_at)))


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return "-".join(part for part in cleaned.split("-") if part)[:40] or "client"
