"""``outbox``: outbound messages and their delivery."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from gateway.cli._common import fail, sessions, settings

app = typer.Typer(help="Outbound messages and their delivery.", no_args_is_help=True)


class OutboxStatus(StrEnum):
    """The states gateway/outbox gives a message (outbox_messages.status)."""

    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    DEAD = "dead"
    WITHHELD = "withheld"
    FEED = "feed"  # waiting in its client's feed (gateway/outbox/feed.py)


@app.command("list")
def outbox_list(status: Annotated[OutboxStatus | None, typer.Option(
                    help="Only messages in this state.", case_sensitive=False)] = None,
                limit: Annotated[int, typer.Option(help="At most this many, newest first.",
                                                   min=1, max=10000)] = 50) -> None:
    """Recent outbox messages (metadata only, no payloads)."""
    from gateway.outbox import repository

    with sessions(settings())() as session:
        rows = [{"id": m.id, "event": m.event_type, "status": m.status, "attempts": m.attempts,
                 "last_status_code": m.last_status_code, "subscription": m.subscription_id,
                 "created_at": m.created_at.isoformat(),
                 "consent": (m.decision or {}).get("explanation")}
                for m in repository.list_messages(session, status and status.value, limit)]
    typer.echo(json.dumps(rows, indent=2))


@app.command("replay")
def outbox_replay(message_id: int) -> None:
    """Queue a dead or delivered message again; the worker sends it."""
    from gateway.delivery.worker import replay

    with sessions(settings()).begin() as session:
        try:
            replay(session, message_id)
        except LookupError as error:
            fail(str(error))
    typer.echo(f"message {message_id} queued for delivery")
