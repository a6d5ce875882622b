"""``audit``: verify, checkpoint, key and purge the processing log."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli._common import fail, progress, sessions, settings

app = typer.Typer(help="The processing log (verwerkingenlogging).", no_args_is_help=True)


@app.command("verify")
def audit_verify(against: Annotated[Path | None, typer.Option(
        help="A published checkpoint (signed note) that the database must still extend: "
             "proven with a consistency proof.")] = None) -> None:
    """Check the processing log against its signed checkpoints; exit 1 naming what failed."""
    from gateway.audit.guard import guard_problem
    from gateway.audit.log import CONTEXT
    from gateway.audit.verify import record_verification, verify_database
    from gateway.audit.witness import prove_extension

    config = settings()
    note = None
    if against is not None:
        try:
            note = against.read_text()
        except (OSError, UnicodeDecodeError) as error:
            fail(f"cannot read {against}: {error}")
    made = sessions(config)
    context = made.kw["info"][CONTEXT]
    with progress() as step:
        step("verifying the processing log against its checkpoints")
        result = verify_database(config.database_url, context,
                                 workers=min(4, os.cpu_count() or 1))
        output = dataclasses.asdict(result)
        if note is not None:
            step(f"proving the database extends {against.name}")
            with made() as session:
                extension = prove_extension(session.connection(), context.identity, note)
            output["against"] = dataclasses.asdict(extension)
            if result.ok and not extension.ok:
                result = dataclasses.replace(result, ok=False, problem=extension.problem)
                output.update(ok=False, problem=extension.problem)
        step("recording the verification")
        with made() as session:  # informational: what the database itself refuses
            output["database_guard_problem"] = guard_problem(session.connection())
        with made.begin() as session:
            record_verification(session, result, "system")
    typer.echo(json.dumps(output, indent=2))
    if not result.ok:
        typer.echo(f"processing log NOT intact: {result.problem}", err=True)
        raise typer.Exit(1)


@app.command("checkpoint")
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
    from gateway.audit.witness import PublishError, checkpoint_now, publish

    made = sessions(settings())
    stop = threading.Event()
    if every is not None:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    count = 0
    while True:
        note = checkpoint_now(made)
        typer.echo(note, nl=False)
        for target in publish_to or []:
            try:
                publish(note, target)
            except PublishError as error:
                if every is None:
                    fail(str(error))
                typer.echo(f"error: {error}", err=True)
        count += 1
        if every is None or (times is not None and count >= times) or stop.wait(every):
            return


@app.command("key")
def audit_key(generate: Annotated[bool, typer.Option(
        help="Create the key at WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH (never overwrites).")
        ] = False) -> None:
    """Print the verifier key of the log's checkpoints (signed-note format) for witnesses."""
    from gateway.audit.keys import CheckpointKeyError, generate_key, key_path, log_identity
    from gateway.audit.keys import origin as log_origin

    config = settings()
    if generate:
        path = key_path(config)
        if path.exists():
            fail(f"{path} exists; move it away first to rotate")
        generate_key(path, log_origin(config))
        typer.echo(f"wrote {path}", err=True)
    try:
        identity = log_identity(config)
    except CheckpointKeyError as error:
        fail(str(error))
    typer.echo(identity.signer.verifier.text())


@app.command("purge")
def audit_purge(dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what would be purged and change nothing.")] = False) -> None:
    """Remove entries past their retention period; their leaves stay, and a signed checkpoint
    and a log entry record the purge. Prints {"entries", "through_seq", "dry_run"}."""
    from gateway.audit.purge import PurgeRefused, purge_expired

    made = sessions(settings())
    with progress() as step:
        step("checking expired entries against their leaves"
             + (" (dry run)" if dry_run else ""))
        with made.begin() as session:
            try:
                purged = purge_expired(session, dry_run=dry_run)
            except PurgeRefused as error:
                fail(str(error))
    typer.echo(json.dumps({**dataclasses.asdict(purged), "dry_run": dry_run}))
