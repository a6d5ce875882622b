"""``demo``: demo data for a local try-out (refused in production)."""

from __future__ import annotations

import typer

from gateway.cli import devrun
from gateway.cli._common import fail, progress, sessions, settings

app = typer.Typer(help="Demo data for a local try-out.", no_args_is_help=True)
app.command("run")(devrun.command)  # make run: gateway, worker, demo receiver


def _not_in_production() -> None:
    """Demo clients have public secrets: never in production (the test environment loads them
    for the suite; ``demo run`` alone needs development, for its loopback receiver)."""
    from gateway.platform.settings import Environment

    if settings().environment is Environment.PRODUCTION:
        fail("demo data is never used in production (WIJKGATEWAY_ENVIRONMENT=production): its "
             "clients' secrets are public")


@app.command("load")
def demo_load() -> None:
    """Teams and demo clients with fixed development-only secrets."""
    from gateway.auth.clients import webhook_secret
    from gateway.cli.demo_data import DEMO_CLIENTS, demo_secret, load_demo

    _not_in_production()
    config = settings()
    with progress() as step:
        step("loading demo teams, clients and actors")
        with sessions(config).begin() as session:
            added = load_demo(session)
    typer.echo(f"demo data: {', '.join(added) if added else 'already loaded'}")
    for client_id, *_ in DEMO_CLIENTS:
        typer.echo(f"demo client {client_id}: secret {demo_secret(client_id)}, webhook secret "
                   f"{webhook_secret(config.secret_key, client_id)}")


@app.command("subject-token")
def demo_subject_token(client_id: str) -> None:
    """A subject token for a demo client's worker, to exchange at /oauth/token (RFC 8693)
    for an access token that names the worker; connected systems make their own."""
    from gateway.auth.token_exchange import subject_token
    from gateway.cli.demo_data import DEMO_ACTORS, demo_secret

    _not_in_production()
    if client_id not in DEMO_ACTORS:
        fail(f"not a demo client; one of: {', '.join(DEMO_ACTORS)}")
    typer.echo(subject_token(client_id, demo_secret(client_id), DEMO_ACTORS[client_id],
                             f"{settings().public_base_url}/oauth/token"))
