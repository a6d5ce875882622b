"""Hot reads on the driver's own cursor. A statement that runs on every request of a busy
operation (who-else-helps) is built with SQLAlchemy Core as usual, compiled once per dialect,
and then run on the DBAPI cursor of the session's connection: the same SQL, the same bind and
result conversions (the columns' own types), in the session's transaction, without the
per-execution cost of SQLAlchemy's execution context and result objects. Like the session's
own execute, a read first flushes what the session holds unwritten (unless autoflush is off),
so it sees the objects changed in the transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from gateway.platform.db.types import UTCDateTime

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]  # values the statement itself binds (literals)
    arguments: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # positional; None: by name
    binds: tuple[tuple[str, Processor], ...]
    convert: Callable[[Any], tuple[Any, ...]]  # a driver row -> the columns' Python values


class DriverRead:
    """A SELECT compiled once per dialect and run on the DBAPI cursor; ``rows`` answers
    tuples with the columns' Python values (e.g. aware datetimes), as ``execute`` would."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if session.autoflush:
            session.flush()  # nothing to do (and nearly free) when nothing changed
        connection = session.connection()
        compiled = self._compiled.get(connection.dialect.name)
        if compiled is None:
            compiled = self._compiled[connection.dialect.name] = self._compile(
                connection.dialect)
        values = {**compiled.defaults, **params} if compiled.defaults else dict(params)
        for name, process in compiled.binds:
            values[name] = process(values[name])
        # the driver connection's own execute (sqlite3 and psycopg have one) makes the cursor
        cursor = connection.connection.driver_connection.execute(
            compiled.sql, values if compiled.arguments is None else compiled.arguments(values))
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return list(map(compiled.convert, rows))

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        arguments: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None
        if compiled.positional:
            positions = tuple(compiled.positiontup or ())
            pick = itemgetter(*positions) if positions else None
            arguments = ((lambda values: ()) if pick is None
                         else (lambda values: (pick(values),)) if len(positions) == 1
                         else pick)
        elif dialect.paramstyle not in ("named", "pyformat"):  # pragma: no cover
            raise NotImplementedError(f"paramstyle {dialect.paramstyle}")
        binds = tuple((name, _bind_processor(compiled.binds[name].type, dialect, process))
                      for name, process in compiled._bind_processors.items()
                      if process is not None)
        processors = [_result_processor(column.type, dialect)
                      for column in self.statement.selected_columns]
        defaults = {name: bind.effective_value for name, bind in compiled.binds.items()
                    if not bind.required}
        return _Compiled(compiled.string, defaults, arguments, binds, _converter(processors))


def _result_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    """The type's own conversion; for a UTC datetime on SQLite (text), ``fromisoformat``,
    several times faster than the dialect's pattern, the type's on anything else."""
    process = type_._cached_result_processor(dialect, None)
    if process is None or not isinstance(type_, UTCDateTime) or dialect.name != "sqlite":
        return process
    general = process

    def utc_from_text(value: Any) -> Any:
        if value is None:
            return None
        try:  # stored in UTC without an offset: parsed as UTC (an aware datetime)
            moment = datetime.fromisoformat(value + "+00:00")
        except (TypeError, ValueError):
            moment = None
        # anything else (an offset, a date alone): as the type reads it
        return moment if moment is not None and moment.tzinfo is UTC else general(value)

    return utc_from_text


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect, process: Processor) -> Processor:
    """The type's own conversion (``process``); for a UTC datetime on SQLite, the same text
    by ``isoformat``, with the type's refusal of a naive datetime."""
    if not isinstance(type_, UTCDateTime) or dialect.name != "sqlite":
        return process

    def utc_to_text(value: Any) -> Any:
        if not isinstance(value, datetime):
            return process(value)
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        text = value.isoformat(" ")  # without the fraction at .000000
        return text[:26] if value.microsecond else f"{text[:19]}.000000"

    return utc_to_text


def _converter(processors: list[Processor | None]) -> Callable[[Any], tuple[Any, ...]]:
    """A function from a driver row to a tuple with each column's processor applied."""
    converted = tuple((i, p) for i, p in enumerate(processors) if p is not None)
    if not converted:
        return tuple

    def convert(row: Any) -> tuple[Any, ...]:
        values = list(row)
        for index, process in converted:
            values[index] = process(values[index])
        return tuple(values)

    return convert
