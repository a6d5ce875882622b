"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server.

Migrations run once per backend into a template; each test gets a fresh copy (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests never see each other's rows.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gateway.api.processing_activities import load_register
from gateway.app import create_app
from gateway.audit.log import audit_context, audit_sessions
from gateway.auth.actors import add_actor
from gateway.auth.bearer import Actor
from gateway.auth.clients import add_client
from gateway.auth.scopes import GP_SCOPES
from gateway.auth.token_exchange import exchange_form
from gateway.cli.demo_data import DEMO_ACTORS, demo_secret, load_demo
from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import upgrade
from gateway.platform.db.models import Base
from gateway.platform.logging import configure_logging
from gateway.platform.settings import Settings
from tests.support.postgres import APP as PG_APP
from tests.support.postgres import OWNER as PG_OWNER
from tests.support.postgres import USER as PG_USER
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.webhooks import WebhookReceiver

TEMPLATE_DB = "wg_template"
BASE_URL = "http://127.0.0.1:8000"
OTHER_GP = "other-huisarts"
# Outside development the built-in keys are refused: tests bring their own.
TEST_KEYS = {"secret_key": "t" * 40, "pseudonym_key": "p" * 40}
ACTORS = {**DEMO_ACTORS, OTHER_GP: Actor("andere-huisarts-1", "gp")}

TEST_ADAPTERS = ["gp-referral", "fake", "menscentraal", "zcd"]  # the GP's FHIR, the registries


def actor_of(client_id: str) -> Actor:
    """The person a test client acts for; a client a test adds registers ``{id}-worker``
    (``add_test_client``)."""
    return ACTORS.get(client_id) or Actor(f"{client_id}-worker", "worker")


def add_test_client(session: Session, name: str, scopes: list[str], **options: object) -> str:
    """Register a client with the demo secret scheme and its acting worker; returns its id."""
    row, _ = add_client(session, name, scopes, **options)  # type: ignore[arg-type]
    add_actor(session, row.id, actor_of(row.id).id, "worker")
    return row.id


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(postgres: PostgresServer) -> PostgresServer:
    postgres.create_database("", name=TEMPLATE_DB)
    upgrade(postgres.url(TEMPLATE_DB, user=PG_OWNER), app_role=PG_APP)  # as in production
    return postgres


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # noqa: ANN001
    if request.param == "sqlite":
        target = tmp_path / "wg.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    server: PostgresServer = request.getfixturevalue("pg_template")
    name = server.create_database("t_", template=TEMPLATE_DB)
    return server.url(name, user=PG_APP)  # the gateway runs as a role that is not the owner


@pytest.fixture
def admin_url(database_url: str) -> str:
    """The same database as an administrator (on PostgreSQL the superuser, who ignores grants
    and may switch triggers off): for tests that tamper behind the application's back."""
    return database_url.replace(f"//{PG_APP}@", f"//{PG_USER}@", 1)


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:  # noqa: ANN001
    return Settings(environment="test", database_url=database_url, public_base_url=BASE_URL,
                    signing_key_path=tmp_path / "signing-key.json", **TEST_KEYS,
                    outbox_backoff_base_seconds=1, outbox_max_attempts=3, log_level="DEBUG",
                    webhook_allowed_networks=["127.0.0.0/8"],  # loopback test receivers
                    adapters=TEST_ADAPTERS)


@pytest.fixture
def log_stream() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream)
    return stream


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions as the gateway makes them: what they process is logged at commit."""
    engine = make_engine(settings.database_url)
    register = load_register(settings.processing_activities_path)
    yield audit_sessions(engine, audit_context(settings, register))
    engine.dispose()


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> None:
    """Demo teams and clients, plus a second GP practice."""
    with sessions.begin() as session:
        load_demo(session)
        add_client(session, "Andere praktijk", list(GP_SCOPES), client_id=OTHER_GP,
                   secret=demo_secret(OTHER_GP))
        add_actor(session, OTHER_GP, ACTORS[OTHER_GP].id, "gp")


@pytest.fixture
def client(settings: Settings, log_stream: io.StringIO, seeded: None) -> Iterator[TestClient]:
    with TestClient(create_app(settings, configure_logs=False)) as test_client:
        yield test_client


def get_token(client: TestClient, client_id: str, scope: str | None = None,
              actor: Actor | None = None) -> str:
    """A token that names the person the system acts for (the client's demo actor unless
    another is given), as every request about a resident needs."""
    actor = actor or actor_of(client_id)
    response = client.post("/oauth/token", data=exchange_form(
        client_id, demo_secret(client_id), actor, BASE_URL + "/oauth/token", scope),
                           auth=(client_id, demo_secret(client_id)))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def involve(client: TestClient, bsn: str, organization: str = "wijkteam-noord") -> str:
    """Register, as the demo administrator, that ``organization`` helps the person with this
    BSN (added when unknown); returns ``Patient/{id}``."""
    response = client.post("/involvements", json={"organization": organization,
                                                  "patient": bsn},
                           headers=bearer(client, "demo-beheer"))
    assert response.status_code == 201, response.text
    return response.json()["patient"]


def bearer(client: TestClient, client_id: str, scope: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client, client_id, scope)}"}


@pytest.fixture
def gp(client: TestClient) -> dict[str, str]:
    return {**bearer(client, "demo-huisarts"), "Content-Type": "application/fhir+json"}


@pytest.fixture
def team(client: TestClient) -> dict[str, str]:
    return {**bearer(client, "demo-wijkteam-noord"), "Content-Type": "application/fhir+json"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook endpoint on a loopback port that records what it receives."""
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


def row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows per table, but for the rate-limit counters: every request counts there, refused
    or not, so they say nothing about what a request stored."""
    with sessions() as session:
        return {table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
                for table in Base.metadata.sorted_tables if table.name != "rate_limit_counters"}
