"""Migration 0010 moves each person's local identifier into ``person_identifiers`` (and back
on downgrade), marks the existing identity reviews as conflicts, and leaves every reference to
a person intact, on both backends (SQLite rebuilds ``persons`` for it)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade

ROWS = ("INSERT INTO oauth_clients (id, name, scopes, role, created_at) VALUES ('gp-1', "
        "'Praktijk', 'system/ServiceRequest.write', 'huisarts', '2026-01-01')",
        "INSERT INTO persons (id, bsn, local_system, local_value, birth_date, created_at) "
        "VALUES ('p-1', NULL, 'urn:oid:2.16.528.1.1007.99.1', 'A-17', '2012-05-01', "
        "'2026-01-01'), ('p-2', '999999990', NULL, NULL, NULL, '2026-01-02')",
        "INSERT INTO identity_reviews (id, person_id, fact, known_value, claimed_value, "
        "client_id, status, created_at) VALUES ('r-1', 'p-1', 'birth_date', '2012-05-01', "
        "'2012-06-01', 'gp-1', 'open', '2026-02-01')",
        "INSERT INTO involvements (id, organization, person_id, source, started_at, "
        "registered_by, created_at) VALUES ('i-1', 'wijkteam-noord', 'p-1', 'registration', "
        "'2026-02-01', 'gp-1', '2026-02-01')")



def _query(url: str, statement: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.text(statement))]
    engine.dispose()
    return rows


def test_local_identifiers_move_and_come_back(empty_url: str) -> None:
    upgrade(empty_url, "0009")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(sa.text(statement))
    engine.dispose()
    upgrade(empty_url, "0010")
    assert _query(empty_url, "SELECT person_id, system, value FROM person_identifiers") == \
        [("p-1", "urn:oid:2.16.528.1.1007.99.1", "A-17")]
    assert _query(empty_url, "SELECT kind, candidate_id FROM identity_reviews") == \
        [("conflict", None)]
    assert _query(empty_url, "SELECT id, bsn, match_key FROM persons ORDER BY id") == \
        [("p-1", None, None), ("p-2", "999999990", None)]
    assert _query(empty_url, "SELECT person_id FROM involvements") == [("p-1",)]
    engine = make_engine(empty_url)
    with engine.begin() as connection:  # the same local id cannot name a second person
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            connection.execute(sa.text(
                "INSERT INTO person_identifiers (id, person_id, system, value, created_at) "
                "VALUES ('x', 'p-2', 'urn:oid:2.16.528.1.1007.99.1', 'A-17', '2026-03-01')"))
        if engine.dialect.name == "sqlite":  # foreign keys are on again after the rebuild
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    with engine.connect() as connection:
        config = alembic_config(empty_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
        connection.commit()
    engine.dispose()
    assert _query(empty_url, "SELECT id, local_system, local_value FROM persons "
                             "ORDER BY id") == \
        [("p-1", "urn:oid:2.16.528.1.1007.99.1", "A-17"), ("p-2", None, None)]
    upgrade(empty_url)  # and forward again to the head
