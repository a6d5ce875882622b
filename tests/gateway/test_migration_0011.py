"""Migration 0011 keeps the parents and guardians registered before it (holding no
representation), lets a representative have no family relationship, and a downgrade removes
what the old schema cannot hold (a representative without one) and the household tables."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade

HOUSEHOLD_TABLES = {"households", "household_identifiers", "household_members"}


def test_related_persons_kept_and_households_added(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0010")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO oauth_clients (id, name, scopes, role, created_at) VALUES "
            "('team-1', 'Team', 'system/RelatedPerson.write', 'wijkteam', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO persons (id, bsn, birth_date, created_at) VALUES "
            "('p-1', '999998456', '2016-02-03', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO related_persons (id, person_id, relationship, bsn, client_id, "
            "created_at) VALUES ('r-1', 'p-1', 'MTH', '999990019', 'team-1', '2026-01-02')"))
    upgrade(url, "0011")
    assert HOUSEHOLD_TABLES <= set(sa.inspect(engine).get_table_names())
    with engine.begin() as connection:
        assert connection.execute(sa.text(
            "SELECT id, relationship, representation, organization, period_start, period_end "
            "FROM related_persons")).all() == [("r-1", "MTH", None, None, None, None)]
        connection.execute(sa.text(
            "INSERT INTO related_persons (id, person_id, relationship, client_id, created_at, "
            "representation, organization) VALUES ('r-2', 'p-1', NULL, 'team-1', '2026-02-01', "
            "'guardian', 'ura:12345678')"))
    with engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
        connection.commit()
    assert not HOUSEHOLD_TABLES & set(sa.inspect(engine).get_table_names())
    with engine.begin() as connection:
        assert connection.execute(sa.text(
            "SELECT id, relationship FROM related_persons")).all() == [("r-1", "MTH")]
    engine.dispose()
