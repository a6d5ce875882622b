"""Who speaks for a person, as the consent engine needs it: the legal representations
(parental authority per parent, a guardian, a mentor, a curator, a bewindvoerder) registered
as RelatedPersons, each with its source and period. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session

from consent import Representative
from consent.representation import RepresentationKind
from gateway.households import repository


def representatives_in_force(session: Session, person_id: str,
                             at: datetime) -> tuple[Representative, ...]:
    """Every representation of the person in force at ``at``, oldest first, as
    ``Representative("RelatedPerson/<id>", kind, start, end)``. A parent without parental
    authority holds none, so is not among them."""
    return tuple(Representative(f"RelatedPerson/{row.id}",
                                cast(RepresentationKind, row.representation),
                                row.period_start, row.period_end)
                 for row in repository.representations_in_force(session, person_id, at))
