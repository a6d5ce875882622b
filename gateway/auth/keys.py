"""The EC P-256 key that signs access tokens, kept as a private JWK file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from joserfc.jwk import ECKey, KeySet

from gateway.platform.settings import Environment, Settings


class SigningKeyMissing(RuntimeError):
    pass


def load_signing_key(settings: Settings) -> ECKey:
    """Read the key; in development and test, create it on first start (mode 0600)."""
    path = settings.signing_key_path
    if path.exists():
        return ECKey.import_key(json.loads(path.read_text()))
    if settings.environment is Environment.PRODUCTION:
        raise SigningKeyMissing(
            f"signing key {path} not found; create it with `wijkgateway keys generate`"
        )
    return generate_signing_key(path)


def generate_signing_key(path: Path) -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, private=True)
    key.ensure_kid()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the default data folder
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(key.as_dict(private=True), handle)
    return key


def public_jwks(key: ECKey) -> dict:
    return KeySet([key]).as_dict(private=False)
