"""Hot reads and inserts on the driver's own cursor. A statement that runs on every request
of a busy operation (who-else-helps, an inbound message) is built with SQLAlchemy Core as
usual, compiled once per dialect, and then run on the DBAPI cursor of the session's
connection: the same SQL, the same bind and result conversions (the columns' own types), in
the session's transaction, without the per-execution cost of SQLAlchemy's execution context
and result objects. Like the session's own execute, a read first flushes what the session
holds unwritten (unless autoflush is off), so it sees the objects changed in the transaction.
An insert of many rows (the processing log's entries, a household's members) likewise: the
same INSERT, each value converted by its column's type, column defaults filled in, and the
driver's errors raised as SQLAlchemy's (an ``IntegrityError`` stays one), without converting
every row's parameters through the execution context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnDefault, Connection, Dialect, Select, Table
from sqlalchemy.exc import DBAPIError
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


@dataclass(frozen=True, slots=True)
class _CompiledInsert:
    sql: str
    # each column: its key, what a row that leaves it out gets (a value, or a column default
    # to call, or _REQUIRED), the column type's conversion
    columns: tuple[tuple[str, Any, Processor | None], ...]
    positional: bool


_REQUIRED = object()  # no default: a row must give it (NOT NULL, or a server-side default)


class DriverInsert:
    """An INSERT of every column of ``table``, compiled once per dialect, run with the
    driver's ``executemany``. A row may leave out a column with a Python-side default, or a
    nullable one without a server-side default (NULL), as with SQLAlchemy's own insert."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._compiled: dict[str, _CompiledInsert] = {}

    def run(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        compiled = self._compiled.get(connection.dialect.name)
        if compiled is None:
            compiled = self._compiled[connection.dialect.name] = self._compile(
                connection.dialect)
        params = [_insert_values(compiled, row) for row in rows]
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.executemany(compiled.sql, params)
        except connection.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(compiled.sql, params, error,
                                      connection.dialect.loaded_dbapi.Error,
                                      hide_parameters=connection.engine.hide_parameters,
                                      dialect=connection.dialect, ismulti=True) from error
        finally:
            cursor.close()

    def _compile(self, dialect: Dialect) -> _CompiledInsert:
        keys = [column.key for column in self.table.columns]
        compiled = self.table.insert().compile(dialect=dialect, column_keys=keys)
        if compiled.positional and list(compiled.positiontup or ()) != keys:  # pragma: no cover
            raise NotImplementedError(f"unexpected parameter order of {self.table.name}")
        if not compiled.positional and dialect.paramstyle not in ("named", "pyformat"):
            raise NotImplementedError(f"paramstyle {dialect.paramstyle}")  # pragma: no cover
        processors = compiled._bind_processors
        return _CompiledInsert(compiled.string, tuple(
            (column.key, _left_out(column),
             _bind_processor(column.type, dialect, processors[column.key])
             if processors.get(column.key) else None)
            for column in self.table.columns), compiled.positional)


def _left_out(column: Any) -> Any:
    """What a row that leaves the column out gets: its default (a scalar, or the column
    default to call), NULL, or _REQUIRED."""
    default = column.default
    if default is not None and (default.is_scalar or default.is_callable):
        return default.arg if default.is_scalar else default
    if default is not None or column.server_default is not None:  # a SQL expression, a sequence
        return _REQUIRED
    return None if column.nullable else _REQUIRED


def _insert_values(compiled: _CompiledInsert, row: dict[str, Any]) -> Any:
    values = []
    for key, left_out, process in compiled.columns:
        if key in row:
            value = row[key]
        elif left_out is _REQUIRED:
            raise ValueError(f"a row without {key}, which has no default")
        elif isinstance(left_out, ColumnDefault):
            value = left_out.arg(None)
        else:
            value = left_out
        values.append(value if process is None else process(value))
    return values if compiled.positional else dict(
        zip((key for key, _, _ in compiled.columns), values, strict=True))


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
