"""All referral queries. Visibility lives here, once: a client sees what it sent, and a team's
client sees what was sent to its team."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from adapters.bindings import REQUIRED
from gateway.auth.bearer import Caller
from gateway.fhir.search import code_clause, token_clause
from gateway.platform.db.models import Organization, ServiceRequestRow, TaskRow, new_id
from schemas import Identifier

Row = TypeVar("Row", ServiceRequestRow, TaskRow)
TASK_STATUS_SYSTEM = "http://hl7.org/fhir/task-status"
TASK_STATUSES = REQUIRED[("Task", "status")]


def visible_to(caller: Caller, model: type[Row]) -> ColumnElement[bool]:
    own = model.client_id == caller.client_id
    team = model.team_id == caller.team_id if caller.team_id else false()
    return or_(own, team)


def tasks_found(caller: Caller, *, focus: list[str] | None, status: str | None
                ) -> Select[tuple[TaskRow]]:
    """A Task search among the caller's: by referral ids, and a ``status`` token value."""
    query = select(TaskRow).where(visible_to(caller, TaskRow))
    if focus is not None:
        query = query.where(TaskRow.service_request_id.in_(focus))
    if status is not None:
        query = query.where(code_clause(status, "status", TASK_STATUS_SYSTEM, TaskRow.status,
                                        TASK_STATUSES))
    return query


def referrals_found(caller: Caller, *, identifier: str | None
                    ) -> Select[tuple[ServiceRequestRow]]:
    """A ServiceRequest search among the caller's: by an ``identifier`` token value."""
    query = select(ServiceRequestRow).where(visible_to(caller, ServiceRequestRow))
    if identifier is not None:
        query = query.where(token_clause(identifier, ServiceRequestRow.identifier_system,
                                         ServiceRequestRow.identifier_value))
    return query


def get_visible(session: Session, model: type[Row], row_id: str, caller: Caller) -> Row | None:
    return session.scalar(select(model).where(model.id == row_id, visible_to(caller, model)))


def team_exists(session: Session, team_id: str) -> bool:
    return session.get(Organization, team_id) is not None


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
