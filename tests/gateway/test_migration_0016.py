"""Migration 0016 adds ``feed_entries`` next to the outbox, changing no message; on PostgreSQL
the server fills ``txid`` with the writing transaction's id, on SQLite it stays empty; ``seq``
is never reused; a downgrade drops the table and keeps the outbox."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade

ROWS = ("INSERT INTO oauth_clients (id, name, scopes, role, created_at) VALUES ('mc', "
        "'MC', 'adapter/menscentraal.write', 'wijkteam', '2026-01-01')",
        "INSERT INTO subscriptions (id, version_id, client_id, criteria, resource_type, "
        "endpoint, headers, status, created_at, notification_style) VALUES ('sub-1', 1, 'mc', "
        "'Task', 'Task', 'https://r.example/hook', '{}', 'active', '2026-02-01', "
        "'put-resource')",
        "INSERT INTO outbox (id, subscription_id, event_type, ordering_key, resource_type, "
        "resource_id, payload, status, attempts, next_attempt_at, created_at) VALUES (1, "
        "'sub-1', 'e', 'p', 'Task', 't', '{}', 'delivered', 1, '2026-02-01', '2026-02-01')")
ENTRY = ("INSERT INTO feed_entries (outbox_id, client_id, created_at) VALUES (1, 'mc', "
         "'2026-02-02')")



def _query(engine: sa.Engine, statement: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(statement))]


def test_feed_entries_added_and_dropped(empty_url: str) -> None:
    upgrade(empty_url, "0015")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(sa.text(statement))
    upgrade(empty_url, "0016")
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        connection.execute(sa.text(ENTRY))
        writer = connection.execute(sa.text(
            "SELECT pg_current_xact_id()::text::bigint")).scalar() if postgres else None
    with engine.begin() as connection:
        connection.execute(sa.text(ENTRY))
        connection.execute(sa.text("DELETE FROM feed_entries WHERE seq = 2"))
    with engine.begin() as connection:
        connection.execute(sa.text(ENTRY))
    assert _query(engine, "SELECT seq, txid FROM feed_entries ORDER BY seq")[0] == (1, writer)
    assert [seq for seq, in _query(engine, "SELECT seq FROM feed_entries ORDER BY seq")] == [
        1, 3]  # the deleted number is not handed out again
    with engine.begin() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.execute(sa.text(ENTRY.replace("VALUES (1,", "VALUES (99,")))
    assert _query(engine, "SELECT status FROM outbox") == [("delivered",)]
    with engine.connect() as connection:
        config = alembic_config(empty_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
        connection.commit()
    assert "feed_entries" not in sa.inspect(engine).get_table_names()
    assert _query(engine, "SELECT id FROM outbox") == [(1,)]
    engine.dispose()
    upgrade(empty_url)  # and forward again to the head
