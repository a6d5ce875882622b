"""An entry's *line*, the bytes its Merkle leaf hashes (``gateway.audit.merkle``). Pure.

The line is the entry's hashed columns in a fixed order, joined by the unit separator (0x1F),
NULL as empty; ``seq`` is in it, so an entry cannot move. The database builds the same line in
SQL when verifying (``gateway.audit.verify``), so a verification reads one value per entry
instead of rebuilding it in Python; every column is in the line, so an edit to any of them
changes that entry's leaf.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.audit.merkle import leaf_hash

SEPARATOR = "\x1f"
HASHED_COLUMNS = (
    "seq", "id", "recorded_at", "kind", "action", "outcome", "activity_id", "purpose",
    "legal_basis", "actor_type", "actor_id", "acting_person", "acting_role", "acting_unit",
    "sender", "recipient", "recipient_role", "subject", "subject_key", "categories",
    "confidentiality", "retention_years", "request_id", "trace_id", "details",
)


def line(values: Mapping[str, object]) -> bytes:
    """The bytes an entry contributes to the tree."""
    return SEPARATOR.join("" if values[c] is None else str(values[c])
                          for c in HASHED_COLUMNS).encode()


def entry_leaf(values: Mapping[str, object]) -> bytes:
    """The entry's leaf hash: SHA-256(0x00 || line)."""
    return leaf_hash(line(values))


def clean(text: str | None, limit: int) -> str | None:
    """A text column value: no separator characters (they would make lines ambiguous)."""
    return None if text is None else text.replace(SEPARATOR, " ")[:limit]
