"""``officers``: privacy officers' console accounts."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from gateway.cli._common import fail, sessions, settings

app = typer.Typer(help="Privacy officers' console accounts.", no_args_is_help=True)


@app.command("add")
def officers_add(
    username: str,
    role: Annotated[str | None, typer.Option(
        help="privacy_officer (the default) may use the console; other roles can log in but "
             "see no page.")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input, not a prompt.")] = False,
) -> None:
    """Create a console account; the password is asked twice (at least 12 characters)."""
    from gateway.console.officers import ROLE_PRIVACY_OFFICER, OfficerError, add_officer

    role = role or ROLE_PRIVACY_OFFICER
    made = sessions(settings())
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    with made.begin() as session:
        try:
            add_officer(session, username, password, role)
        except OfficerError as error:
            fail(str(error))
    typer.echo(f"added officer {username} ({role})")


@app.command("list")
def officers_list() -> None:
    """List console accounts (never password hashes)."""
    from gateway.console.officers import list_officers

    with sessions(settings())() as session:
        rows = [{"username": o.username, "role": o.role,
                 "created_at": o.created_at.isoformat(timespec="seconds"),
                 "disabled": o.disabled_at is not None} for o in list_officers(session)]
    typer.echo(json.dumps(rows, indent=2))


@app.command("disable")
def officers_disable(username: str) -> None:
    """Disable an account: it cannot log in, and an open console session ends."""
    from gateway.console.officers import OfficerError, disable_officer

    with sessions(settings()).begin() as session:
        try:
            disable_officer(session, username)
        except OfficerError as error:
            fail(str(error))
    typer.echo(f"disabled officer {username}")
