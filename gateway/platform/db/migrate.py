"""Run Alembic programmatically, so ``wijkgateway db upgrade`` works from an installed package,
and tell whether a database's schema is one this code can use (CLI commands, ``serve`` and
``/readyz`` all ask the same question)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from gateway.platform.db.engine import make_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
UPGRADE_HINT = "run `wijkgateway db upgrade`"


class SchemaState(StrEnum):
    CURRENT = "current"
    NEWER = "newer"  # migrated by a newer release (rolling upgrade): still usable
    OUTDATED = "outdated"
    MISSING = "missing"


@dataclass(frozen=True)
class SchemaStatus:
    state: SchemaState
    revision: str | None
    head: str

    @property
    def usable(self) -> bool:
        return self.state in (SchemaState.CURRENT, SchemaState.NEWER)

    @property
    def problem(self) -> str | None:
        """One line for an operator, or None; names revisions, never data."""
        if self.state is SchemaState.MISSING:
            return f"the database has no schema; {UPGRADE_HINT}"
        if self.state is SchemaState.OUTDATED:
            return (f"the database schema is at revision {self.revision}, this code needs "
                    f"{self.head}; {UPGRADE_HINT}")
        return None


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    return _scripts().get_current_head()


def schema_status(connection: Connection) -> SchemaStatus:
    """Compare the database's Alembic revision with the code's head. A revision the code does
    not know was written by a newer release, so it counts as newer, not broken."""
    head = head_revision()
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None:
        return SchemaStatus(SchemaState.MISSING, None, head)
    if revision == head:
        return SchemaStatus(SchemaState.CURRENT, revision, head)
    try:
        _scripts().get_revision(revision)
    except CommandError:
        return SchemaStatus(SchemaState.NEWER, revision, head)
    return SchemaStatus(SchemaState.OUTDATED, revision, head)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def shown_url(database_url: str) -> str:
    """The URL as it may be printed or logged: the password masked as ``***``."""
    return make_url(database_url).render_as_string(hide_password=True)


def database_problem(database_url: str) -> str | None:
    """Why commands cannot use this database, in one line, or None. A missing SQLite file is
    reported, not created (connecting would leave an empty database behind)."""
    path = sqlite_file(database_url)
    if path is not None and not path.is_file():
        return f"no database at {path.resolve()}; {UPGRADE_HINT}"
    shown = shown_url(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            problem = schema_status(connection).problem
    except SQLAlchemyError as error:
        return f"cannot use the database at {shown} ({type(error).__name__})"
    finally:
        engine.dispose()
    return f"{problem} (database {shown})" if problem else None


def upgrade(database_url: str, revision: str = "head", app_role: str | None = None) -> None:
    """Bring the schema to ``revision`` using our tuned engine (WAL on SQLite). On PostgreSQL,
    run this as the schema's owner; ``app_role`` is the role the gateway runs as, granted what
    it needs and no more (migration 0005, docs/threat-model.md). A SQLite file's folder is
    created if needed (the default lives in the user's data folder)."""
    path = sqlite_file(database_url)
    if path is not None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
