"""Migration 0013 gives every involvement a sensitivity: those of an organisation whose client
has the role ``veilig-thuis`` become ``veilig-thuis`` (by team, AGB/URA or ``client:{id}``),
the rest ``none``; the person's index then covers who-else-helps; a downgrade undoes both."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import alembic_config, upgrade

CLIENTS = (("vt-noord", "veilig-thuis", "ura:90000201"), ("vt-zonder", "veilig-thuis", None),
           ("ggz-1", "ggz", "ura:90000301"))
INVOLVED = ("ura:90000201", "client:vt-zonder", "ura:90000301", "wijkteam-noord")


def _indexes(engine: sa.Engine) -> set[str]:
    return {i["name"] for i in sa.inspect(engine).get_indexes("involvements")}


def test_veilig_thuis_involvements_are_marked_and_the_index_covers_the_lookup(
        tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0012")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO persons (id, created_at) VALUES ('p-1', '2026-01-01')"))
        connection.execute(sa.text(
            "INSERT INTO oauth_clients (id, name, scopes, role, organization, created_at) "
            "VALUES (:id, 'x', 'system/Task.read', :role, :organization, '2026-01-01')"),
            [{"id": i, "role": r, "organization": o} for i, r, o in CLIENTS])
        connection.execute(sa.text(
            "INSERT INTO involvements (id, organization, person_id, source, started_at, "
            "registered_by, created_at) VALUES (:id, :organization, 'p-1', 'registration', "
            "'2026-01-01', 'beheer', '2026-01-01')"),
            [{"id": f"i-{i}", "organization": o} for i, o in enumerate(INVOLVED)])
    upgrade(url, "0013")
    with engine.begin() as connection:
        assert connection.execute(sa.text(
            "SELECT organization, sensitivity FROM involvements ORDER BY id")).all() == [
            ("ura:90000201", "veilig-thuis"), ("client:vt-zonder", "veilig-thuis"),
            ("ura:90000301", "none"), ("wijkteam-noord", "none")]
        with pytest.raises(sa.exc.IntegrityError):  # no default left: new rows name theirs
            connection.execute(sa.text(
                "INSERT INTO involvements (id, organization, person_id, source, started_at, "
                "registered_by, created_at) VALUES ('i-9', 'x', 'p-1', 'registration', "
                "'2026-01-01', 'beheer', '2026-01-01')"))
    assert "ix_involvements_person_helpers" in _indexes(engine)
    with engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
        connection.commit()
    assert "sensitivity" not in {c["name"] for c in sa.inspect(engine).get_columns(
        "involvements")}
    assert "ix_involvements_person_organization" in _indexes(engine)
    engine.dispose()
