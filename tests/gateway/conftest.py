"""Fixtures the migration tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.postgres import OWNER, PostgresServer


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, to be migrated by its owner: a SQLite file, or a new PostgreSQL
    database on the suite's server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.url(server.create_database("m_"), user=OWNER)
