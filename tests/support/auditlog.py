"""Processing-log test helpers: verify as ``wijkgateway audit verify`` does, and tamper as an
administrator with the database in hand would (past the append-only guards), including
recomputing every hash with the gateway's own code."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit.chain import HASHED_COLUMNS, entry_leaf
from gateway.audit.log import CONTEXT
from gateway.audit.verify import Verification, verify_log


def verify(sessions: sessionmaker[Session]) -> Verification:
    context = sessions.kw["info"][CONTEXT]
    with sessions() as session:
        return verify_log(session.connection(), context.identity, context.checkpoint_every)


def tamper(admin_url: str, *statements: str, params: dict[str, Any] | None = None) -> None:
    """Run statements as the database's superuser with triggers off (an administrator)."""
    engine = sa.create_engine(admin_url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for statement in statements:
                connection.execute(sa.text(statement), params or {})
    finally:
        engine.dispose()


def rehash(admin_url: str) -> None:
    """Recompute every entry's leaf hash from its content: what an attacker who rewrote
    entries does to hide it."""
    engine = sa.create_engine(admin_url)
    columns = ", ".join(HASHED_COLUMNS)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            rows = connection.execute(sa.text(
                f"SELECT {columns} FROM processing_log ORDER BY seq")).mappings().all()  # noqa: S608
            for row in rows:
                connection.execute(sa.text("UPDATE processing_log SET hash = :h WHERE seq = :s"),
                                   {"h": entry_leaf(row).hex(), "s": row["seq"]})
    finally:
        engine.dispose()
