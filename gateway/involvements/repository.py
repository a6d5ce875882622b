"""Involvement queries: the check runs on every consent and person request, so it is one
indexed EXISTS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Exists, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from gateway.db.models import Involvement, OAuthClient, Person
from gateway.db.types import utcnow

_I = Involvement.__table__.c


def _involved(person_id: Any, organization: Any, at: Any) -> Exists:
    """The one definition of "involved": an involvement that has started and not ended."""
    return exists().where(_I.person_id == person_id, _I.organization == organization,
                          _I.started_at <= at, or_(_I.ended_at.is_(None), _I.ended_at > at))


_INVOLVED = select(_involved(bindparam("person_id"), bindparam("organization"),
                             bindparam("at")))


def involved_in(organization: str, person_id: ColumnElement[str]) -> Exists:
    """A filter: rows about persons ``organization`` helps now."""
    return _involved(person_id, organization, utcnow())


def is_involved(session: Session, organization: str, person_id: str, at: datetime) -> bool:
    return bool(session.connection().scalar(
        _INVOLVED, {"person_id": person_id, "organization": organization, "at": at}))


def end_from_source(session: Session, organization: str, person_id: str, source_ref: str,
                    at: datetime) -> int:
    """End the open involvements that ``source_ref`` (e.g. a referral) started (found by
    the person's index)."""
    result = session.execute(update(Involvement).where(
        Involvement.person_id == person_id, Involvement.organization == organization,
        Involvement.source_ref == source_ref, Involvement.ended_at.is_(None)).values(ended_at=at))
    return result.rowcount or 0


def open_from_source(session: Session, organization: str, person_id: str,
                     source_ref: str) -> Involvement | None:
    return session.scalars(select(Involvement).where(
        Involvement.person_id == person_id, Involvement.organization == organization,
        Involvement.source_ref == source_ref, Involvement.ended_at.is_(None)).limit(1)).first()


def roles_of(session: Session, organization: str) -> set[str]:
    """The roles of the clients that act for ``organization`` (its team, AGB/URA or id)."""
    client = organization.removeprefix("client:") if organization.startswith("client:") else ""
    return set(session.scalars(select(OAuthClient.role).where(or_(
        OAuthClient.team_id == organization, OAuthClient.organization == organization,
        OAuthClient.id == client))))


def recent_registrations(session: Session, limit: int) -> list[tuple[Involvement, str | None]]:
    """Administrators' registrations, newest first, each with the person's BSN (if known)."""
    return [(row, bsn) for row, bsn in session.execute(
        select(Involvement, Person.bsn).join(Person, Person.id == Involvement.person_id)
        .where(Involvement.source == "registration")
        .order_by(Involvement.created_at.desc(), Involvement.id).limit(limit))]


def recent(session: Session, limit: int = 100, person_id: str | None = None
           ) -> list[Involvement]:
    query = select(Involvement).order_by(Involvement.created_at.desc()).limit(limit)
    if person_id is not None:
        query = query.where(Involvement.person_id == person_id)
    return list(session.scalars(query))
