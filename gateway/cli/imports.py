"""``import``: the first load of an existing caseload from a system's export.

``import menscentraal FILE`` reads an adult records export (CSV as Excel writes it: a BOM or
none, UTF-8 or Windows-1252, ``;`` or ``,``) one row at a time, in constant memory. Each row
becomes the system's own messages (``adapters.menscentraal.csv_rows``), checked by the
adapter, and ends as over HTTP (transport ``csv``): identified, decided, logged with the
acting person, idempotent by message id; a batch of new rows is looked up and written a
statement per table at once (``gateway.pipeline.bulk``), any other row through the
pipeline. Rows commit in batches: a bad row is reported by its line and column and left out
whole, the others go in. Run it again after a crash: the rows already in are recognised (one
query per batch) and skipped.

Exit codes: 0 every row is in; 2 some rows were rejected (the report says which and why);
1 the file could not be read at all (encoding, no header, a required column missing)."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from gateway.cli._common import fail, sessions, settings

app = typer.Typer(help="First loads of an existing caseload from a connected system's export.",
                  no_args_is_help=True)
SYSTEM = "menscentraal"
BATCH_ROWS = 500
SNIFF_BYTES = 64 * 1024
READ_ALL = 1  # exit code: the file as a whole could not be read


@dataclass
class Tally:
    """What an import did, for the summary line and the exit code."""

    rows: int = 0
    applied: int = 0
    already: int = 0
    rejected: list[str] = field(default_factory=list)  # report lines, no values


class Unreadable(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@app.command(SYSTEM)
def import_menscentraal(
    file: Annotated[Path, typer.Argument(help="The CSV export.", exists=True, dir_okay=False)],
    client: Annotated[str, typer.Option(help="The adult records' client id (system "
                                             "menscentraal, scope adapter/menscentraal.write).")],
    actor: Annotated[str, typer.Option(help="The person doing the load, registered for the "
                                            "client (clients actors add); the log names them.")],
    role: Annotated[str, typer.Option(help="That person's registered role.")] = "administrator",
    report: Annotated[Path | None, typer.Option(
        help="Write the rejected rows' lines here instead of to stderr.")] = None,
) -> None:
    """Load an adult records export; every row in, or a report line per row left out."""
    import structlog

    from gateway.platform.logging import configure_logging

    config = settings()
    # warnings only, on stderr: a line per row would bury the report and the summary
    configure_logging("WARNING" if config.log_level.upper() in ("DEBUG", "INFO")
                      else config.log_level, config.log_json, stream=sys.stderr)
    made = sessions(config)
    caller = _caller(made, client, actor, role)
    acting = caller.actor  # the log names the person doing the load, as a token exchange does
    try:
        with file.open("rb") as raw, structlog.contextvars.bound_contextvars(
                client_id=client, acting_person=acting.id, acting_role=acting.role,
                acting_unit=acting.unit):
            tally = _load(made, caller, raw, file.stat().st_size, config.max_json_depth)
    except Unreadable as error:
        typer.echo(f"error: {file.name}: {error}", err=True)
        raise typer.Exit(READ_ALL) from None
    lines = "".join(f"{line}\n" for line in tally.rejected)
    if report is not None:
        report.write_text(lines, encoding="utf-8")
    else:
        sys.stderr.write(lines)
    typer.echo(f"{tally.rows} rows: {tally.applied + tally.already} in "
               f"({tally.already} already there), {len(tally.rejected)} rejected")
    raise typer.Exit(2 if tally.rejected else 0)


def _caller(made: Any, client_id: str, actor_id: str, role: str) -> Any:
    """The client the rows come from, acting for the person doing the load."""
    from gateway.auth.actors import registered_actor
    from gateway.auth.bearer import Actor, Caller
    from gateway.auth.clients import organization_of
    from gateway.auth.scopes import adapter_scope
    from gateway.platform.db.models import OAuthClient

    with made() as session:
        row = session.get(OAuthClient, client_id)
        if row is None or row.revoked_at is not None:
            fail(f"no active client {client_id!r}")
        if (row.system or "") != SYSTEM or adapter_scope(SYSTEM) not in row.scopes.split():
            fail(f"{client_id} is not an adult records client: register it with --system "
                 f"{SYSTEM} and the scope {adapter_scope(SYSTEM)}")
        registration = registered_actor(session, client_id, actor_id, role)
        if registration is None:
            fail(f"{client_id} may not act for {actor_id} as {role}; register it first: "
                 f"wijkgateway clients actors add {client_id} {actor_id} --role {role}")
        return Caller(row.id, frozenset(row.scopes.split()), row.team_id, row.role,
                      organization_of(row), Actor(actor_id, role, registration.unit))


def _load(made: Any, caller: Any, raw: IO[bytes], size: int, max_depth: int) -> Tally:
    from adapters import get_adapter
    from adapters.menscentraal import csv_rows

    adapter = get_adapter(SYSTEM)
    text, delimiter = _opened(raw)
    reader = csv.DictReader(text, delimiter=delimiter)
    if not reader.fieldnames:
        raise Unreadable("no header row; the first row names the columns, e.g. "
                         + ";".join(csv_rows.COLUMNS))
    if missing := csv_rows.missing_columns(list(reader.fieldnames)):
        raise Unreadable(f"missing column(s) {', '.join(missing)}; the columns are "
                         + ";".join(csv_rows.COLUMNS))
    tally = Tally()
    with _progress(size) as advance:
        batch: list[tuple[int, dict[str, str]]] = []
        for row in reader:
            batch.append((reader.line_num, row))
            if len(batch) == BATCH_ROWS:
                _apply(made, caller, adapter, batch, tally, max_depth)
                batch = []
                advance(raw.tell())
        _apply(made, caller, adapter, batch, tally, max_depth)
    return tally


def _opened(raw: IO[bytes]) -> tuple[io.TextIOWrapper, str]:
    """The file as text, and its delimiter. UTF-8 (with or without a BOM) when its start is
    valid UTF-8, else Windows-1252 (Excel's "CSV (;)" on Dutch Windows). A later cell that is
    not valid UTF-8 becomes U+FFFD and its row is rejected, never guessed at."""
    start = raw.read(SNIFF_BYTES)
    raw.seek(0)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable("UTF-16 (Excel's 'Unicode text'); save the export as 'CSV UTF-8' "
                         "or 'CSV (;)'")
    if b"\x00" in start:
        raise Unreadable("not a text file (it holds NUL bytes); export the caseload as CSV")
    try:
        start.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as error:  # a character cut at the end of the sample is fine
        encoding = "utf-8-sig" if error.start >= len(start) - 3 else "cp1252"
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    header = start.split(b"\n", 1)[0]
    return text, ";" if header.count(b";") > header.count(b",") else ","


def _apply(made: Any, caller: Any, adapter: Any, batch: list[tuple[int, dict[str, str]]],
           tally: Tally, max_depth: int) -> None:
    """One transaction for the batch (``gateway.pipeline.bulk``): a row goes in whole or
    not at all, and its report line keeps its place."""
    from adapters import InvalidMessage
    from adapters.menscentraal import csv_rows
    from gateway.pipeline.bulk import apply_rows, parsed_row
    from gateway.pipeline.messages import APPLIED

    rows, refused = [], {}
    for line, row in batch:
        tally.rows += 1
        if problem := _row_problem(row):
            refused[line] = problem
            continue
        try:
            rows.append(parsed_row(adapter, line, csv_rows.messages(row)))
        except InvalidMessage as error:
            refused[line] = _issues(error)
    with made.begin() as session:
        for outcome in apply_rows(session, caller, adapter, rows, max_depth):
            if outcome.error is not None:
                refused[outcome.line] = _issues(outcome.error)
            elif outcome.status == APPLIED:
                tally.applied += 1
            else:
                tally.already += 1
    tally.rejected += [f"line {line}: {refused[line]}" for line in sorted(refused)]


def _issues(error: Any) -> str:
    """A refusal's issues by column, without values."""
    from adapters.menscentraal import csv_rows

    return "; ".join(f"{csv_rows.column_of(i.expression)}: {i.message}" for i in error.issues)


def _row_problem(row: dict[str | None, Any]) -> str | None:
    """What makes a row unreadable before any message is made of it."""
    if None in row:
        return "more cells than the header has columns"
    if any(isinstance(value, str) and "\ufffd" in value for value in row.values()):
        return "a cell is not valid UTF-8 (the file began as UTF-8)"
    return None


@contextmanager
def _progress(size: int) -> Iterator[Any]:
    """A bar by bytes read, on a terminal only (piped output stays the summary line)."""
    if not sys.stderr.isatty():
        yield lambda position: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("importing"), BarColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as shown:
        task = shown.add_task("rows", total=size)
        yield lambda position: shown.update(task, completed=position)
