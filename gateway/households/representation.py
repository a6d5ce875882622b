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

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from fhir.resources.R4B.relatedperson import RelatedPerson
from sqlalchemy.orm import Session

from consent import Representative
from consent.records import age_on
from consent.representation import AUTHORITY_KINDS, REPRESENTATION_KINDS, RepresentationKind
from gateway.households import repository
from gateway.identity.repository import person_by_bsn
from gateway.platform.db.models import Person
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Unprocessable
from schemas import kind_of_system
from schemas.household import REPRESENTATION_SYSTEM

ADULT_AGE = 18
ORGANIZATION_KINDS = frozenset({"agb", "ura"})  # a certified institution, a bewindvoerder's firm


@dataclass(frozen=True)
class Representation:
    """What a RelatedPerson says about representation: none (``kind`` None, a parent as
    before) or one kind, by a person or an organisation, for a period."""

    kind: RepresentationKind | None = None
    organization: str | None = None  # ura:12345678 / agb:...
    start: datetime | None = None
    end: datetime | None = None


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


def organization_of(related: RelatedPerson, expr: str) -> str | None:
    """The URA or AGB of an organisation that represents (``ura:12345678``), if given."""
    for i, identifier in enumerate(related.identifier or []):
        kind = kind_of_system(identifier.system)
        if kind is not None and kind.prefix in ORGANIZATION_KINDS:
            if not identifier.value or not kind.is_valid(identifier.value):
                raise Unprocessable(f"not a valid {kind.label} ({kind.digits} digits)",
                                    expression=f"{expr}.identifier[{i}].value")
            return kind.token(identifier.value)
    return None


def representation_of(session: Session, related: RelatedPerson, person: Person,
                      bsn: str | None, organization: str | None, expr: str) -> Representation:
    """The representation a RelatedPerson claims, checked against the person it is for;
    422 naming the element when it does not fit (see the module docstring)."""
    start = _instant(related.period.start if related.period else None, f"{expr}.period.start")
    end = _instant(related.period.end if related.period else None, f"{expr}.period.end",
                   end=True)
    if start is not None and end is not None and end <= start:
        raise Unprocessable("the period ends before it starts", expression=f"{expr}.period.end")
    codes = [c.code for concept in related.relationship or [] for c in concept.coding or []
             if c.system == REPRESENTATION_SYSTEM]
    if not codes:
        return Representation(None, organization, start, end)
    if len(codes) > 1 or codes[0] not in REPRESENTATION_KINDS:
        raise Unprocessable(f"give one legal representation ({REPRESENTATION_SYSTEM}): "
                            f"{', '.join(REPRESENTATION_KINDS)}", expression=f"{expr}.relationship")
    kind = cast(RepresentationKind, codes[0])
    _check_age(person, kind, (start or utcnow()).date(), expr)
    if kind == "parental-authority":
        _check_parent(session, person, bsn, organization, expr)
    return Representation(kind, organization, start, end)


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
                  expr: str) -> None:
    """Parental authority is a parent's: named by BSN, a parent where the minor is a child."""
    if bsn is None or organization is not None:
        raise Unprocessable("parental authority is a parent's: give the parent's BSN",
                            expression=f"{expr}.identifier")
    parent = person_by_bsn(session, bsn)
    if parent is None or not repository.is_parent_of(session, parent.id, person.id):
        raise Unprocessable("not a child of a household in which this parent is or was a parent "
                            "(register the household as a Group first)",
                            expression=f"{expr}.patient")


def _instant(value: Any, expr: str, end: bool = False) -> datetime | None:
    """A period bound as an instant. A date starts at its first moment (UTC) and, as an
    end, includes the whole day (FHIR Period), so it ends at the next day's first moment;
    a partial date is refused."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1 if end else 0), time(), UTC)
    raise Unprocessable("give a full date (YYYY-MM-DD) or a date-time with a time zone",
                        expression=expr)

