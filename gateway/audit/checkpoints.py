"""Signed checkpoints of the processing log's Merkle tree, made inside the transaction that
appends (under the log's lock), so a checkpoint's size and root always describe leaves that
commit with it.

A checkpoint row keeps the tree's frontier at its size (log2 n hashes), so the next checkpoint
starts from there and hashes only the leaves written since: appends never rehash the past.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from gateway.audit.keys import LogIdentity
from gateway.audit.leaves import leaves
from gateway.audit.merkle import Frontier
from gateway.audit.note import Checkpoint
from gateway.platform.db.models import ProcessingLogCheckpoint

_CHECKPOINTS = ProcessingLogCheckpoint.__table__
KIND_PERIODIC, KIND_PURGE, KIND_MANUAL = "periodic", "purge", "manual"


class CheckpointError(RuntimeError):
    """The leaves a checkpoint would sign are not whole: the log was damaged."""


def make_checkpoints(connection: Connection, identity: LogIdentity,
                     sizes: Sequence[tuple[int, str]]) -> list[dict[str, Any]]:
    """Sign and insert checkpoints at these tree sizes (ascending, with their kinds); a size
    that has one already keeps it. Returns the rows inserted."""
    existing = set(connection.scalars(select(_CHECKPOINTS.c.seq).where(
        _CHECKPOINTS.c.seq.in_([size for size, _ in sizes]))))
    wanted = {size: kind for size, kind in sizes if size not in existing}
    if not wanted:
        return []
    frontier = _start(connection, min(wanted))
    now = datetime.now(UTC)
    rows = []
    if frontier.size in wanted:  # only for an empty tree: nothing to add
        rows.append(_row(identity, frontier, wanted[frontier.size], now))
    for seq, leaf in connection.execute(leaves(frontier.size, max(wanted))):
        if seq != frontier.size + 1:
            raise CheckpointError(f"leaf {frontier.size + 1} is missing; not signing")
        frontier.append(bytes.fromhex(leaf))
        if seq in wanted:
            rows.append(_row(identity, frontier, wanted[seq], now))
    if frontier.size < max(wanted):
        raise CheckpointError(f"the tree has {frontier.size} leaves, not {max(wanted)}")
    connection.execute(_CHECKPOINTS.insert(), rows)
    return rows


def _start(connection: Connection, size: int) -> Frontier:
    """The frontier of the newest checkpoint at or below ``size``, if its root is the one it
    signed; else the empty tree (a damaged row costs a rehash, never a wrong signature)."""
    row = connection.execute(
        select(_CHECKPOINTS.c.seq, _CHECKPOINTS.c.hash, _CHECKPOINTS.c.frontier)
        .where(_CHECKPOINTS.c.seq <= size).order_by(_CHECKPOINTS.c.seq.desc()).limit(1)).first()
    if row is None:
        return Frontier()
    try:
        frontier = Frontier.from_text(row.seq, row.frontier)
    except ValueError:
        return Frontier()
    return frontier if frontier.root().hex() == row.hash else Frontier()


def _row(identity: LogIdentity, frontier: Frontier, kind: str,
         now: datetime) -> dict[str, Any]:
    root = frontier.root()
    note = identity.signer.sign(Checkpoint(identity.origin, frontier.size, root).text())
    return {"seq": frontier.size, "hash": root.hex(), "kind": kind, "created_at": now,
            "note": note, "frontier": frontier.to_text()}
