"""Merged persons: two records found to be one resident act as one (the merge set) until the
merge is undone. Never commits."""

from __future__ import annotations

from sqlalchemy.orm import Session


def person_ids(session: Session, person_id: str) -> tuple[str, ...]:
    """Every person id that is this resident (the merge set), the canonical one first."""
    return (person_id,)


def canonical_id(session: Session, person_id: str) -> str:
    """The id the resident's merge set is known by."""
    return person_ids(session, person_id)[0]
