"""Involvement queries: the check runs on every consent and person request, so it is one
indexed EXISTS."""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Exists, Select, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from gateway.identity.merges import in_a_merge, merge_set
from gateway.platform.db.driver import DriverRead
from gateway.platform.db.models import Involvement, OAuthClient, Organization, Person
from gateway.platform.db.types import utcnow

_I = Involvement.__table__.c


def _in_force(at: Any) -> ColumnElement[bool]:
    """The one definition of an involvement in force: it has started and not ended."""
    return and_(_I.started_at <= at, or_(_I.ended_at.is_(None), _I.ended_at > at))


def _involved(person_id: Any, organization: Any, at: Any) -> Exists:
    """Involved: an involvement in force with any person id the resident is (its merge
    set)."""
    return exists().where(_I.person_id.in_(merge_set(person_id)), _I.organization == organization,
                          _in_force(at))


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


_P = Person.__table__.c
_HELPER_COLUMNS = (_I.organization, _I.started_at, _I.ended_at, _I.sensitivity,
                   # the BSN rides along, so the processing log's subject needs no read
                   select(_P.bsn).where(_P.id == bindparam("person_id")).scalar_subquery()
                   .label("bsn"), in_a_merge(bindparam("person_id")).label("merged"))
_ORDER = (_I.started_at, _I.organization)
# Nearly every person is in no merge: their involvements are on their own id, and a flag
# in the same read says whether the merge set must be read instead.
_HELPERS_ALONE = DriverRead(
    select(*_HELPER_COLUMNS)
    .where(_I.person_id == bindparam("person_id"), _I.started_at <= bindparam("at"))
    .order_by(*_ORDER))
_HELPERS = DriverRead(
    select(*_HELPER_COLUMNS)
    .where(_I.person_id.in_(merge_set(bindparam("person_id"))),
           _I.started_at <= bindparam("at"))
    .order_by(*_ORDER))
NAMES_SECONDS = 60
# database -> (until when, organisation -> name); engine -> its database's URL text
_NAMES: dict[str, tuple[float, dict[str, str]]] = {}
_DATABASES: WeakKeyDictionary[Any, str] = WeakKeyDictionary()

# (organization, started_at, ended_at, sensitivity, bsn, in a merge)
HelperRow = tuple[str, datetime, datetime | None, str, str | None, bool]


def helpers_of(session: Session, person_id: str, at: datetime) -> list[HelperRow]:
    """Every involvement with the person's merge set that has started by ``at``, ended or
    not, oldest first, each with the person's BSN: one round trip on the person index (which
    covers the columns asked) for a person in no merge, a second for the merge set of one
    that is (or that has no involvement of its own)."""
    params = {"person_id": person_id, "at": at}
    rows = _HELPERS_ALONE.rows(session, params)
    if not rows or rows[0][5]:
        rows = _HELPERS.rows(session, params)
    return rows  # type: ignore[return-value]


def organization_names(session: Session, organizations: set[str]) -> dict[str, str]:
    """A name per organisation (see ``_all_names``; an organisation without one is named by
    its id). Every name is read at once and remembered a minute per database (names seldom
    change, and every who-else-helps answer shows them): one read instead of one for each
    answer that names an organisation not yet remembered."""
    bind = session.get_bind()
    database = _DATABASES.get(bind)
    if database is None:
        database = _DATABASES[bind] = str(bind.url)
    now = time.monotonic()
    remembered = _NAMES.get(database)
    if remembered is None or remembered[0] <= now or not organizations <= remembered[1].keys():
        # expired, or one never seen (new since): read again; whoever still has no name is
        # named by its id until the next read
        names = _all_names(session)
        names.update((o, o) for o in organizations - names.keys())
        remembered = _NAMES[database] = (now + NAMES_SECONDS, names)
    names = remembered[1]
    return {o: names[o] for o in organizations}


def _all_names(session: Session) -> dict[str, str]:
    """Every organisation's name: a team's own, else that of the first client acting for it
    (the practice's for an AGB or URA), and ``client:{id}`` the client's own."""
    names: dict[str, str] = {i: n for i, n in session.execute(
        select(Organization.id, Organization.name))}
    for client_id, organization, name in session.execute(
            select(OAuthClient.id, OAuthClient.organization, OAuthClient.name)
            .order_by(OAuthClient.created_at, OAuthClient.id)):
        names.setdefault(f"client:{client_id}", name)
        if organization:
            names.setdefault(organization, name)
    return names


def _from_source(organization: str, person_id: str, source_ref: str) -> Select[Any]:
    return select(Involvement).where(
        Involvement.person_id == person_id, Involvement.organization == organization,
        Involvement.source_ref == source_ref)


def open_from_source(session: Session, organization: str, person_id: str,
                     source_ref: str) -> Involvement | None:
    return session.scalars(_from_source(organization, person_id, source_ref).where(
        Involvement.ended_at.is_(None)).limit(1)).first()


def latest_from_source(session: Session, organization: str, person_id: str,
                       source_ref: str) -> Involvement | None:
    """The involvement ``source_ref`` started last, open or ended."""
    return session.scalars(_from_source(organization, person_id, source_ref).order_by(
        Involvement.started_at.desc(), Involvement.created_at.desc()).limit(1)).first()


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


def open_cases(session: Session, organization: str, source: str, started_before: datetime,
               not_cases: tuple[str, ...]) -> list[Involvement]:
    """The organisation's involvements from ``source`` still open that started on or before
    ``started_before``, leaving out those whose reference starts with one of ``not_cases``."""
    query = select(Involvement).where(
        Involvement.organization == organization, Involvement.source == source,
        Involvement.ended_at.is_(None), Involvement.started_at <= started_before,
        *(Involvement.source_ref.not_like(f"{prefix}%") for prefix in not_cases))
    return list(session.scalars(query.order_by(Involvement.started_at, Involvement.id)))


def organizations_helping(session: Session, person_ids: Collection[str],
                          at: datetime) -> set[str]:
    """The organisations involved now with any of these persons."""
    if not person_ids:
        return set()
    return set(session.scalars(select(_I.organization).distinct().where(
        _I.person_id.in_(person_ids), _in_force(at))))
