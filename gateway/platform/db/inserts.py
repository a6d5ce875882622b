"""New rows written at once with their table's own INSERT, past the unit of work.

A flush of a new ORM object costs several times the INSERT it sends (state tracking, dependency
sorting, events); on the inbound path, which writes a handful of new rows per message, those
flushes were most of the time. :func:`insert_loaded` writes the row now and keeps the object in
the session as if it had been loaded, so the rest of the code goes on using it as an object."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from gateway.platform.db.driver import DriverInsert
from gateway.platform.db.models import Base

_INSERTS: dict[str, DriverInsert] = {}  # by table name


def insert_loaded(session: Session, *rows: Base) -> None:
    """Insert new objects' rows now (of one class, in one statement), column defaults filled
    in on the objects first, and add the objects to the session as persistent and unchanged.
    Nothing cascades: for rows whose objects have no relationships to write and no
    server-side defaults. The rows they refer to must be written already."""
    if not rows:
        return
    table = type(rows[0]).__table__
    insert = _INSERTS.get(table.name) or _INSERTS.setdefault(table.name, DriverInsert(table))
    insert.run(session.connection(), [_values(row) for row in rows])
    for row in rows:
        make_transient_to_detached(row)
        session.add(row)


def _values(row: Base) -> dict[str, Any]:
    values = {}
    for prop in inspect(row).mapper.column_attrs:
        column = prop.columns[0]
        value, default = getattr(row, prop.key), column.default
        assert value is not None or column.server_default is None, column
        if value is None and default is not None:
            value = default.arg(None) if default.is_callable else default.arg
            setattr(row, prop.key, value)
        values[column.key] = value
    return values
