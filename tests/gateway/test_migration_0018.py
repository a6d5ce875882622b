"""Migration 0018 gives involvements empty life domains, keeping every involvement; a
downgrade drops the column only."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade
from tests.gateway.test_migration_0017 import ROWS


def test_the_life_domains_are_added_empty_and_dropped(empty_url: str) -> None:
    upgrade(empty_url, "0017")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(sa.text(statement))
    upgrade(empty_url, "0018")
    with engine.begin() as connection:
        assert connection.execute(sa.text("SELECT id, domains FROM involvements")).all() == [
            ("i-1", None)]
    with engine.connect() as connection:
        config = alembic_config(empty_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")
        connection.commit()
    columns = {c["name"] for c in sa.inspect(engine).get_columns("involvements")}
    assert "domains" not in columns and "director_worker" in columns
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM involvements")).all() == [("i-1",)]
    engine.dispose()
