"""Merge sets: person records found to be one resident act as one until the merge is undone.
Rows stay on the record they were made for (so an undo needs to move nothing); every read
about a person asks for the whole set. A set is a star: one canonical person (the survivor)
and the records merged into it, never a chain (``gateway.identity.merging`` keeps it so).
Queries only; never commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, bindparam, exists, func, or_, select, union
from sqlalchemy.orm import Session

from gateway.platform.db.models import PersonMerge

_M = PersonMerge.__table__.c
_IN_FORCE = _M.undone_at.is_(None)


def merge_set(person_id: Any) -> CompoundSelect:
    """SQL: the ids of the set ``person_id`` (a value, bind parameter or column) belongs to,
    for ``column.in_(merge_set(...))``: one round trip inside the query that needs it."""
    lookup = PersonMerge.__table__.alias("merged_into")  # not correlated with the listing
    survivor = func.coalesce(select(lookup.c.survivor_id).where(
        lookup.c.merged_id == person_id, lookup.c.undone_at.is_(None))
        .correlate_except(lookup).scalar_subquery(),
        person_id)
    return union(select(survivor.label("id")).correlate_except(lookup),
                 select(_M.merged_id).where(_M.survivor_id == survivor, _IN_FORCE)
                 .correlate_except(PersonMerge.__table__, lookup))


def in_a_merge(person_id: Any) -> ColumnElement[bool]:
    """SQL: whether ``person_id`` is part of a merge in force (survivor or merged), i.e.
    whether its merge set is more than itself: two index probes, for reads that take the
    plain ``person_id = ?`` path when it is not (nearly every person) and ``merge_set``
    otherwise."""
    return or_(exists().where(_M.merged_id == person_id, _IN_FORCE),
               exists().where(_M.survivor_id == person_id, _IN_FORCE))


_SURVIVOR = select(_M.survivor_id).where(_M.merged_id == bindparam("person_id"), _IN_FORCE)
_SURVIVORS = select(_M.merged_id, _M.survivor_id).where(
    _M.merged_id.in_(bindparam("ids", expanding=True)), _IN_FORCE)
_MERGED = select(_M.survivor_id, _M.merged_id).where(
    _M.survivor_id.in_(bindparam("ids", expanding=True)), _IN_FORCE).order_by(_M.merged_at, _M.id)


def person_ids(session: Session, person_id: str) -> tuple[str, ...]:
    """Every person id that is this resident (the merge set), the canonical one first."""
    return merge_sets(session, [person_id])[person_id]


def merge_sets(session: Session, ids: Collection[str]) -> dict[str, tuple[str, ...]]:
    """``person_ids`` of each of these persons, in two reads for all of them."""
    if not ids:
        return {}
    canonical = canonical_ids(session, ids)
    merged: dict[str, list[str]] = defaultdict(list)
    for survivor, merged_id in session.connection().execute(
            _MERGED, {"ids": sorted(set(canonical.values()))}):
        merged[survivor].append(merged_id)
    return {pid: (survivor, *merged[survivor]) for pid, survivor in canonical.items()}


def canonical_id(session: Session, person_id: str) -> str:
    """The id the resident's merge set is known by (the person's own when not merged)."""
    return session.connection().scalar(_SURVIVOR, {"person_id": person_id}) or person_id


def canonical_ids(session: Session, ids: Collection[str]) -> dict[str, str]:
    """``canonical_id`` of each of these persons, in one read for all of them."""
    if not ids:
        return {}
    survivors = dict(session.connection().execute(_SURVIVORS, {"ids": sorted(set(ids))}).all())
    return {pid: survivors.get(pid, pid) for pid in ids}


def merges_of(session: Session, person_id: str) -> list[PersonMerge]:
    """Every merge, in force or undone, that this person was part of, oldest first."""
    return list(session.scalars(select(PersonMerge).where(
        (PersonMerge.survivor_id == person_id) | (PersonMerge.merged_id == person_id))
        .order_by(PersonMerge.merged_at, PersonMerge.id)))
