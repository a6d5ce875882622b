"""A ``limits`` storage backend on the gateway's own database, so that every process serving
it (uvicorn workers, replicas on PostgreSQL) counts against the same numbers.

One row per counter: key, count, expiry (seconds since the epoch). An increment is one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement, atomic on SQLite (one writer at a
time) and on PostgreSQL (the row lock of the upsert): two processes never both see the same
count. An expired counter restarts within that same statement. ``incr_many`` moves several
counters in one statement (the API counts per client and per address at once); ``batch()``
joins the increments to a transaction already open (the token endpoint's).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cache

from limits.storage import Storage
from sqlalchemy import Connection, Dialect, Engine, delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from gateway.platform.db.models import RateLimitCounter

_COUNTERS = RateLimitCounter.__table__
_KEY, _COUNT, _EXPIRES = _COUNTERS.c.key, _COUNTERS.c.count, _COUNTERS.c.expires_at
MAX_KEY_LENGTH = 255
SWEEP_EVERY = 1000  # increments (per process) between deletions of expired counters
DIALECTS = ("sqlite", "postgresql")


_ON_CONFLICT = """
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN rate_limit_counters.expires_at <= :now THEN excluded.count
                     ELSE rate_limit_counters.count + excluded.count END,
        expires_at = CASE WHEN rate_limit_counters.expires_at <= :now THEN excluded.expires_at
                          ELSE rate_limit_counters.expires_at END
    RETURNING key, count"""


@cache
def _upsert(dialect: Dialect, rows: int) -> tuple[str, tuple[str, ...] | None]:
    """Plain SQL that SQLite and PostgreSQL share, for ``rows`` counters at once, compiled
    once per dialect and size and run on the driver: the API counts on every request, and
    two counts cost one statement. Only numbered placeholders go into the text; the values
    are bound. Returns the SQL and, for positional drivers, the order of its parameters."""
    values = ", ".join(f"(:key{i}, :amount{i}, :expires{i})" for i in range(rows))
    insert = "INSERT INTO rate_limit_counters (key, count, expires_at) VALUES "
    compiled = text(insert + values + _ON_CONFLICT).compile(dialect=dialect)
    return compiled.string, compiled.positiontup


def stored_key(key: str) -> str:
    """Keys hold identifiers a caller chose; an overlong one is stored as its digest."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class SqlStorage(Storage):
    """Fixed-window counters in the ``rate_limit_counters`` table."""

    STORAGE_SCHEME = None  # built from an engine, never from a URI

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        if engine.dialect.name not in DIALECTS:
            raise ValueError(f"no rate-limit storage for {engine.dialect.name}")
        self.engine = engine
        self._batch = threading.local()
        self._increments = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    @contextmanager
    def batch(self, connection: Connection | None = None) -> Iterator[None]:
        """Every call in this block (in this thread) in one transaction: a new one, or the
        one ``connection`` is in (its owner commits)."""
        with nullcontext(connection) if connection else self.engine.begin() as current:
            self._batch.connection = current
            try:
                yield
            finally:
                self._batch.connection = None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        current = getattr(self._batch, "connection", None)
        if current is not None:
            yield current
            return
        with self.engine.begin() as connection:
            yield connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.incr_many([(key, expiry, amount)])[0]

    def incr_many(self, counters: list[tuple[str, int, int]]) -> list[int]:
        """Several ``incr(key, expiry, amount)`` (distinct keys) in one statement; the new
        counts in the same order."""
        now = time.time()
        params: dict[str, object] = {"now": now}
        keys = []
        for i, (key, expiry, amount) in enumerate(counters):
            keys.append(stored_key(key))
            params.update({f"key{i}": keys[-1], f"amount{i}": amount,
                           f"expires{i}": now + expiry})
        with self._connection() as connection:
            sql, order = _upsert(connection.dialect, len(counters))
            bound = tuple(params[name] for name in order) if order else params
            counts = {key: count for key, count in connection.exec_driver_sql(sql, bound)}
            if next(self._increments) % SWEEP_EVERY == 0:
                connection.execute(delete(_COUNTERS).where(_EXPIRES <= now))
        return [counts[key] for key in keys]

    def get(self, key: str) -> int:
        with self._connection() as connection:
            count = connection.scalar(select(_COUNT).where(_KEY == stored_key(key),
                                                           _EXPIRES > time.time()))
        return count or 0

    def get_expiry(self, key: str) -> float:
        with self._connection() as connection:
            expires = connection.scalar(select(_EXPIRES).where(_KEY == stored_key(key)))
        return expires if expires is not None else time.time()

    def check(self) -> bool:
        with self._connection() as connection:
            connection.scalar(select(func.count()).select_from(_COUNTERS))
        return True

    def reset(self) -> int | None:
        with self._connection() as connection:
            return connection.execute(delete(_COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with self._connection() as connection:
            connection.execute(delete(_COUNTERS).where(_KEY == stored_key(key)))
