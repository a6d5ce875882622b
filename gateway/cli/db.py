"""``db``: the database schema."""

from __future__ import annotations

import typer

from gateway.cli._common import fail, settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (creates the SQLite file and its folder if needed). On PostgreSQL run
    it as the schema owner; WIJKGATEWAY_DATABASE_APP_ROLE names the role the gateway runs as."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.platform.db.migrate import shown_url, upgrade

    config = settings()
    shown = shown_url(config.database_url)
    try:
        upgrade(config.database_url, revision, app_role=config.database_app_role)
    except CommandError as error:  # e.g. an unknown revision
        fail(f"cannot upgrade {shown}: {error}")
    except (SQLAlchemyError, OSError) as error:
        fail(f"cannot upgrade {shown} ({type(error).__name__}: {str(error).splitlines()[0]})")
    typer.echo(f"database {shown} at revision {revision}")
