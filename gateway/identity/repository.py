"""Identity queries: persons by what identifies them, look-alikes, the review queue."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from gateway.platform.db.models import IdentityReview, Person, PersonIdentifier
from gateway.platform.errors import Unprocessable
from schemas import Identifier, is_valid_bsn


def person_by_reference(session: Session, patient: str) -> Person | None:
    """``Patient/{id}`` or a valid BSN -> the person the gateway knows, else None."""
    if patient.startswith("Patient/"):
        return session.get(Person, patient.removeprefix("Patient/"))
    return person_by_bsn(session, patient) if is_valid_bsn(patient) else None


def known_person(session: Session, patient: str) -> Person:
    """``Patient/{id}`` or a BSN -> the person, for operators and administrators (who may
    ask about anyone); an unknown one is 422 naming ``patient``."""
    if (person := person_by_reference(session, patient)) is None:
        raise Unprocessable("unknown person: give 'Patient/{id}' or the BSN of a person the "
                            "gateway knows", expression="patient")
    return person


def open_reviews_with_bsn(session: Session, limit: int) -> list[tuple[IdentityReview, str | None]]:
    """Open reviews, oldest first, each with the person's BSN (if known), for the console."""
    return [(row, bsn) for row, bsn in session.execute(
        select(IdentityReview, Person.bsn).join(Person, Person.id == IdentityReview.person_id)
        .where(IdentityReview.status == "open")
        .order_by(IdentityReview.created_at, IdentityReview.id).limit(limit))]


def reviews(session: Session, status: str | None, limit: int = 200) -> list[IdentityReview]:
    query = select(IdentityReview).order_by(IdentityReview.created_at).limit(limit)
    return list(session.scalars(query if status is None
                                else query.where(IdentityReview.status == status)))


def under_review(session: Session, source_ref: str) -> bool:
    """Whether what ``source_ref`` sent waits for a conflict's review (and so links no one).
    A probable match holds nothing back: its new person is a person of its own until merged."""
    return bool(session.scalar(select(exists().where(
        IdentityReview.source_ref == source_ref, IdentityReview.status == "open",
        IdentityReview.kind == "conflict"))))


def held_for_identity(session: Session, person_id: str, source_ref: str) -> bool:
    """Whether what is told of ``source_ref`` (a trajectory) about ``person_id`` is held for
    who the person is: a conflict about it waits for review, or a review found it to be about
    someone else (then for good). Read by the person's index."""
    return bool(session.scalar(select(exists().where(
        IdentityReview.person_id == person_id, IdentityReview.source_ref == source_ref,
        IdentityReview.kind == "conflict", or_(
            IdentityReview.status == "open",
            IdentityReview.resolution == "different-person")))))


def authority_review(session: Session, child_id: str, parent_id: str) -> IdentityReview | None:
    """The review of the parent's claimed authority over the child that is open, or that
    refused it, if any (the newest)."""
    return session.scalars(select(IdentityReview).where(
        IdentityReview.person_id == child_id, IdentityReview.candidate_id == parent_id,
        IdentityReview.fact == "parental-authority", or_(
            IdentityReview.status == "open", IdentityReview.resolution == "no-authority"))
        .order_by(IdentityReview.created_at.desc()).limit(1)).first()


def person_by_bsn(session: Session, bsn: str) -> Person | None:
    return session.scalar(select(Person).where(Person.bsn == bsn))


_BY_BSN = select(Person).where(Person.bsn.in_(bindparam("bsns", expanding=True)))


def persons_by_bsn(session: Session, bsns: Sequence[str]) -> dict[str, Person]:
    """The persons these BSNs name (those known), in one read."""
    if not bsns:
        return {}
    return {p.bsn: p for p in session.scalars(_BY_BSN, {"bsns": sorted(set(bsns))}) if p.bsn}


def persons_by_local(session: Session, locals_: Sequence[Identifier]) -> dict[Identifier, Person]:
    """The persons these source systems' own identifiers name (those known), in one read."""
    if not locals_:
        return {}
    rows = session.execute(select(Person, PersonIdentifier.system, PersonIdentifier.value).join(
        PersonIdentifier, PersonIdentifier.person_id == Person.id).where(or_(*(
            and_(PersonIdentifier.system == local.system, PersonIdentifier.value == local.value)
            for local in set(locals_)))))
    return {Identifier(system=system, value=value): person for person, system, value in rows}


def look_alikes(session: Session, match_key: str, person: Person, limit: int,
                leaving_out: Collection[str] = ()) -> list[str]:
    """Ids of other persons with this match key that a BSN does not tell apart from
    ``person`` (one of the two has none), oldest first, but those ``leaving_out``."""
    query = select(Person.id, Person.bsn).where(
        Person.match_key == match_key, Person.id.not_in([person.id, *leaving_out])).order_by(
        Person.created_at, Person.id).limit(limit)
    return [pid for pid, bsn in session.execute(query) if bsn is None or person.bsn is None]


def pair_in_review(session: Session, person_id: str, candidate_id: str) -> bool:
    """Whether these two persons wait for a probable-match review already."""
    return bool(session.scalar(select(exists().where(
        IdentityReview.kind == "probable-match", IdentityReview.status == "open",
        IdentityReview.person_id == person_id, IdentityReview.candidate_id == candidate_id))))
