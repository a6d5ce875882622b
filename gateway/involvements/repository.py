"""Involvement queries: the check runs on every consent and person request, so it is one
indexed EXISTS."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Exists, Row, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from gateway.db.models import Involvement, OAuthClient, Organization, Person
from gateway.db.types import utcnow
from gateway.identity.merges import merge_set

_I = Involvement.__table__.c


def _involved(person_id: Any, organization: Any, at: Any) -> Exists:
    """The one definition of "involved": an involvement that has started and not ended,
    with any person id the resident is (its merge set)."""
    return exists().where(_I.person_id.in_(merge_set(person_id)), _I.organization == organization,
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


_HELPERS = (select(_I.organization, _I.started_at, _I.ended_at, _I.sensitivity)
            .where(_I.person_id.in_(bindparam("person_ids", expanding=True)),
                   _I.started_at <= bindparam("at"))
            .order_by(_I.started_at, _I.organization))


def helpers_of(session: Session, person_ids: Sequence[str], at: datetime) -> list[Row[Any]]:
    """Every involvement with these persons that has started by ``at``, ended or not: one
    read of the person index, which covers every column asked (organisation, period,
    sensitivity)."""
    return list(session.connection().execute(_HELPERS, {"person_ids": list(person_ids),
                                                        "at": at}))


def organization_names(session: Session, organizations: set[str]) -> dict[str, str]:
    """A name per organisation: a team's own, else that of a client acting for it (the
    practice's for an AGB or URA, the client's for ``client:{id}``)."""
    names = dict(session.execute(select(Organization.id, Organization.name)
                                 .where(Organization.id.in_(organizations))).all())
    rest = organizations - names.keys()
    if rest:
        clients = {f"client:{c}" for c in rest if c.startswith("client:")}
        for client_id, organization, name in session.execute(
                select(OAuthClient.id, OAuthClient.organization, OAuthClient.name).where(or_(
                    OAuthClient.organization.in_(rest - clients),
                    OAuthClient.id.in_([c.removeprefix("client:") for c in clients])))
                .order_by(OAuthClient.created_at)):
            names.setdefault(f"client:{client_id}" if f"client:{client_id}" in rest
                             else organization, name)
    return names


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
