"""Fixtures the gateway tests share: empty databases to migrate, the two connected units."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.support.postgres import OWNER, PostgresServer
from tests.support.units import Units, connect_units


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, to be migrated by its owner: a SQLite file, or a new PostgreSQL
    database on the suite's server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.url(server.create_database("m_"), user=OWNER)


@pytest.fixture
def units(client: TestClient, team: dict[str, str], sessions: sessionmaker[Session]) -> Units:
    """The youth dossier and the adult records of wijkteam-noord (tests.support.units)."""
    return connect_units(client, team, sessions)
