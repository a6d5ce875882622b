"""``clients`` and ``clients actors``: the systems that connect, and whom they act for."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli._common import fail, sessions, settings

app = typer.Typer(help="OAuth2 clients (connected systems, GP practices).", no_args_is_help=True)
actors_app = typer.Typer(help="The people and roles a client may act for (RFC 8693 token "
                         "exchange).", no_args_is_help=True)
app.add_typer(actors_app, name="actors")


@app.command("add")
def clients_add(
    name: str,
    scope: Annotated[str, typer.Option(help="Space-separated scopes, e.g. "
                                       "'system/ServiceRequest.write system/Task.read'.")],
    team: Annotated[str | None, typer.Option(help="Team this system works for.")] = None,
    jwks_file: Annotated[Path | None, typer.Option(
        help="Public JWK set for private_key_jwt; without it a secret is issued.")] = None,
    role: Annotated[str | None, typer.Option(
        help="Recipient role for consent decisions, e.g. wijkteam-jeugd or school "
             "(default: wijkteam with --team, else huisarts).")] = None,
    organization: Annotated[str | None, typer.Option(
        help="A GP practice's AGB or URA (agb:01234567, ura:12345678): the organisation "
             "involved with the residents it refers (default: the client itself).")] = None,
    system: Annotated[str | None, typer.Option(
        help="The adapter that renders what this client receives, e.g. fake (default: "
             "gp-referral, FHIR R4B). See docs/adapters.md.")] = None,
) -> None:
    """Register a client; prints its id and (once) its secrets as JSON."""
    from gateway.auth import clients as registry

    config = settings()
    try:
        jwks = json.loads(jwks_file.read_text()) if jwks_file else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        fail(f"--jwks-file: cannot read a JSON document from {jwks_file} "
             f"({type(error).__name__})")
    with sessions(config).begin() as session:
        try:
            row, secret = registry.add_client(session, name, scope.split(), team, jwks,
                                              role=role, organization=organization,
                                              system=system)
        except registry.ClientRegistrationError as error:
            fail(str(error))
        output = {"client_id": row.id, "scopes": row.scopes.split(), "team": row.team_id,
                  "role": row.role, "organization": registry.organization_of(row),
                  "system": row.system or registry.DEFAULT_SYSTEM,
                  "token_endpoint_auth_method": "private_key_jwt" if jwks
                  else "client_secret_basic",
                  "webhook_secret": registry.webhook_secret(config.secret_key, row.id)}
        if secret:
            output["client_secret"] = secret
    typer.echo(json.dumps(output, indent=2))


@app.command("list")
def clients_list() -> None:
    """List clients (never secrets)."""
    from gateway.auth import clients as registry

    with sessions(settings())() as session:
        rows = [{"client_id": r.id, "name": r.name, "scopes": r.scopes.split(), "team": r.team_id,
                 "role": r.role, "revoked": r.revoked_at is not None}
                for r in registry.list_clients(session)]
    typer.echo(json.dumps(rows, indent=2))


@app.command("revoke")
def clients_revoke(client_id: str) -> None:
    """Revoke a client: its tokens stop working within WIJKGATEWAY_CLIENT_CACHE_SECONDS."""
    from gateway.auth import clients as registry

    config = settings()
    with sessions(config).begin() as session:
        try:
            registry.revoke_client(session, client_id)
        except registry.ClientRegistrationError as error:
            fail(str(error))
    typer.echo(f"revoked {client_id}; its tokens stop working within "
               f"{config.client_cache_seconds:g} s")


@actors_app.command("add")
def actors_add(
    client_id: str, actor_id: str,
    role: Annotated[str, typer.Option(help="The role, e.g. worker or team-leader (an unknown "
                                           "role is refused with the list).")],
    unit: Annotated[str | None, typer.Option(help="youth or adult.")] = None,
) -> None:
    """Let a client act for a person (the worker's id in that system) in a role."""
    from gateway.auth.actors import ActorRegistrationError, add_actor

    with sessions(settings()).begin() as session:
        try:
            add_actor(session, client_id, actor_id, role, unit)
        except ActorRegistrationError as error:
            fail(str(error))
    typer.echo(f"{client_id} may act for {actor_id} as {role}" + (f" ({unit})" if unit else ""))


@actors_app.command("remove")
def actors_remove(client_id: str, actor_id: str,
                  role: Annotated[str, typer.Option(help="The role to take away.")]) -> None:
    """Stop a client acting for a person in a role; issued tokens last until they expire."""
    from gateway.auth.actors import ActorRegistrationError, remove_actor

    config = settings()
    with sessions(config).begin() as session:
        try:
            remove_actor(session, client_id, actor_id, role)
        except ActorRegistrationError as error:
            fail(str(error))
    typer.echo(f"{client_id} no longer acts for {actor_id} as {role}; tokens issued for it "
               f"stop working within {config.access_token_ttl_seconds} s")


@actors_app.command("list")
def actors_list(client_id: str) -> None:
    """The people and roles a client may act for."""
    from gateway.auth.actors import list_actors

    with sessions(settings())() as session:
        rows = [{"actor": r.actor_id, "role": r.role, "unit": r.unit}
                for r in list_actors(session, client_id)]
    typer.echo(json.dumps(rows, indent=2))


@actors_app.command("token")
def actors_token(
    client_id: str, actor_id: str,
    role: Annotated[str, typer.Option(help="The role it is registered in.")],
    unit: Annotated[str | None, typer.Option(help="youth or adult.")] = None,
) -> None:
    """A subject token for a registered person, signed with the client's secret taken from
    WIJKGATEWAY_CLIENT_SECRET (never an argument: other users see arguments): to try the
    token exchange by hand; a connected system makes this JWT itself (docs/acting-person.md)."""
    from gateway.auth.actors import list_actors
    from gateway.auth.bearer import Actor
    from gateway.auth.token_exchange import subject_token

    config = settings()
    secret = os.environ.get("WIJKGATEWAY_CLIENT_SECRET")
    if not secret:
        fail("set WIJKGATEWAY_CLIENT_SECRET to the client's secret (clients add printed it)")
    with sessions(config)() as session:
        registered = {(r.actor_id, r.role, r.unit) for r in list_actors(session, client_id)}
    if (actor_id, role, unit) not in registered:
        in_unit = f" ({unit})" if unit else ""
        unit_option = f" --unit {unit}" if unit else ""
        fail(f"{client_id} may not act for {actor_id} as {role}{in_unit}; register it first: "
             f"wijkgateway clients actors add {client_id} {actor_id} --role {role}{unit_option}")
    typer.echo(subject_token(client_id, secret, Actor(actor_id, role, unit),
                             f"{config.public_base_url}/oauth/token"))
