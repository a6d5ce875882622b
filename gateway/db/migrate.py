"""Run Alembic programmatically, so ``wijkgateway db upgrade`` works from an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway.db.engine import make_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head", app_role: str | None = None) -> None:
    """Bring the schema to ``revision`` using our tuned engine (WAL on SQLite). On PostgreSQL,
    run this as the schema's owner; ``app_role`` is the role the gateway runs as, granted what
    it needs and no more (migration 0005, docs/threat-model.md)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config(database_url)
            config.attributes["connection"] = connection
            config.attributes["app_role"] = app_role
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()
