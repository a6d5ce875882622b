"""The tree's leaves: an entry's ``hash`` while the entry exists, and the copy its purge keeps
in ``processing_log_leaves`` once it is gone. An append writes one row, as a plain insert
would; only a purge writes leaves of their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, func, select, union_all

from gateway.audit.merkle import leaf_hash
from gateway.platform.db.models import ProcessingLogEntry, ProcessingLogLeaf

LOG, PURGED = ProcessingLogEntry.__table__, ProcessingLogLeaf.__table__
# The leaf migration 0005 gave each entry purged under the old hash chain. Its preimage is no
# entry's line (a line has 24 separators), so it stands for "nothing to show" and nothing else.
PURGED_BEFORE_MERKLE = leaf_hash(b"purged before revision 0005").hex()


def leaves(after: int = 0, through: int | None = None) -> Select[Any]:
    """(seq, hash) of every leaf after ``after`` through ``through``, in tree order."""
    parts = []
    for table in (LOG, PURGED):
        part = select(table.c.seq, table.c.hash).where(table.c.seq > after)
        parts.append(part if through is None else part.where(table.c.seq <= through))
    both = union_all(*parts).subquery()
    return select(both.c.seq, both.c.hash).order_by(both.c.seq)


def tree_size(connection: Connection) -> int:
    """The number of leaves: the newest entry's seq, or after a purge of everything the
    newest purged one's."""
    for table in (LOG, PURGED):
        if (newest := connection.scalar(select(func.max(table.c.seq)))) is not None:
            return newest
    return 0
