"""``teams``: the teams that receive referrals."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gateway.cli._common import fail, sessions, settings

app = typer.Typer(help="Teams that receive referrals.", no_args_is_help=True)


@app.command("add")
def teams_add(team_id: str, name: Annotated[str, typer.Option(help="Display name.")],
              identifier: Annotated[list[str] | None, typer.Option(
                  help="The AGB or URA of the team's organisation (agb:01234567, "
                       "ura:12345678), by which a GP system may name the team; repeatable, "
                       "unique across teams.")] = None) -> None:
    """Add a team that can receive referrals as Organization/{team_id} or by identifier."""
    from gateway.referrals import teams

    with sessions(settings()).begin() as session:
        try:
            teams.add_team(session, team_id, name, identifier or [])
        except teams.TeamError as error:
            fail(str(error))
    typer.echo(f"added team {team_id}")


@app.command("add-identifiers")
def teams_add_identifiers(team_id: str, identifier: Annotated[list[str], typer.Argument(
        help="The AGB or URA of the team's organisation (agb:01234567, ura:12345678); "
             "unique across teams.")]) -> None:
    """Give an existing team identifiers, by which a GP system may name it."""
    from gateway.referrals import teams

    with sessions(settings()).begin() as session:
        try:
            teams.add_identifiers(session, team_id, identifier)
        except teams.TeamError as error:
            fail(str(error))
    typer.echo(f"team {team_id}: added {', '.join(identifier)}")


@app.command("list")
def teams_list() -> None:
    """List the teams with their AGB/URA identifiers, as JSON."""
    from sqlalchemy import select

    from gateway.platform.db.models import Organization
    from gateway.referrals import teams

    with sessions(settings())() as session:
        rows = list(session.scalars(select(Organization).order_by(Organization.id)))
        identifiers = teams.identifiers_of(session, [r.id for r in rows])
        typer.echo(json.dumps([{"id": r.id, "name": r.name, "identifiers": identifiers[r.id]}
                               for r in rows], indent=2))
