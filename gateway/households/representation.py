"""Who speaks for a person, as the consent engine needs it: the legal representations
(parental authority per parent, a guardian, a mentor, a curator, a bewindvoerder) registered
as RelatedPersons, each with its source (the client) and period. Never commits.

Which kind fits whom (checked when one is registered; docs/households.md):

- ``parental-authority`` (*gezag*): over a minor, by a parent named by BSN who is or was a
  parent in a household where the minor is or was a child (authority outlives a move);
- ``guardian`` (*voogd*): over a minor; a person, or a certified institution named by its
  URA or AGB;
- ``mentor``, ``curator``, ``financial-administrator`` (*bewindvoerder*): over an adult; a
  person or an organisation.

The person's birth date decides minor or adult (at the period's start), so it must be known.
Parental authority and guardianship end by themselves at 18: they are not in force after."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy.orm import Session

from consent import Representative
from consent.records import age_on
from consent.representation import AUTHORITY_KINDS, RepresentationKind
from gateway.households import repository
from gateway.identity.repository import person_by_bsn
from gateway.platform.db.models import Person
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Unprocessable
from schemas import RepresentationClaim

ADULT_AGE = 18


def representatives_in_force(session: Session, person_id: str,
                             at: datetime) -> tuple[Representative, ...]:
    """Every representation of the person in force at ``at``, oldest first, as
    ``Representative("RelatedPerson/<id>", kind, start, end)``. A parent without parental
    authority holds none, so is not among them; nor is authority over a person now 18."""
    person = session.get(Person, person_id)
    adult = person is not None and person.birth_date is not None \
        and age_on(person.birth_date, at.date()) >= ADULT_AGE
    return tuple(Representative(f"RelatedPerson/{row.id}",
                                cast(RepresentationKind, row.representation),
                                row.period_start, row.period_end)
                 for row in repository.representations_in_force(session, person_id, at)
                 if not (adult and row.representation in AUTHORITY_KINDS))


def check_representation(session: Session, claim: RepresentationClaim, person: Person,
                         expr: str, tied: bool = False) -> None:
    """The representation a RelatedPerson claims, checked against the person it is for;
    422 naming the element when it does not fit (see the module docstring). ``tied``: the
    caller saw the claim's parent as a parent and the person as a child in one household."""
    if claim.representation is None:
        return
    _check_age(person, claim.representation, (claim.start or utcnow()).date(), expr)
    if claim.representation == "parental-authority":
        _check_parent(session, person, claim.bsn, claim.organization, expr, tied)


def _check_age(person: Person, kind: RepresentationKind, day: date, expr: str) -> None:
    if person.birth_date is None:
        raise Unprocessable("register the person's birth date first (POST Patient): whether "
                            "they are a minor decides who may represent them",
                            expression=f"{expr}.patient")
    minor = age_on(person.birth_date, day) < ADULT_AGE
    if kind in AUTHORITY_KINDS and not minor:
        raise Unprocessable(f"{kind} is over a minor; an adult is represented by a mentor, "
                            "curator or financial-administrator", expression=f"{expr}.relationship")
    if kind not in AUTHORITY_KINDS and minor:
        raise Unprocessable(f"{kind} represents an adult; a minor is represented by "
                            "parental-authority or a guardian", expression=f"{expr}.relationship")


def _check_parent(session: Session, person: Person, bsn: str | None, organization: str | None,
                  expr: str, tied: bool) -> None:
    """Parental authority is a parent's: named by BSN, a parent where the minor is a child."""
    if bsn is None or organization is not None:
        raise Unprocessable("parental authority is a parent's: give the parent's BSN",
                            expression=f"{expr}.identifier")
    if tied:
        return
    parent = person_by_bsn(session, bsn)
    if parent is None or not repository.is_parent_of(session, parent.id, person.id):
        raise Unprocessable("not a child of a household in which this parent is or was a parent "
                            "(register the household as a Group first)",
                            expression=f"{expr}.patient")
