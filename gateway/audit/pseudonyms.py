"""Data subjects are stored as a keyed HMAC of their BSN (or, without one, of the sender's local
id), so the log can be searched per person without holding BSNs in clear.

Rotation: set a new ``WIJKGATEWAY_PSEUDONYM_KEY`` and move the old one to
``WIJKGATEWAY_PSEUDONYM_PREVIOUS_KEYS``. New entries use the new key; a search computes the
pseudonym under every key, so older entries are still found. Each entry stores the id of its
key (``subject_key``), never the key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import cached_property


def key_id(key: str) -> str:
    """A short, public name for a key: which one made a pseudonym, without revealing it."""
    return hmac.digest(key.encode(), b"wijkgateway:key-id", "sha256").hex()[:12]


@dataclass(frozen=True)
class Pseudonymiser:
    key: str
    previous_keys: tuple[str, ...] = ()

    def pseudonym(self, identifier: str) -> tuple[str, str]:
        """(pseudonym, key id) of ``bsn:...`` or ``local:system|value``, under the current key."""
        keyed = self._keyed.copy()
        keyed.update(identifier.encode())
        return keyed.hexdigest(), self._key_id

    @cached_property
    def _keyed(self) -> hmac.HMAC:  # every logged processing of a person starts from it
        return hmac.new(self.key.encode(), digestmod=hashlib.sha256)

    @cached_property
    def _key_id(self) -> str:
        return key_id(self.key)

    def every_pseudonym(self, identifier: str) -> list[str]:
        """The identifier's pseudonyms under the current and every previous key."""
        return [_hmac(k, identifier) for k in (self.key, *self.previous_keys)]


def _hmac(key: str, identifier: str) -> str:
    return hmac.digest(key.encode(), identifier.encode(), "sha256").hex()
