"""``wijkgateway demo run`` (what ``make run`` starts): the gateway, the delivery worker and a
demo webhook receiver in one process, so a newcomer sees a referral's whole loop in one
terminal: the team hears of the referral, the GP of each status change.

The receiver (gateway/cli/demo_receiver.py) stands in for the demo clients' endpoints, with the
clients' webhook secrets derived from ``WIJKGATEWAY_SECRET_KEY`` as the gateway does (nothing
copied by hand); this module points the demo Subscriptions at it. Ctrl-C (or SIGTERM) stops the
server, then the worker, then the receiver.

Heavy modules are imported inside the functions that need them: the CLI registers this command
without loading the web stack."""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gateway.cli.demo_receiver import DemoReceiver

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from gateway.outbox.egress import Policy
    from gateway.platform.settings import Settings

RECEIVER_REASON = "wijkgateway demo receiver"  # marks the demo's own Subscriptions
# who the receiver stands in for, and what each subscribes to
DEMO_SUBSCRIPTIONS = (("demo-huisarts", "Task"), ("demo-wijkteam-noord", "ServiceRequest"))


def subscribe_receiver(sessions: sessionmaker[Session], policy: Policy, url: str) -> None:
    """Point each demo client's demo Subscription at the receiver (its port is new each run):
    created the first time, updated (a new version) after that, as a client's PUT would."""
    from sqlalchemy import select

    from gateway.auth.bearer import Caller
    from gateway.auth.clients import organization_of
    from gateway.platform.db.models import OAuthClient, SubscriptionRow
    from gateway.subscriptions.service import create_subscription, replace_subscription

    with sessions.begin() as session:
        for client_id, criteria in DEMO_SUBSCRIPTIONS:
            client = session.get(OAuthClient, client_id)
            caller = Caller(client.id, frozenset(client.scopes.split()), client.team_id,
                            client.role, organization_of(client))
            document: dict[str, Any] = {
                "resourceType": "Subscription", "status": "requested",
                "reason": RECEIVER_REASON, "criteria": criteria,
                "channel": {"type": "rest-hook", "endpoint": f"{url}/{client_id}",
                            "payload": "application/fhir+json"}}
            row = session.scalars(select(SubscriptionRow).where(
                SubscriptionRow.client_id == client_id,
                SubscriptionRow.reason == RECEIVER_REASON,
                SubscriptionRow.deleted_at.is_(None))).first()
            if row is None:
                create_subscription(session, caller, document, policy)
            else:
                replace_subscription(session, caller, row, {**document, "id": row.id}, policy)


def _banner(settings: Settings, receiver: DemoReceiver, port_hint: bool) -> list[str]:
    from gateway.auth.clients import webhook_secret
    from gateway.cli.demo_data import DEMO_CLIENTS, demo_secret
    from gateway.platform.startup import PUBLIC_BASE_URL_ENV, lines

    out = ["", "wijkgateway demo: gateway, delivery worker and demo webhook receiver", *lines(
        settings), "demo clients (secrets are fixed for development: <client id>-secret):"]
    out += [f"  {client_id}: secret {demo_secret(client_id)}, webhook secret "
            f"{webhook_secret(settings.secret_key, client_id)} (derived from "
            f"WIJKGATEWAY_SECRET_KEY)" for client_id, *_ in DEMO_CLIENTS]
    out.append(f"demo receiver:  {receiver.url} stands in for " + " and ".join(
        f"{client_id} ({criteria})" for client_id, criteria in DEMO_SUBSCRIPTIONS)
        + ": one line per delivery, 'webhook -> ...'")
    out.append("console login:  create an account first: .venv/bin/wijkgateway officers add "
               "NAME (the demo has none)")
    if port_hint:
        out.append(f"other terminals (demo subject-token, audit verify): export "
                   f"{PUBLIC_BASE_URL_ENV}={settings.public_base_url}")
    out += ["Ctrl-C stops all three.", ""]
    return out


def run(host: str, port: int) -> None:
    """Migrate, load the demo data, then serve with the worker and the receiver until
    stopped."""
    from gateway.auth.clients import webhook_secret
    from gateway.cli._common import fail
    from gateway.cli.server import serve_checks
    from gateway.outbox.egress import policy_for
    from gateway.platform.errors import GatewayError
    from gateway.platform.logging import configure_logging
    from gateway.platform.settings import Environment, Settings, get_settings
    from gateway.platform.startup import PUBLIC_BASE_URL_ENV, local_base_url

    derived = PUBLIC_BASE_URL_ENV not in os.environ
    if derived:  # this command is development-only: the URL follows the port
        os.environ[PUBLIC_BASE_URL_ENV] = local_base_url(host, port)
        get_settings.cache_clear()
    settings = get_settings()
    if settings.environment is not Environment.DEVELOPMENT:
        fail("demo run is for development only (WIJKGATEWAY_ENVIRONMENT=development)")
    configure_logging(settings.log_level, settings.log_json)
    serve_checks(settings, host, port)
    logged = _demo_database(settings)
    receiver = DemoReceiver({c: webhook_secret(settings.secret_key, c)
                             for c, _ in DEMO_SUBSCRIPTIONS},
                            lambda line: print(line, flush=True)).start()
    try:
        subscribe_receiver(logged, policy_for(settings), receiver.url)
    except GatewayError as refused:  # e.g. WIJKGATEWAY_ALLOW_HTTP_WEBHOOKS=false
        fail(f"the demo receiver at {receiver.url} cannot be subscribed: {refused.message}")
    moved = settings.public_base_url != Settings.model_fields["public_base_url"].default
    print("\n".join(_banner(settings, receiver, derived and moved)), flush=True)
    try:
        _serve_with_worker(settings, logged, host, port)
    finally:
        receiver.stop()
    print("stopped: gateway, worker and demo receiver", flush=True)


def _demo_database(settings: Settings) -> sessionmaker[Session]:
    """The database migrated to head, with the demo data; its logged sessions."""
    from gateway.cli._common import sessions
    from gateway.cli.demo_data import load_demo
    from gateway.platform.db.migrate import upgrade

    upgrade(settings.database_url)
    logged = sessions(settings)
    with logged.begin() as session:
        load_demo(session)
    return logged


def _serve_with_worker(settings: Settings, logged: sessionmaker[Session], host: str,
                       port: int) -> None:
    """uvicorn in this (main) thread, the worker in another; Ctrl-C or SIGTERM stops the
    server, then the worker after its current delivery."""
    import uvicorn

    from gateway.app import create_app
    from gateway.cli.server import proxy_options
    from gateway.delivery.worker import Worker

    stop = threading.Event()
    worker = threading.Thread(target=Worker(logged, settings).run_forever, args=(stop,),
                              name="delivery-worker")
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port,
                                           log_config=None, access_log=False,
                                           **proxy_options(settings)))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops as Ctrl-C does
    worker.start()
    try:
        server.run()  # uvicorn re-raises the signal that stopped it, after shutting down
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        worker.join()


def command(host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
            port: Annotated[int, typer.Option(help="TCP port (make run PORT=...); the public "
                                              "base URL follows it unless "
                                              "WIJKGATEWAY_PUBLIC_BASE_URL is set.",
                                              min=1, max=65535)] = 8000) -> None:
    """Serve with the delivery worker and a demo webhook receiver that prints each verified
    delivery (what make run starts; development only)."""
    run(host, port)
