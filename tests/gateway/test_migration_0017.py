"""Migration 0017 gives involvements an empty case director (worker, organisation), keeping
every involvement and the who-else-helps index; a downgrade drops the two columns only."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade

ROWS = ("INSERT INTO persons (id, created_at) VALUES ('p-1', '2026-01-01')",
        "INSERT INTO involvements (id, organization, person_id, source, started_at, "
        "registered_by, created_at, sensitivity) VALUES ('i-1', 'wijkteam-noord', 'p-1', "
        "'zcd', '2026-01-01', 'zcd-noord', '2026-01-01', 'none')")



def _columns(engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns("involvements")}


def test_the_case_director_is_added_empty_and_dropped(empty_url: str) -> None:
    upgrade(empty_url, "0016")
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        for statement in ROWS:
            connection.execute(sa.text(statement))
    upgrade(empty_url, "0017")
    with engine.begin() as connection:
        assert connection.execute(sa.text(
            "SELECT id, director_worker, director_organization FROM involvements")).all() == [
            ("i-1", None, None)]
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("involvements")}
    assert "ix_involvements_person_helpers" in indexes
    with engine.connect() as connection:
        config = alembic_config(empty_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0016")
        connection.commit()
    assert {"director_worker", "director_organization"}.isdisjoint(_columns(engine))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM involvements")).all() == [("i-1",)]
    engine.dispose()
