"""The verified-token cache and the client-status cache."""

from __future__ import annotations

import time

import pytest
import time_machine
from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.auth.bearer import VerifiedTokens
from gateway.auth.client_cache import ClientCache
from gateway.auth.clients import revoke_client
from gateway.platform.errors import Unauthorized

ISSUER = "http://127.0.0.1:8000"


def _token(key: ECKey, exp: int) -> str:
    return "Bearer " + jwt.encode({"alg": "ES256"}, {"iss": ISSUER, "aud": ISSUER, "exp": exp,
                                                     "client_id": "c", "scope": "s"}, key)


class TestVerifiedTokens:
    def test_a_verified_token_is_served_from_the_cache(self) -> None:
        key = ECKey.generate_key("P-256", private=True)
        tokens = VerifiedTokens(key, ISSUER)
        header = _token(key, int(time.time()) + 60)
        first = tokens.claims(header)
        tokens.key = ECKey.generate_key("P-256", private=True)  # would fail a fresh verify
        assert tokens.claims(header) is first

    def test_a_cached_token_still_expires(self) -> None:
        key = ECKey.generate_key("P-256", private=True)
        tokens = VerifiedTokens(key, ISSUER)
        header = _token(key, int(time.time()) + 1)
        tokens.claims(header)
        with time_machine.travel(time.time() + 120), pytest.raises(Unauthorized):
            tokens.claims(header)

    def test_the_cache_is_bounded(self) -> None:
        key = ECKey.generate_key("P-256", private=True)
        tokens = VerifiedTokens(key, ISSUER, max_entries=2)
        for n in range(5):
            tokens.claims(_token(key, int(time.time()) + 60 + n))
        assert len(tokens._claims) <= 2


def test_client_cache_sees_a_revocation_after_its_ttl(sessions, seeded) -> None:  # noqa: ANN001
    now = [0.0]
    cache = ClientCache(sessions, ttl=5, clock=lambda: now[0])
    assert cache.cached("demo-huisarts") is None
    assert cache.load("demo-huisarts").active is True
    with sessions.begin() as session:
        revoke_client(session, "demo-huisarts")
    now[0] = 4.9
    assert cache.cached("demo-huisarts").active is True
    now[0] = 5.0
    assert cache.cached("demo-huisarts") is None
    assert cache.load("demo-huisarts").active is False
