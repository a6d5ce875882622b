"""Checkpoints leave the database: the current one is signed on demand and published to a
witness location (a file, or an HTTP endpoint that receives a POST), and a published one is
later proven, with an RFC 9162 consistency proof, to be a prefix of what the database holds.

A copy outside the database is what makes truncation and rewriting visible even to someone
who can change every row: the database must still extend every checkpoint it ever published.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit.checkpoints import KIND_MANUAL
from gateway.audit.keys import LogIdentity
from gateway.audit.leaves import leaves
from gateway.audit.log import request_checkpoint
from gateway.audit.merkle import Tree, verify_consistency
from gateway.audit.note import Checkpoint, NoteError, open_checkpoint
from gateway.platform.db.models import ProcessingLogCheckpoint

_CHECKPOINTS = ProcessingLogCheckpoint.__table__
PUBLISH_TIMEOUT_SECONDS = 10.0


class PublishError(RuntimeError):
    """The witness location did not take the checkpoint."""


def checkpoint_now(sessions: sessionmaker[Session]) -> str:
    """Sign a checkpoint at the tree's current size (unless one exists) and return the newest
    signed note."""
    with sessions.begin() as session:
        request_checkpoint(session, KIND_MANUAL)
    with sessions() as session:
        return session.scalars(select(_CHECKPOINTS.c.note).order_by(
            _CHECKPOINTS.c.seq.desc()).limit(1)).one()


def publish(note: str, target: str) -> None:
    """Write the note to a file (atomically: a witness never reads half a checkpoint), or POST
    it as ``text/plain`` to an http(s) URL (a 2xx answer is required)."""
    if target.startswith(("http://", "https://")):
        try:
            response = httpx.post(target, content=note.encode(),
                                  headers={"Content-Type": "text/plain; charset=utf-8"},
                                  timeout=PUBLISH_TIMEOUT_SECONDS, trust_env=False)
        except httpx.HTTPError as error:
            raise PublishError(f"could not reach the witness: {type(error).__name__}") \
                from error
        if not response.is_success:
            raise PublishError(f"the witness answered {response.status_code}")
        return
    path = Path(target)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        draft.write_text(note)
        os.replace(draft, path)
    except OSError as error:
        raise PublishError(f"could not write {path}: {error.strerror}") from error


@dataclass(frozen=True)
class Extension:
    """Whether the database extends a published checkpoint, with the proof."""

    ok: bool
    published_size: int | None
    tree_size: int
    root_hash: str  # base64, as in a checkpoint
    problem: str | None = None
    proof: list[str] = field(default_factory=list)  # base64 hashes


def prove_extension(connection: Connection, identity: LogIdentity, note: str) -> Extension:
    """Build the consistency proof from the published checkpoint's size to the tree the
    database holds now, and check it against the published root (RFC 9162 §2.1.4)."""
    tree = Tree([bytes.fromhex(h) for _, h in connection.execute(leaves())])
    root = base64.b64encode(tree.root()).decode()
    try:
        published: Checkpoint = open_checkpoint(note, identity.verifiers)
    except NoteError as error:
        return Extension(False, None, tree.size, root,
                         f"the published checkpoint does not verify with the log's key: {error}")
    if published.origin != identity.origin:
        return Extension(False, published.size, tree.size, root,
                         f"the published checkpoint is of log {published.origin!r}, "
                         f"not {identity.origin!r}")
    if tree.size < published.size:
        return Extension(False, published.size, tree.size, root,
                         f"the log was truncated: the published checkpoint has "
                         f"{published.size} entries, the database {tree.size}")
    proof = tree.consistency_proof(published.size, tree.size)
    encoded = [base64.b64encode(h).decode() for h in proof]
    if not verify_consistency(published.size, tree.size, published.root, tree.root(), proof):
        return Extension(False, published.size, tree.size, root,
                         f"the database does not extend the published checkpoint: entries "
                         f"up to {published.size} were changed, removed or reordered", encoded)
    return Extension(True, published.size, tree.size, root, None, encoded)
