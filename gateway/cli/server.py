"""``serve`` and ``worker``: the two long-running processes."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gateway.cli._common import fail, require_schema, sessions, settings

if TYPE_CHECKING:
    from gateway.platform.settings import Settings


def serve(host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
          workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1) -> None:
    """Serve the API (docs at /docs); refuses to start on a schema older than the code."""
    import uvicorn

    config = settings()
    require_schema(config)
    serve_checks(config, host, port)  # a busy port, a public base URL on another port
    uvicorn.run("gateway.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=None, **proxy_options(config))


def serve_checks(config: Settings, host: str, port: int) -> None:
    """Before ``serve`` or ``demo run`` binds: a busy port, or a production signing key that is
    missing, is one line and exit 2 (not a traceback from uvicorn's start-up); a public base URL
    naming another port is a warning."""
    from gateway.platform.settings import Environment
    from gateway.platform.startup import PortBusy, port_mismatch, require_free_port

    key = config.signing_key_path
    if config.environment is Environment.PRODUCTION and not key.exists():
        fail(f"signing key {key} not found; create it with `wijkgateway keys generate`")

    try:
        require_free_port(host, port)
    except PortBusy as error:
        fail(str(error))
    warning = port_mismatch(config.public_base_url, port)
    if warning:
        typer.echo(f"warning: {warning}", err=True)


def proxy_options(config: Settings) -> dict[str, object]:
    """uvicorn trusts ``X-Forwarded-For`` from loopback by default; here only from the
    proxies configured (WIJKGATEWAY_FORWARDED_ALLOW_IPS)."""
    if not config.forwarded_allow_ips.strip():
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": config.forwarded_allow_ips}


def worker(once: Annotated[bool, typer.Option(help="Deliver what is due, then exit.")] = False,
           heartbeat: Annotated[Path | None, typer.Option(
               help="Touch this file before each message and each poll, for a liveness probe "
                    "that reads its age.")] = None) -> None:
    """Deliver outbox messages to webhooks, with retries and backoff."""
    from gateway.delivery import heartbeat as beats
    from gateway.delivery.worker import Worker
    from gateway.platform.logging import configure_logging

    config = settings()
    made = sessions(config)
    configure_logging(config.log_level, config.log_json)
    runner = Worker(made, config, beat=beats.heartbeat(heartbeat) if heartbeat else None)
    if once:
        typer.echo(json.dumps({"attempted": runner.run_once()}))
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runner.run_forever(stop)
