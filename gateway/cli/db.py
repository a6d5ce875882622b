"""``db``: the database schema."""

from __future__ import annotations

import typer

from gateway.cli._common import settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (creates the SQLite file and its folder if needed). On PostgreSQL run
    it as the schema owner; WIJKGATEWAY_DATABASE_APP_ROLE names the role the gateway runs as."""
    from sqlalchemy import make_url

    from gateway.db.migrate import upgrade

    config = settings()
    upgrade(config.database_url, revision, app_role=config.database_app_role)
    shown = make_url(config.database_url).render_as_string(hide_password=True)
    typer.echo(f"database {shown} at revision {revision}")
