"""C2SP signed notes (c2sp.org/signed-note) signed with Ed25519, and the C2SP transparency-log
checkpoint (c2sp.org/tlog-checkpoint) they carry. Pure: keys come in as objects or text.

Formats, as in Go's ``golang.org/x/mod/sumdb/note`` so its tools read ours:

- key ID: the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key);
- signature line: ``— <name> base64(key ID || Ed25519 signature over the note text)``;
- verifier key: ``<name>+<key ID as 8 hex digits>+base64(0x01 || public key)``;
- signer key (the private key file): ``PRIVATE+KEY+<name>+<key ID>+base64(0x01 || seed)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"  # the signature type byte for Ed25519 (signed-note §Signature types)
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 16
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed, or whose signature does not verify."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NoteError("a key name is non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    name: str
    public_key: bytes  # 32 bytes (RFC 8032)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def text(self) -> str:
        """The verifier key in the signed-note format, to hand to witnesses and auditors."""
        return f"{self.name}+{self.key_id.hex()}+" \
               f"{base64.b64encode(ED25519 + self.public_key).decode()}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        name, hex_id, key = _fields(text.strip(), 3, "a verifier key")
        raw = _b64(key, "verifier key")
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("a verifier key holds an Ed25519 public key (type 0x01)")
        verifier = cls(_check_name(name), raw[1:])
        if verifier.key_id.hex() != hex_id.lower():
            raise NoteError("the verifier key's ID does not match its name and key")
        return verifier

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(_check_name(name), Ed25519PrivateKey.generate())

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, public)

    def text(self) -> str:
        """The private key in the signer-key format (what the key file holds)."""
        seed = self.private_key.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+" \
               f"{base64.b64encode(ED25519 + seed).decode()}"

    @classmethod
    def parse(cls, text: str) -> Signer:
        private, key, name, hex_id, encoded = _fields(text.strip(), 5, "a signer key")
        raw = _b64(encoded, "signer key")
        if (private, key) != ("PRIVATE", "KEY") or len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("a signer key is PRIVATE+KEY+name+id+base64(0x01 || seed)")
        signer = cls(_check_name(name), Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.key_id.hex() != hex_id.lower():
            raise NoteError("the signer key's ID does not match its name and key")
        return signer

    def sign(self, text: str) -> str:
        """The signed note: the text (ending in a newline), a blank line, one signature."""
        _check_text(text)
        signature = self.private_key.sign(text.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def open_note(note: str, verifiers: Iterable[Verifier]) -> str:
    """The note's text, once a signature by one of ``verifiers`` verifies. Signatures by
    unknown keys are ignored; a known key's signature that fails rejects the note."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("not a signed note: no signature lines after a blank line")
    text += "\n"
    _check_text(text)
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = False
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
        raw = _b64(encoded, "signature")
        if len(raw) < 5:
            raise NoteError("a signature holds a key ID and a signature")
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue
        if not verifier.verifies(text.encode(), raw[4:]):
            raise NoteError(f"the signature by {name} does not verify")
        verified = True
    if not verified:
        raise NoteError("no signature by a known key")
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint's three mandatory lines. Extension lines are refused: they are not
    auditable by monitors, and this log writes none."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) != 4 or lines[3] != "" or not all(lines[:3]):
            raise NoteError("a checkpoint is three lines: origin, tree size, root hash")
        origin, size, root = lines[:3]
        if not _SIZE.fullmatch(size):
            raise NoteError("a checkpoint's tree size is a decimal number")
        digest = _b64(root, "root hash")
        if len(digest) != 32:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        return cls(origin, int(size), digest)


def open_checkpoint(note: str, verifiers: Iterable[Verifier]) -> Checkpoint:
    return Checkpoint.parse(open_note(note, verifiers))


def _check_text(text: str) -> None:
    if not text.endswith("\n") or any(c < " " and c != "\n" for c in text):
        raise NoteError("a note's text ends in a newline and holds no control characters")


def _fields(text: str, count: int, what: str) -> list[str]:
    fields = text.split("+", count - 1)  # base64 may hold '+' itself
    if len(fields) != count:
        raise NoteError(f"{what} has {count} fields separated by '+'")
    return fields


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise NoteError(f"the {what} is not base64") from error
