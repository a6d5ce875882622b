"""Migration 0015 adds ``household_merges`` next to the households and reviews there are,
changing none of them; a merge must name households that exist; a downgrade drops the table
and keeps the households; on both backends (the ``moved`` document is JSONB on PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade

ROWS = ("INSERT INTO oauth_clients (id, name, scopes, role, created_at) VALUES ('zcd', "
        "'ZCD', 'system/Group.write', 'wijkteam', '2026-01-01')",
        "INSERT INTO persons (id, created_at) VALUES ('p-1', '2026-01-01')",
        "INSERT INTO households (id, version_id, client_id, created_at, updated_at) VALUES "
        "('h-1', 1, 'zcd', '2026-01-01', '2026-01-01'), "
        "('h-2', 1, 'zcd', '2026-01-02', '2026-01-02')",
        "INSERT INTO household_members (id, household_id, person_id, position, role) "
        "VALUES ('m-1', 'h-1', 'p-1', 0, 'parent'), ('m-2', 'h-2', 'p-1', 0, 'parent')",
        "INSERT INTO identity_reviews (id, kind, person_id, fact, known_value, claimed_value, "
        "source_ref, client_id, status, created_at) VALUES ('r-1', 'conflict', 'p-1', "
        "'household', 'h-1', 'h-2', 'Group/h-2', 'zcd', 'open', '2026-01-02')")
MERGE = ("INSERT INTO household_merges (id, survivor_id, merged_id, review_id, merged_by, "
         "merged_at, moved) VALUES ('x-1', 'h-1', :merged, 'r-1', 'beheer', '2026-01-03', "
         ":moved)")
MOVED = '{"members": [{"id": "m-2", "person": "p-1"}], "identifiers": []}'



def _query(engine: sa.Engine, statement: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(statement))]


def test_household_merges_added_and_dropped(empty_url: str) -> None:
    upgrade(empty_url, "0014")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(sa.text(statement))
    upgrade(empty_url, "0015")
    assert "household_merges" in sa.inspect(engine).get_table_names()
    assert _query(engine, "SELECT id, household_id FROM household_members ORDER BY id") == [
        ("m-1", "h-1"), ("m-2", "h-2")]
    assert _query(engine, "SELECT status, resolution FROM identity_reviews") == [
        ("open", None)]
    with engine.begin() as connection:
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            connection.execute(sa.text(MERGE), {"merged": "nowhere", "moved": MOVED})
        connection.execute(sa.text(MERGE), {"merged": "h-2", "moved": MOVED})
    assert _query(engine, "SELECT survivor_id, merged_id, review_id, undone_at "
                          "FROM household_merges") == [("h-1", "h-2", "r-1", None)]
    with engine.connect() as connection:
        config = alembic_config(empty_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
        connection.commit()
    assert "household_merges" not in sa.inspect(engine).get_table_names()
    assert _query(engine, "SELECT id FROM households ORDER BY id") == [("h-1",), ("h-2",)]
    engine.dispose()
    upgrade(empty_url)  # and forward again to the head
