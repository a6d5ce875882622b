"""Hot reads on the driver's own cursor. A statement that runs on every request of a busy
operation (who-else-helps) is built with SQLAlchemy Core as usual, compiled once per dialect,
and then run on the DBAPI cursor of the session's connection: the same SQL, the same bind and
result conversions (the columns' own types), in the session's transaction, without the
per-execution cost of SQLAlchemy's execution context and result objects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from gateway.platform.db.types import UTCDateTime

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    defaults: tuple[tuple[str, Any], ...]  # values the statement itself binds (literals)
    positions: tuple[str, ...] | None  # bind names in order (qmark/format); None: by name
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[tuple[int, Processor], ...]


class DriverRead:
    """A SELECT compiled once per dialect and run on the DBAPI cursor; ``rows`` answers
    tuples with the columns' Python values (e.g. aware datetimes), as ``execute`` would."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        connection = session.connection()
        compiled = self._compiled.get(connection.dialect.name)
        if compiled is None:
            compiled = self._compiled[connection.dialect.name] = self._compile(
                connection.dialect)
        values = dict(compiled.defaults)
        values.update(params)
        for name, process in compiled.binds:
            values[name] = process(values[name])
        cursor = connection.connection.cursor()
        try:
            if compiled.positions is None:
                cursor.execute(compiled.sql, values)
            else:
                cursor.execute(compiled.sql, tuple(values[n] for n in compiled.positions))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not compiled.results:
            return [tuple(row) for row in rows]
        converted = []
        for row in rows:
            values_ = list(row)
            for index, process in compiled.results:
                values_[index] = process(values_[index])
            converted.append(tuple(values_))
        return converted

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.positional:
            positions: tuple[str, ...] | None = tuple(compiled.positiontup or ())
        elif dialect.paramstyle in ("named", "pyformat"):
            positions = None
        else:  # pragma: no cover - every dialect the gateway runs on is one of the above
            raise NotImplementedError(f"paramstyle {dialect.paramstyle}")
        binds = tuple((name, _bind_processor(compiled.binds[name].type, dialect, process))
                      for name, process in compiled._bind_processors.items()
                      if process is not None)
        results = tuple(
            (index, process) for index, column in enumerate(self.statement.selected_columns)
            if (process := _result_processor(column.type, dialect)) is not None)
        defaults = tuple((name, bind.effective_value) for name, bind in compiled.binds.items()
                         if not bind.required)
        return _Compiled(compiled.string, defaults, positions, binds, results)


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
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return general(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

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
        return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]

    return utc_to_text
