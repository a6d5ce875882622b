"""Household and representation queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased

from gateway.auth.bearer import Caller
from gateway.identity.merges import merge_set
from gateway.involvements.repository import involved_in, organizations_helping
from gateway.platform.db.driver import DriverRead
from gateway.platform.db.models import (
    HouseholdIdentifier,
    HouseholdMember,
    HouseholdMerge,
    HouseholdRow,
    RelatedPersonRow,
)
from schemas import Identifier
from schemas.household import ADULT_ROLES, CHILD_ROLES

_M = HouseholdMember
_MERGE_IN_FORCE = HouseholdMerge.undone_at.is_(None)
_MERGED = aliased(HouseholdRow, name="merged_household")


def current(day: date | BindParameter[date]) -> ColumnElement[bool]:
    """A membership on ``day`` (its end is its last day)."""
    return and_(or_(_M.period_start.is_(None), _M.period_start <= day),
                or_(_M.period_end.is_(None), _M.period_end >= day))


# on the driver's cursor (these two): every household registration reads them
_ROLES = DriverRead(select(_M.person_id, _M.role).where(_M.household_id == bindparam("household")))


def roles(session: Session, household_id: str) -> set[tuple[str, str]]:
    """(person id, role) of each member of the household."""
    return {(person, role) for person, role in _ROLES.rows(session, {"household": household_id})}


def members(session: Session, household_id: str) -> Sequence[HouseholdMember]:
    return session.scalars(select(_M).where(_M.household_id == household_id)
                           .order_by(_M.position)).all()


def identifiers(session: Session, household_id: str) -> Sequence[HouseholdIdentifier]:
    return session.scalars(select(HouseholdIdentifier)
                           .where(HouseholdIdentifier.household_id == household_id)
                           .order_by(HouseholdIdentifier.created_at,
                                     HouseholdIdentifier.system,
                                     HouseholdIdentifier.value)).all()


_HOLDER = DriverRead(select(HouseholdIdentifier.household_id).where(
    HouseholdIdentifier.system == bindparam("system"),
    HouseholdIdentifier.value == bindparam("value")))


def holders(session: Session, wanted: Iterable[Identifier]) -> dict[Identifier, str]:
    """Which household holds each of these source ids (those held); a registration gives
    one or two, each a lookup by primary key."""
    held = {identifier: _HOLDER.rows(session, {"system": identifier.system,
                                               "value": identifier.value})
            for identifier in dict.fromkeys(wanted)}
    return {identifier: rows[0][0] for identifier, rows in held.items() if rows}


_ADULTS = select(_M.household_id, _M.person_id).where(
    _M.person_id.in_(bindparam("ids", expanding=True)), _M.role.in_(ADULT_ROLES),
    current(bindparam("day")))


def households_with_adults(session: Session, residents: Sequence[Sequence[str]],
                           day: date) -> list[str]:
    """The households in which every resident (each a merge set of person ids) is a current
    adult member on ``day``."""
    adults: dict[str, set[str]] = defaultdict(set)  # household -> its adults of these
    for household, person in session.execute(_ADULTS, {
            "ids": sorted({i for ids in residents for i in ids}), "day": day}):
        adults[household].add(person)
    return sorted(household for household, here in adults.items()
                  if all(here.intersection(ids) for ids in residents))


# built once: a registration names the parents of each child, and building the statement
# (two merge sets) costs more than running it
_PARENT_OF = select(exists().where(
    _M.person_id.in_(merge_set(bindparam("parent"))), _M.role == "parent",
    _M.household_id.in_(select(_M.household_id).where(
        _M.person_id.in_(merge_set(bindparam("child"))), _M.role.in_(CHILD_ROLES)))))


def is_parent_of(session: Session, parent_id: str, child_id: str) -> bool:
    """Whether a household has, or had, the one as a parent and the other as a child (either
    as any record of their merge set). Not only today's: a parent who moved out after a
    divorce keeps parental authority, so the household they left still shows the tie."""
    return bool(session.scalar(_PARENT_OF, {"parent": parent_id, "child": child_id}))


def registered_by(caller: Caller) -> ColumnElement[bool]:
    """Households the caller registered or gave an id of: its own registrations, also one
    merged into this household (while the merge is in force)."""
    return or_(HouseholdRow.client_id == caller.client_id,
               exists().where(HouseholdIdentifier.household_id == HouseholdRow.id,
                              HouseholdIdentifier.client_id == caller.client_id),
               exists().where(HouseholdMerge.survivor_id == HouseholdRow.id, _MERGE_IN_FORCE,
                              _MERGED.id == HouseholdMerge.merged_id,
                              _MERGED.client_id == caller.client_id))


def visible_to(caller: Caller) -> ColumnElement[bool]:
    """Households the caller registered or holds an id of, or whose members (any) its
    organisation helps now."""
    return or_(registered_by(caller),
               exists().where(_M.household_id == HouseholdRow.id,
                              involved_in(caller.organization, _M.person_id)))


def visible(session: Session, caller: Caller, household_id: str) -> HouseholdRow | None:
    return session.scalar(select(HouseholdRow).where(HouseholdRow.id == household_id,
                                                     visible_to(caller)))


def is_registered_by(session: Session, caller: Caller, household_id: str) -> bool:
    return bool(session.scalar(select(exists().where(HouseholdRow.id == household_id,
                                                     registered_by(caller)))))


def search(caller: Caller, member_ids: list[str] | None,
           identifier: ColumnElement[bool] | None) -> Select[tuple[HouseholdRow]]:
    query = select(HouseholdRow).where(visible_to(caller), ~exists().where(
        HouseholdMerge.merged_id == HouseholdRow.id, _MERGE_IN_FORCE))  # gone: merged away
    if member_ids is not None:
        query = query.where(exists().where(_M.household_id == HouseholdRow.id,
                                           _M.person_id.in_(member_ids)))
    if identifier is not None:
        query = query.where(exists().where(
            HouseholdIdentifier.household_id == HouseholdRow.id, identifier))
    return query


def survivor_of(session: Session, household_id: str) -> str | None:
    """The household this one is merged into (in force), if any."""
    return session.scalar(select(HouseholdMerge.survivor_id).where(
        HouseholdMerge.merged_id == household_id, _MERGE_IN_FORCE))


def has_merged_into_it(session: Session, household_id: str) -> bool:
    """Whether another household is merged into this one (in force)."""
    return bool(session.scalar(select(exists().where(
        HouseholdMerge.survivor_id == household_id, _MERGE_IN_FORCE))))


def merges_of(session: Session, household_id: str) -> Sequence[HouseholdMerge]:
    """Every merge, in force or undone, this household was part of, oldest first."""
    return session.scalars(select(HouseholdMerge).where(
        (HouseholdMerge.survivor_id == household_id) | (HouseholdMerge.merged_id == household_id))
        .order_by(HouseholdMerge.merged_at, HouseholdMerge.id)).all()


def representations_in_force(session: Session, person_id: str,
                             at: datetime) -> Sequence[RelatedPersonRow]:
    return session.scalars(
        select(RelatedPersonRow).where(
            RelatedPersonRow.person_id == person_id,
            RelatedPersonRow.representation.is_not(None),
            or_(RelatedPersonRow.period_start.is_(None), RelatedPersonRow.period_start <= at),
            or_(RelatedPersonRow.period_end.is_(None), RelatedPersonRow.period_end > at))
        .order_by(RelatedPersonRow.created_at, RelatedPersonRow.id)).all()


def housemates(session: Session, person_id: str, day: date) -> set[str]:
    """The persons who share a household with ``person_id`` on ``day`` (the person too)."""
    theirs = select(_M.household_id).where(_M.person_id == person_id, current(day))
    return set(session.scalars(select(_M.person_id).where(_M.household_id.in_(theirs),
                                                           current(day))))


def organizations_helping_members(session: Session, household_id: str, at: datetime
                                  ) -> set[str]:
    """The organisations that help someone who is a member of this household at ``at``
    (not one who moved out, nor the members of another household of theirs)."""
    return organizations_helping(session, set(session.scalars(select(_M.person_id).where(
        _M.household_id == household_id, current(at.date())))), at)


def organizations_helping_household(session: Session, person_id: str, at: datetime) -> set[str]:
    """The organisations that help the person, or someone who shares a household with them,
    at ``at``: who hears of the person's trajectories."""
    return organizations_helping(session, housemates(session, person_id, at.date()) | {person_id},
                                 at)
