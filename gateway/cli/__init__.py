"""The ``wijkgateway`` command: one module per command group.

Help must be instant, so nothing here (nor in the group modules) imports FastAPI, SQLAlchemy or
fhir.resources at module level: each command imports what it uses when it runs
(tests/test_cli_errors.py checks ``sys.modules`` after ``--help``).
"""

from __future__ import annotations

import typer

from gateway.cli import (
    audit,
    clients,
    config,
    consent,
    db,
    demo,
    imports,
    keys,
    officers,
    outbox,
    teams,
)
from gateway.cli._common import fail
from gateway.cli.server import proxy_options, serve, worker

__all__ = ["app", "proxy_options"]

app = typer.Typer(help="wijkgateway: message gateway for neighbourhood teams.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
app.command()(serve)
app.command()(worker)
for group in (db, clients, teams, outbox, demo, keys, config, consent, audit, officers):
    app.add_typer(group.app, name=group.__name__.rsplit(".", 1)[1])
app.add_typer(imports.app, name="import")  # a keyword in Python, not on the command line


@app.callback()
def _check_configuration() -> None:
    """Refuse to start on invalid configuration with one clear line, not a traceback."""
    from pydantic import ValidationError

    from gateway.platform.settings import get_settings

    try:
        get_settings()
    except ValidationError as error:
        fail("invalid configuration: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()))
