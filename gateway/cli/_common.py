"""What every command shares: one-line failures, the settings, sessions on a checked schema,
and progress on a terminal.

Only typer is imported at module level: ``wijkgateway --help`` must not pay for FastAPI,
SQLAlchemy or fhir.resources. Each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from sqlalchemy.orm import sessionmaker

    from gateway.platform.settings import Settings


def fail(message: str) -> NoReturn:
    """An expected error: one line on stderr, exit code 2, never a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def settings() -> Settings:
    """The process-wide settings (validated by the app's callback before any command)."""
    from gateway.platform.settings import get_settings

    return get_settings()


def require_schema(config: Settings) -> None:
    """Refuse with one line naming ``wijkgateway db upgrade`` when the database is missing,
    unreachable, or older than this code; a newer schema (rolling upgrade) is fine."""
    from gateway.platform.db.migrate import database_problem

    problem = database_problem(config.database_url)
    if problem:
        fail(problem)


def sessions(config: Settings) -> sessionmaker:
    """Sessions that log what they process, on a schema this code can use (the processing
    activity register is checked on the way)."""
    from consent import RegisterError
    from gateway.audit.keys import CheckpointKeyError
    from gateway.audit.log import audit_context, audit_sessions
    from gateway.platform.db.engine import make_engine
    from gateway.platform.processing_register import load_register

    require_schema(config)
    try:
        context = audit_context(config, load_register(config.processing_activities_path))
    except (RegisterError, CheckpointKeyError) as error:
        fail(str(error))
    return audit_sessions(make_engine(config.database_url), context)


class Steps:
    """Named steps of a long operation, shown as a spinner with elapsed time."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress: Progress | None = progress
        self._task: TaskID | None = None

    def __call__(self, description: str) -> None:
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.update(self._task, completed=1, total=1)
        self._task = self._progress.add_task(description, total=None)


@contextmanager
def progress() -> Iterator[Steps]:
    """Progress on stderr while stdout is a terminal; nothing otherwise, so piped output (JSON
    for scripts, CronJob logs) stays exactly the result."""
    if not sys.stdout.isatty():
        yield Steps(None)
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as shown:
        yield Steps(shown)
