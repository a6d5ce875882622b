"""The hash chain over processing-log entries. Pure.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's *line*: its hashed
columns in a fixed order, joined by the unit separator (0x1F), NULL as empty. The database
builds the same line in SQL when verifying (``gateway.audit.verify``), so a verification
reads one value per entry instead of rebuilding it in Python; every column is in the line,
so an edit to any of them breaks the chain at that entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

GENESIS = "0" * 64  # the "previous hash" of the first entry ever, and after nothing
SEPARATOR = "\x1f"
HASHED_COLUMNS = (
    "seq", "id", "recorded_at", "kind", "action", "outcome", "activity_id", "purpose",
    "legal_basis", "actor_type", "actor_id", "sender", "recipient", "recipient_role",
    "subject", "subject_key", "categories", "confidentiality", "retention_years",
    "request_id", "trace_id", "details", "prev_hash",
)


def line(values: Mapping[str, object]) -> bytes:
    """The bytes an entry contributes to the chain."""
    return SEPARATOR.join("" if values[c] is None else str(values[c])
                          for c in HASHED_COLUMNS).encode()


def next_hash(prev_hash: str, entry_line: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + entry_line).hexdigest()


def clean(text: str | None, limit: int) -> str | None:
    """A text column value: no separator characters (they would make lines ambiguous)."""
    return None if text is None else text.replace(SEPARATOR, " ")[:limit]
