"""The Ed25519 key that signs the processing log's checkpoints, kept in a file outside the
database: whoever can change the database cannot sign, so a rewritten log no longer matches
the checkpoints it signed before (see docs/threat-model.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gateway.audit.note import NoteError, Signer, Verifier
from gateway.platform.settings import Environment, Settings

KEY_FILE = "wijkgateway-audit-key"


class CheckpointKeyError(RuntimeError):
    """The checkpoint key is missing (outside development) or unreadable."""


@dataclass(frozen=True)
class LogIdentity:
    """Who signs the log's checkpoints, and which keys a verifier accepts."""

    origin: str
    signer: Signer
    previous: tuple[Verifier, ...] = ()

    @property
    def verifiers(self) -> tuple[Verifier, ...]:
        return (self.signer.verifier, *self.previous)


def key_path(settings: Settings) -> Path:
    return settings.audit_signing_key_path or settings.signing_key_path.with_name(KEY_FILE)


def origin(settings: Settings) -> str:
    if settings.audit_origin:
        return settings.audit_origin
    url = urlsplit(settings.public_base_url)
    return f"{url.netloc}{url.path.rstrip('/')}/processing-log"


def log_identity(settings: Settings) -> LogIdentity:
    """Read the key; in development and test, create it on first use (mode 0600)."""
    path = key_path(settings)
    try:
        if path.exists():
            signer = Signer.parse(path.read_text())
        elif settings.environment is Environment.PRODUCTION:
            raise CheckpointKeyError(
                f"checkpoint key {path} not found; create it with "
                "`wijkgateway audit key --generate`")
        else:
            signer = generate_key(path, origin(settings))
        previous = tuple(Verifier.parse(k) for k in settings.audit_previous_verifier_keys)
    except NoteError as error:
        raise CheckpointKeyError(f"checkpoint key: {error}") from error
    return LogIdentity(origin(settings), signer, previous)


def generate_key(path: Path, name: str) -> Signer:
    """A new key named ``name`` (the log's origin), written once: never overwrites."""
    signer = Signer.generate(name)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the default data folder
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(signer.text() + "\n")
    try:
        os.link(draft, path)  # atomic, and refuses to replace: readers never see half a key
    except FileExistsError:  # another process of this deployment made it first
        return Signer.parse(path.read_text())
    finally:
        draft.unlink()
    return signer
