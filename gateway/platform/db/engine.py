"""Engines tuned per backend. SQLite: WAL, synchronous=NORMAL, foreign keys, busy timeout,
and ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing on a stale snapshot.

Within one process, SQLite transactions also queue on a Python lock: it hands over the moment
it is released, where SQLite's busy handler polls in sleeps of up to 100 ms. The busy timeout
still covers other processes (the delivery worker, the CLI)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

WRITER_WAIT_SECONDS = 10


class DatabaseBusy(TimeoutError):
    """The embedded database stayed locked too long; the request may be retried."""


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def make_engine(database_url: str) -> Engine:
    if not database_url.startswith("sqlite"):
        return create_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    engine = create_engine(database_url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        if not writer.acquire(timeout=WRITER_WAIT_SECONDS):
            raise DatabaseBusy(f"no database transaction within {WRITER_WAIT_SECONDS} s")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _release(connection: Any) -> None:
        writer.release()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_only_engine(engine: Engine) -> Engine:
    """An engine for long reads beside the writers (the CSV export). On SQLite in WAL mode a
    reader needs no lock: its statements run without ``BEGIN IMMEDIATE`` and without the
    writer lock, each on a snapshot of its own, and writers go on meanwhile. Connections are
    not pooled (a read holds one only while it runs). Elsewhere: ``engine`` itself."""
    if engine.dialect.name != "sqlite":
        return engine
    reader = create_engine(engine.url, connect_args={"check_same_thread": False},
                           poolclass=NullPool)

    @event.listens_for(reader, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in ("PRAGMA busy_timeout=10000", "PRAGMA query_only=ON"):
            cursor.execute(pragma)
        cursor.close()

    return reader
