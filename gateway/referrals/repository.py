"""All referral queries. Visibility lives here, once: a client sees what it sent, and a team's
client sees what was sent to its team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam, false, or_, select
from sqlalchemy.orm import Session

from gateway.auth.bearer import Caller
from gateway.db.models import (
    Organization,
    Person,
    PersonIdentifier,
    ServiceRequestRow,
    TaskRow,
    new_id,
)
from schemas import Identifier, Subject

Row = TypeVar("Row", ServiceRequestRow, TaskRow)


def visible_to(caller: Caller, model: type[Row]) -> ColumnElement[bool]:
    own = model.client_id == caller.client_id
    team = model.team_id == caller.team_id if caller.team_id else false()
    return or_(own, team)


def get_visible(session: Session, model: type[Row], row_id: str, caller: Caller) -> Row | None:
    return session.scalar(select(model).where(model.id == row_id, visible_to(caller, model)))


def team_exists(session: Session, team_id: str) -> bool:
    return session.get(Organization, team_id) is not None


_PERSONS = Person.__table__.c
_PERSON_BY_BSN = select(_PERSONS.id, _PERSONS.birth_date).where(_PERSONS.bsn == bindparam("bsn"))
_LOCAL_IDS = PersonIdentifier.__table__.c
_PERSON_BY_LOCAL_ID = select(_PERSONS.id, _PERSONS.birth_date).join_from(
    Person.__table__, PersonIdentifier.__table__, _LOCAL_IDS.person_id == _PERSONS.id).where(
    _LOCAL_IDS.system == bindparam("system"), _LOCAL_IDS.value == bindparam("value"))


@dataclass(frozen=True)
class PersonMatch:
    """The person a message is about, and the birth date the gateway knew when it says
    another one (an identity conflict for a person to resolve, never silently settled)."""

    person_id: str
    conflicting_birth_date: date | None = None


def find_or_create_person(session: Session, subject: Subject) -> PersonMatch:
    """Link by BSN, else by the sender's local id; a person known by neither is new.
    Statements are built once: this runs for every message."""
    born = subject.birth_date
    if subject.bsn:
        found = session.connection().execute(_PERSON_BY_BSN, {"bsn": subject.bsn}).first()
        return _matched(session, found, born) if found else PersonMatch(insert_row(
            session, Person, bsn=subject.bsn, birth_date=born))
    if subject.local_id:
        local = {"system": subject.local_id.system, "value": subject.local_id.value}
        found = session.connection().execute(_PERSON_BY_LOCAL_ID, local).first()
        if found:
            return _matched(session, found, born)
        person_id = insert_row(session, Person, birth_date=born)
        insert_row(session, PersonIdentifier, person_id=person_id, **local)
        return PersonMatch(person_id)
    return PersonMatch(insert_row(session, Person, birth_date=born))


_SET_BIRTH_DATE = (Person.__table__.update()
                   .where(_PERSONS.id == bindparam("person_id"), _PERSONS.birth_date.is_(None))
                   .values(birth_date=bindparam("born")))


def _matched(session: Session, found: Any, born: date | None) -> PersonMatch:
    """A known person whose birth date was unknown learns it; a different one is reported."""
    person_id, known = found
    if born is not None and known is None:
        session.connection().execute(_SET_BIRTH_DATE, {"person_id": person_id, "born": born})
    if born is not None and known is not None and born != known:
        return PersonMatch(person_id, known)
    return PersonMatch(person_id)


def insert_row(session: Session, model: type, **values: object) -> str:
    """A plain Core INSERT (no unit-of-work bookkeeping) for rows this request never changes;
    the statement is the table's own, so it compiles once and is cached."""
    row_id = str(values.setdefault("id", new_id()))
    session.connection().execute(model.__table__.insert(), values)
    return row_id


def find_by_identifier(session: Session, caller: Caller,
                       identifier: Identifier) -> list[ServiceRequestRow]:
    return list(session.scalars(select(ServiceRequestRow).where(
        ServiceRequestRow.client_id == caller.client_id,
        ServiceRequestRow.identifier_system == identifier.system,
        ServiceRequestRow.identifier_value == identifier.value).limit(2)))


def visible_by_ids(session: Session, model: type[Row], ids: list[str],
                   caller: Caller) -> list[Row]:
    """The rows of these ids the caller may see, in one query (a search's ``_include``)."""
    if not ids:
        return []
    return list(session.scalars(select(model).where(model.id.in_(ids),
                                                    visible_to(caller, model))))


def tasks_of(session: Session, caller: Caller, referral_ids: list[str]) -> list[TaskRow]:
    """The Tasks of these referrals the caller may see, in one query (``_revinclude``)."""
    if not referral_ids:
        return []
    return list(session.scalars(select(TaskRow).where(
        TaskRow.service_request_id.in_(referral_ids), visible_to(caller, TaskRow))
        .order_by(TaskRow.created_at, TaskRow.id)))
