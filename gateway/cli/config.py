"""``config``: the settings, and where the gateway keeps its files."""

from __future__ import annotations

import typer

from gateway.cli._common import settings

app = typer.Typer(help="Configuration.", no_args_is_help=True)


@app.command("table")
def config_table() -> None:
    """The settings as a Markdown table (for the docs)."""
    from gateway.platform.settings import Settings

    typer.echo("| Variable | Default | Description |\n|---|---|---|")
    for name, field in Settings.model_fields.items():
        if field.default_factory not in (None, list, dict):  # computed, e.g. per platform
            default = "(see description)"
        else:
            default = field.get_default(call_default_factory=True)
            default = default.value if hasattr(default, "value") else default
        typer.echo(f"| `WIJKGATEWAY_{name.upper()}` | `{default}` | {field.description} |")


@app.command("paths")
def config_paths() -> None:
    """Where this gateway's database and keys are, whatever the current folder."""
    from sqlalchemy import make_url

    from gateway.audit.keys import key_path

    config = settings()
    typer.echo(f"data folder:     {config.data_dir}")
    typer.echo("database:        "
               + make_url(config.database_url).render_as_string(hide_password=True))
    typer.echo(f"signing key:     {config.signing_key_path.resolve()}")
    typer.echo(f"audit key:       {key_path(config).resolve()}")
