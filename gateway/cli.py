"""The ``wijkgateway`` command: serve, worker, migrations, clients, teams, outbox, demo data,
console officers."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from consent import DecisionError, Recipient, RegisterError
from gateway.audit.guard import guard_problem
from gateway.audit.keys import CheckpointKeyError, generate_key, key_path, log_identity
from gateway.audit.keys import origin as log_origin
from gateway.audit.log import CONTEXT as AUDIT_CONTEXT
from gateway.audit.log import audit_context, audit_sessions
from gateway.audit.purge import PurgeRefused, purge_expired
from gateway.audit.verify import record_verification, verify_database
from gateway.audit.witness import PublishError, checkpoint_now, prove_extension, publish
from gateway.auth import clients as client_registry
from gateway.auth.actors import (
    ACTOR_ROLES,
    UNITS,
    ActorRegistrationError,
    add_actor,
    list_actors,
    remove_actor,
)
from gateway.auth.keys import generate_signing_key
from gateway.auth.token_exchange import subject_token
from gateway.consents.decisions import decide_for, decision_json
from gateway.db.engine import make_engine
from gateway.db.migrate import upgrade
from gateway.db.models import Organization
from gateway.demo import DEMO_ACTORS, DEMO_CLIENTS, demo_secret, load_demo
from gateway.errors import GatewayError
from gateway.logging import configure_logging
from gateway.officers import (
    ROLE_PRIVACY_OFFICER,
    OfficerError,
    add_officer,
    disable_officer,
    list_officers,
)
from gateway.outbox import repository as outbox_repository
from gateway.outbox.worker import Worker, replay
from gateway.persons import known_person
from gateway.processing_activities import load_register
from gateway.referrals import teams
from gateway.settings import Environment, Settings, get_settings

app = typer.Typer(help="wijkgateway: message gateway for neighbourhood teams.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
clients_app = typer.Typer(help="OAuth2 clients (connected systems, GP practices).",
                          no_args_is_help=True)
teams_app = typer.Typer(help="Teams that receive referrals.", no_args_is_help=True)
outbox_app = typer.Typer(help="Outbound messages and their delivery.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data for a local try-out.", no_args_is_help=True)
keys_app = typer.Typer(help="Token signing key.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
consent_app = typer.Typer(help="Consent decisions.", no_args_is_help=True)
audit_app = typer.Typer(help="The processing log (verwerkingenlogging).", no_args_is_help=True)
officers_app = typer.Typer(help="Privacy officers' console accounts.", no_args_is_help=True)
actors_app = typer.Typer(help="The people and roles a client may act for (RFC 8693 token "
                         "exchange).", no_args_is_help=True)
clients_app.add_typer(actors_app, name="actors")
for sub, name in ((db_app, "db"), (clients_app, "clients"), (teams_app, "teams"),
                  (outbox_app, "outbox"), (demo_app, "demo"), (keys_app, "keys"),
                  (config_app, "config"), (consent_app, "consent"), (audit_app, "audit"),
                  (officers_app, "officers")):
    app.add_typer(sub, name=name)


def _sessions(settings: Settings):  # noqa: ANN202
    """Sessions that log what they process (the register is checked on the way)."""
    try:
        register = load_register(settings.processing_activities_path)
    except RegisterError as error:
        _fail(str(error))
    return audit_sessions(make_engine(settings.database_url), audit_context(settings, register))


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.callback()
def _check_configuration() -> None:
    """Refuse to start on invalid configuration with one clear line, not a traceback."""
    try:
        get_settings()
    except ValidationError as error:
        _fail("invalid configuration: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()))


@app.command()
def serve(host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
          workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1) -> None:
    """Serve the API (docs at /docs)."""
    uvicorn.run("gateway.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=None, **proxy_options(get_settings()))


def proxy_options(settings: Settings) -> dict[str, object]:
    """uvicorn trusts ``X-Forwarded-For`` from loopback by default; here only from the
    proxies configured (WIJKGATEWAY_FORWARDED_ALLOW_IPS)."""
    if not settings.forwarded_allow_ips.strip():
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


@app.command()
def worker(once: Annotated[bool, typer.Option(help="Deliver what is due, then exit.")] = False
           ) -> None:
    """Deliver outbox messages to webhooks, with retries and backoff."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    runner = Worker(_sessions(settings), settings)
    if once:
        typer.echo(json.dumps({"attempted": runner.run_once()}))
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runner.run_forever(stop)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (creates the SQLite file if needed). On PostgreSQL run it as the
    schema owner; WIJKGATEWAY_DATABASE_APP_ROLE names the role the gateway runs as."""
    settings = get_settings()
    upgrade(settings.database_url, revision, app_role=settings.database_app_role)
    typer.echo(f"database at revision {revision}")


@clients_app.command("add")
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
) -> None:
    """Register a client; prints its id and (once) its secrets as JSON."""
    settings = get_settings()
    jwks = json.loads(jwks_file.read_text()) if jwks_file else None
    with _sessions(settings).begin() as session:
        try:
            row, secret = client_registry.add_client(session, name, scope.split(), team, jwks,
                                                      role=role, organization=organization)
        except client_registry.ClientRegistrationError as error:
            _fail(str(error))
        output = {"client_id": row.id, "scopes": row.scopes.split(), "team": row.team_id,
                  "role": row.role, "organization": client_registry.organization_of(row),
                  "token_endpoint_auth_method": "private_key_jwt" if jwks
                  else "client_secret_basic",
                  "webhook_secret": client_registry.webhook_secret(settings.secret_key, row.id)}
        if secret:
            output["client_secret"] = secret
    typer.echo(json.dumps(output, indent=2))


@clients_app.command("list")
def clients_list() -> None:
    """List clients (never secrets)."""
    with _sessions(get_settings())() as session:
        rows = [{"client_id": r.id, "name": r.name, "scopes": r.scopes.split(), "team": r.team_id,
                 "role": r.role, "revoked": r.revoked_at is not None}
                for r in client_registry.list_clients(session)]
    typer.echo(json.dumps(rows, indent=2))


@clients_app.command("revoke")
def clients_revoke(client_id: str) -> None:
    """Revoke a client: its tokens stop working within WIJKGATEWAY_CLIENT_CACHE_SECONDS."""
    with _sessions(get_settings()).begin() as session:
        try:
            client_registry.revoke_client(session, client_id)
        except client_registry.ClientRegistrationError as error:
            _fail(str(error))
    typer.echo(f"revoked {client_id}; its tokens stop working within "
               f"{get_settings().client_cache_seconds:g} s")


@actors_app.command("add")
def actors_add(
    client_id: str, actor_id: str,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ACTOR_ROLES)}.")],
    unit: Annotated[str | None, typer.Option(help=f"One of: {', '.join(UNITS)}.")] = None,
) -> None:
    """Let a client act for a person (the worker's id in that system) in a role."""
    with _sessions(get_settings()).begin() as session:
        try:
            add_actor(session, client_id, actor_id, role, unit)
        except ActorRegistrationError as error:
            _fail(str(error))
    typer.echo(f"{client_id} may act for {actor_id} as {role}" + (f" ({unit})" if unit else ""))


@actors_app.command("remove")
def actors_remove(client_id: str, actor_id: str,
                  role: Annotated[str, typer.Option(help="The role to take away.")]) -> None:
    """Stop a client acting for a person in a role; issued tokens last until they expire."""
    with _sessions(get_settings()).begin() as session:
        try:
            remove_actor(session, client_id, actor_id, role)
        except ActorRegistrationError as error:
            _fail(str(error))
    typer.echo(f"{client_id} no longer acts for {actor_id} as {role}; tokens issued for it "
               f"stop working within {get_settings().access_token_ttl_seconds} s")


@actors_app.command("list")
def actors_list(client_id: str) -> None:
    with _sessions(get_settings())() as session:
        rows = [{"actor": r.actor_id, "role": r.role, "unit": r.unit}
                for r in list_actors(session, client_id)]
    typer.echo(json.dumps(rows, indent=2))


@teams_app.command("add")
def teams_add(team_id: str, name: Annotated[str, typer.Option(help="Display name.")],
              identifier: Annotated[list[str] | None, typer.Option(
                  help="The AGB or URA of the team's organisation (agb:01234567, "
                       "ura:12345678), by which a GP system may name the team; repeatable, "
                       "unique across teams.")] = None) -> None:
    """Add a team that can receive referrals as Organization/{team_id} or by identifier."""
    with _sessions(get_settings()).begin() as session:
        try:
            teams.add_team(session, team_id, name, identifier or [])
        except teams.TeamError as error:
            _fail(str(error))
    typer.echo(f"added team {team_id}")


@teams_app.command("add-identifiers")
def teams_add_identifiers(team_id: str, identifier: Annotated[list[str], typer.Argument(
        help="The AGB or URA of the team's organisation (agb:01234567, ura:12345678); "
             "unique across teams.")]) -> None:
    """Give an existing team identifiers, by which a GP system may name it."""
    with _sessions(get_settings()).begin() as session:
        try:
            teams.add_identifiers(session, team_id, identifier)
        except teams.TeamError as error:
            _fail(str(error))
    typer.echo(f"team {team_id}: added {', '.join(identifier)}")


@teams_app.command("list")
def teams_list() -> None:
    from sqlalchemy import select

    with _sessions(get_settings())() as session:
        rows = list(session.scalars(select(Organization).order_by(Organization.id)))
        identifiers = teams.identifiers_of(session, [r.id for r in rows])
        typer.echo(json.dumps([{"id": r.id, "name": r.name, "identifiers": identifiers[r.id]}
                               for r in rows], indent=2))


@outbox_app.command("list")
def outbox_list(status: Annotated[str | None, typer.Option(
                    help="pending, delivering, delivered, dead or withheld.")] = None,
                limit: int = 50) -> None:
    """Recent outbox messages (metadata only, no payloads)."""
    with _sessions(get_settings())() as session:
        rows = [{"id": m.id, "event": m.event_type, "status": m.status, "attempts": m.attempts,
                 "last_status_code": m.last_status_code, "subscription": m.subscription_id,
                 "created_at": m.created_at.isoformat(),
                 "consent": (m.decision or {}).get("explanation")}
                for m in outbox_repository.list_messages(session, status, limit)]
    typer.echo(json.dumps(rows, indent=2))


@outbox_app.command("replay")
def outbox_replay(message_id: int) -> None:
    """Queue a dead or delivered message again; the worker sends it."""
    with _sessions(get_settings()).begin() as session:
        try:
            replay(session, message_id)
        except LookupError as error:
            _fail(str(error))
    typer.echo(f"message {message_id} queued for delivery")


@consent_app.command("explain")
def consent_explain(
    activity: Annotated[str, typer.Option(help="Processing activity id, e.g. casusoverleg.")],
    patient: Annotated[str, typer.Option(help="'Patient/{id}' or the person's BSN.")],
    recipient: Annotated[list[str], typer.Option(
        help="organisation:role, e.g. wijkteam-noord:wijkteam; repeat for more.")],
    category: Annotated[list[str] | None, typer.Option(
        help="Data category; repeat for more (default: all of the activity).")] = None,
    at: Annotated[datetime | None, typer.Option(
        help="Decide as at this time (ISO 8601, UTC if no zone; default now).")] = None,
) -> None:
    """Decide as the gateway would, and say why: one line per recipient, then the JSON."""
    recipients = []
    for value in recipient:
        organization, sep, role = value.partition(":")
        if not sep or not organization or not role:
            _fail(f"--recipient takes organisation:role, not {value[:40]!r}")
        recipients.append(Recipient(organization, role))
    settings = get_settings()
    with _sessions(settings)() as session:
        try:
            person = known_person(session, patient)
            decision = decide_for(
                session, session.info[AUDIT_CONTEXT].register, activity, person.id,
                tuple(recipients),
                at=at.replace(tzinfo=at.tzinfo or UTC) if at else None,
                categories=frozenset(category) if category else None)
        except (GatewayError, DecisionError) as error:
            _fail(str(error))
    for line in decision.recipients:
        typer.echo(line.explanation)
    typer.echo(json.dumps(decision_json(decision), indent=2))


@audit_app.command("verify")
def audit_verify(against: Annotated[Path | None, typer.Option(
        help="A published checkpoint (signed note) that the database must still extend: "
             "proven with a consistency proof.")] = None) -> None:
    """Check the processing log against its signed checkpoints; exit 1 naming what failed."""
    settings = get_settings()
    sessions = _sessions(settings)
    context = sessions.kw["info"][AUDIT_CONTEXT]
    result = verify_database(settings.database_url, context,
                             workers=min(4, os.cpu_count() or 1))
    output = dataclasses.asdict(result)
    if against is not None:
        try:
            note = against.read_text()
        except (OSError, UnicodeDecodeError) as error:
            _fail(f"cannot read {against}: {error}")
        with sessions() as session:
            extension = prove_extension(session.connection(), context.identity, note)
        output["against"] = dataclasses.asdict(extension)
        if result.ok and not extension.ok:
            result = dataclasses.replace(result, ok=False, problem=extension.problem)
            output.update(ok=False, problem=extension.problem)
    with sessions() as session:  # informational: what the database itself refuses
        output["database_guard_problem"] = guard_problem(session.connection())
    with sessions.begin() as session:
        record_verification(session, result, "system")
    typer.echo(json.dumps(output, indent=2))
    if not result.ok:
        typer.echo(f"processing log NOT intact: {result.problem}", err=True)
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    publish_to: Annotated[list[str] | None, typer.Option(
        "--publish", help="Also give it to a witness: a file path, or an http(s) URL that "
                          "receives a POST. Repeat for more.")] = None,
    every: Annotated[float | None, typer.Option(
        help="Repeat every this many seconds (until stopped, or --times).", min=1)] = None,
    times: Annotated[int | None, typer.Option(
        help="With --every: stop after this many checkpoints.", min=1)] = None,
) -> None:
    """Sign a checkpoint of the log as it is now and print it (a C2SP signed note)."""
    sessions = _sessions(get_settings())
    stop = threading.Event()
    if every is not None:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    made = 0
    while True:
        note = checkpoint_now(sessions)
        typer.echo(note, nl=False)
        for target in publish_to or []:
            try:
                publish(note, target)
            except PublishError as error:
                if every is None:
                    _fail(str(error))
                typer.echo(f"error: {error}", err=True)
        made += 1
        if every is None or (times is not None and made >= times) or stop.wait(every):
            return


