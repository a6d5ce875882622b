"""Queries of the household plan's tables."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.platform.db.models import CarePlanBase, CarePlanRow, HouseholdMember, Person

OPEN = ("draft", "active")


def open_plan_of(session: Session, household_id: str) -> CarePlanRow | None:
    return session.scalar(select(CarePlanRow).where(CarePlanRow.household_id == household_id,
                                                    CarePlanRow.status.in_(OPEN)))


def members(session: Session, household_id: str) -> list[tuple[HouseholdMember, Person]]:
    """Everyone ever in the household, with their membership (role, period)."""
    return [(m, p) for m, p in session.execute(
        select(HouseholdMember, Person).join(Person, Person.id == HouseholdMember.person_id)
        .where(HouseholdMember.household_id == household_id)
        .order_by(HouseholdMember.position))]


def base_of(session: Session, plan_id: str, client_id: str) -> CarePlanBase | None:
    return session.get(CarePlanBase, (plan_id, client_id))


def remember_base(session: Session, plan_id: str, client_id: str, version_id: int,
                  items: Iterable[str]) -> None:
    """The version this system has now (read, received or written) and the items it saw of
    it: its next change's base."""
    seen = {"items": sorted(items)}
    row = session.get(CarePlanBase, (plan_id, client_id))
    if row is None:
        session.add(CarePlanBase(plan_id=plan_id, client_id=client_id, version_id=version_id,
                                 seen=seen))
    else:
        row.version_id, row.seen = version_id, seen


def search(household_ids: Select[tuple[str]], statuses: list[str] | None
           ) -> Select[tuple[CarePlanRow]]:
    query = select(CarePlanRow).where(CarePlanRow.household_id.in_(household_ids))
    return query.where(CarePlanRow.status.in_(statuses)) if statuses else query
