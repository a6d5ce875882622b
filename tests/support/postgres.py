"""A real PostgreSQL server for the test run: initdb + pg_ctl into a temp dir.

initdb refuses to run as root; as root (CI), the data dir belongs to the ``postgres`` system
user and the binaries run through ``runuser -u postgres --``.

Three roles, as in production (docs/threat-model.md): ``wg`` the superuser (creates databases,
and plays the administrator in tampering tests), ``wg_owner`` who owns the schema and runs the
migrations, and ``wg_app`` as which the gateway runs: not a superuser (a superuser ignores
grants) and without UPDATE, DELETE or TRUNCATE on the processing log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.support.server import free_port

PG_BIN = Path(os.environ.get("WIJKGATEWAY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER, OWNER, APP = "wg", "wg_owner", "wg_app"


@dataclass
class PostgresServer:
    directory: Path
    port: int

    def url(self, database: str = "postgres", user: str = USER) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str, template: str | None = None,
                        name: str | None = None) -> str:
        """A new database owned by the schema owner (a copy of ``template`` if given); its
        name, random after ``prefix`` unless ``name`` is given."""
        name = name or f"{prefix}{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}"
                                       f"{f' TEMPLATE {template}' if template else ''} "
                                       f"OWNER {OWNER}")
        engine.dispose()
        return name

    def stop(self) -> None:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate",
              "stop"], check=False)
        # A database per test adds up to gigabytes: remove them in the background, so the
        # last test's teardown does not wait (and time out) on the disk.
        subprocess.Popen(["rm", "-rf", str(self.directory)], start_new_session=True,  # noqa: S603
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], check: bool = True) -> None:
    subprocess.run(_as_postgres(command), check=check, capture_output=True, timeout=120)


def start_postgres() -> PostgresServer:
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN}; `make test` installs them")
    directory = Path(tempfile.mkdtemp(prefix="wg-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    _run([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8",
          "--no-sync"])
    port = free_port()
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off " \
              "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
          str(directory / "server.log"), "-w", "start"])
    for role in (OWNER, APP):
        _run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d",
              "postgres", "-v", "ON_ERROR_STOP=1", "-c",
              f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"])
    return PostgresServer(directory, port)