@audit_app.command("key")
def audit_key(generate: Annotated[bool, typer.Option(
        help="Create the key at WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH (never overwrites).")
        ] = False) -> None:
    """Print the verifier key of the log's checkpoints (signed-note format) for witnesses."""
    settings = get_settings()
    if generate:
        path = key_path(settings)
        if path.exists():
            _fail(f"{path} exists; move it away first to rotate")
        generate_key(path, log_origin(settings))
        typer.echo(f"wrote {path}", err=True)
    try:
        identity = log_identity(settings)
    except CheckpointKeyError as error:
        _fail(str(error))
    typer.echo(identity.signer.verifier.text())


@audit_app.command("purge")
def audit_purge() -> None:
    """Remove entries past their retention period; their leaves stay, and a signed checkpoint
    and a log entry record the purge."""
    with _sessions(get_settings()).begin() as session:
        try:
            purged = purge_expired(session)
        except PurgeRefused as error:
            _fail(str(error))
    typer.echo(json.dumps(dataclasses.asdict(purged)))


@officers_app.command("add")
def officers_add(
    username: str,
    role: Annotated[str, typer.Option(
        help="privacy_officer may use the console; other roles can log in but see no page."
    )] = ROLE_PRIVACY_OFFICER,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input, not a prompt.")] = False,
) -> None:
    """Create a console account; the password is asked twice (at least 12 characters)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    with _sessions(get_settings()).begin() as session:
        try:
            add_officer(session, username, password, role)
        except OfficerError as error:
            _fail(str(error))
    typer.echo(f"added officer {username} ({role})")


@officers_app.command("list")
def officers_list() -> None:
    """List console accounts (never password hashes)."""
    with _sessions(get_settings())() as session:
        rows = [{"username": o.username, "role": o.role,
                 "created_at": o.created_at.isoformat(timespec="seconds"),
                 "disabled": o.disabled_at is not None} for o in list_officers(session)]
    typer.echo(json.dumps(rows, indent=2))


@officers_app.command("disable")
def officers_disable(username: str) -> None:
    """Disable an account: it cannot log in, and an open console session ends."""
    with _sessions(get_settings()).begin() as session:
        try:
            disable_officer(session, username)
        except OfficerError as error:
            _fail(str(error))
    typer.echo(f"disabled officer {username}")


@demo_app.command("load")
def demo_load() -> None:
    """Teams and demo clients with fixed development-only secrets."""
    settings = get_settings()
    if settings.environment is Environment.PRODUCTION:
        _fail("demo data is for development only")
    with _sessions(settings).begin() as session:
        added = load_demo(session)
    typer.echo(f"demo data: {', '.join(added) if added else 'already loaded'}")
    for client_id, *_ in DEMO_CLIENTS:
        typer.echo(f"demo client {client_id}: secret {demo_secret(client_id)}, webhook secret "
                   f"{client_registry.webhook_secret(settings.secret_key, client_id)}")


@demo_app.command("subject-token")
def demo_subject_token(client_id: str) -> None:
    """A subject token for a demo client's worker, to exchange at /oauth/token (RFC 8693)
    for an access token that names the worker; connected systems make their own."""
    settings = get_settings()
    if settings.environment is Environment.PRODUCTION:
        _fail("demo data is for development only")
    if client_id not in DEMO_ACTORS:
        _fail(f"not a demo client; one of: {', '.join(DEMO_ACTORS)}")
    typer.echo(subject_token(client_id, demo_secret(client_id), DEMO_ACTORS[client_id],
                             f"{settings.public_base_url}/oauth/token"))


@keys_app.command("generate")
def keys_generate() -> None:
    """Create the token signing key at WIJKGATEWAY_SIGNING_KEY_PATH (never overwrites)."""
    path = get_settings().signing_key_path
    if path.exists():
        _fail(f"{path} exists; move it away first to rotate")
    key = generate_signing_key(path)
    typer.echo(f"wrote {path} (kid {key.kid})")


@config_app.command("table")
def config_table() -> None:
    """The settings as a Markdown table (for the README)."""
    typer.echo("| Variable | Default | Description |\n|---|---|---|")
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        default = default.value if hasattr(default, "value") else default
        typer.echo(f"| `WIJKGATEWAY_{name.upper()}` | `{default}` | {field.description} |")
