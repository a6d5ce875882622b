"""A ``limits`` storage backend on the gateway's own database, so that every process serving
it (uvicorn workers, replicas on PostgreSQL) counts against the same numbers.

One row per counter: key, count, expiry (seconds since the epoch). An increment is one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement, atomic on SQLite (one writer at a
time) and on PostgreSQL (the row lock of the upsert): two processes never both see the same
count. An expired counter restarts within that same statement. ``batch()`` lets several
increments share one transaction (the API counts per client and per address at once).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from limits.storage import Storage
from sqlalchemy import Connection, Engine, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from gateway.db.models import RateLimitCounter

_COUNTERS = RateLimitCounter.__table__
_KEY, _COUNT, _EXPIRES = _COUNTERS.c.key, _COUNTERS.c.count, _COUNTERS.c.expires_at
MAX_KEY_LENGTH = 255
SWEEP_EVERY = 1000  # increments (per process) between deletions of expired counters
_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


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
        if engine.dialect.name not in _INSERT:
            raise ValueError(f"no rate-limit storage for {engine.dialect.name}")
        self.engine = engine
        self._insert = _INSERT[engine.dialect.name]
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
        now = time.time()
        expired = _EXPIRES <= now
        upsert = self._insert(_COUNTERS).values(key=stored_key(key), count=amount,
                                                expires_at=now + expiry)
        statement = upsert.on_conflict_do_update(index_elements=[_KEY], set_={
            "count": case((expired, amount), else_=_COUNT + amount),
            "expires_at": case((expired, now + expiry), else_=_EXPIRES),
        }).returning(_COUNT)
        with self._connection() as connection:
            count = connection.execute(statement).scalar_one()
            if next(self._increments) % SWEEP_EVERY == 0:
                connection.execute(delete(_COUNTERS).where(_EXPIRES <= now))
        return count

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
