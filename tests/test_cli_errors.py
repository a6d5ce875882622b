"""The CLI's mistakes and missing pieces: one line on stderr and exit code 2, never a traceback;
help without the heavy imports; one database whatever the current folder; /readyz on an old
schema."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
import typer.main
from alembic import command
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.api import health
from gateway.app import create_app
from gateway.audit.log import record
from gateway.cli import app
from gateway.cli._common import sessions
from gateway.platform.db.engine import make_engine
from gateway.platform.db.migrate import _scripts, alembic_config, head_revision, upgrade
from gateway.platform.settings import Settings, get_settings
from tests.conftest import TEST_KEYS

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
HINT = "run `wijkgateway db upgrade`"
HEAD = head_revision()
PREVIOUS = _scripts().get_revision(HEAD).down_revision
NEEDS_SCHEMA = [["teams", "list"], ["clients", "list"], ["outbox", "list"], ["officers", "list"],
                ["worker", "--once"], ["audit", "verify"], ["audit", "purge", "--dry-run"],
                ["demo", "load"], ["serve", "--port", "1"]]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The path of a database not yet created; keys in tmp_path; run from another folder."""
    path = tmp_path / "data" / "gateway.platform.db"
    monkeypatch.setenv("WIJKGATEWAY_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("WIJKGATEWAY_SIGNING_KEY_PATH", str(tmp_path / "keys" / "key.json"))
    monkeypatch.setenv("WIJKGATEWAY_SECRET_KEY", "s" * 40)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _downgrade_one_step(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
        connection.commit()
    engine.dispose()


def _set_revision(path: Path, revision: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def _flat(text: str) -> str:
    """Typer's error box without its frame and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("args", [["--help"], ["teams", "--help"], ["outbox", "list", "--help"],
                                  ["audit", "purge", "--help"]])
def test_help_imports_no_web_database_or_fhir_library(args: list[str]) -> None:
    code = ("import sys\nfrom gateway.cli import app\ntry:\n    app(sys.argv[1:])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('fastapi', 'sqlalchemy', "
            "'fhir.resources', 'alembic') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert "Usage: " in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"


def test_every_command_and_group_has_help() -> None:
    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, object]]:
        yield " ".join(path), command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    missing = [name for name, command in walk(typer.main.get_command(app), ("wijkgateway",))
               if not (command.help or "").strip()]
    assert missing == []
    assert "List the teams" in runner.invoke(app, ["teams", "list", "--help"]).stdout


@pytest.mark.parametrize("args", NEEDS_SCHEMA)
def test_a_missing_database_is_named_not_created(db: Path, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: no database at {db}; {HINT}\n")
    assert not db.parent.exists()


@pytest.mark.parametrize("args", NEEDS_SCHEMA)
def test_an_unmigrated_database_names_db_upgrade(db: Path, args: list[str]) -> None:
    db.parent.mkdir()
    db.touch()
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: the database has no schema; {HINT} (database sqlite:///{db})\n")


@pytest.mark.parametrize("args", NEEDS_SCHEMA)
def test_an_outdated_database_names_db_upgrade(db: Path, args: list[str]) -> None:
    upgrade(f"sqlite:///{db}")
    _downgrade_one_step(f"sqlite:///{db}")
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: the database schema is at revision {PREVIOUS}, this code needs {HEAD}; "
               f"{HINT} (database sqlite:///{db})\n")


def test_a_newer_schema_is_used_as_it_is(db: Path) -> None:
    upgrade(f"sqlite:///{db}")
    _set_revision(db, "9999_from_a_newer_release")
    result = runner.invoke(app, ["teams", "list"])
    assert (result.exit_code, result.stdout) == (0, "[]\n")


def test_an_unreachable_database_is_one_line(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIJKGATEWAY_DATABASE_URL",
                       "postgresql+psycopg://wg:secret@127.0.0.1:1/gone")  # nothing listens
    listed = runner.invoke(app, ["teams", "list"])
    assert (listed.exit_code, listed.stderr) == (
        2, "error: cannot use the database at postgresql+psycopg://wg:***@127.0.0.1:1/gone "
           "(OperationalError)\n")
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 2
    assert upgraded.stderr.startswith("error: cannot upgrade postgresql+psycopg://wg:***@"
                                      "127.0.0.1:1/gone (OperationalError: ")
    assert (upgraded.stderr.count("\n"), "secret" in upgraded.stderr) == (1, False)


def test_the_same_database_from_any_folder(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "SIGNING_KEY_PATH", "AUDIT_SIGNING_KEY_PATH"):
        monkeypatch.delenv(f"WIJKGATEWAY_{name}", raising=False)
    monkeypatch.setenv("WIJKGATEWAY_DATA_DIR", str(tmp_path / "data"))
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path / "one")
    get_settings.cache_clear()
    try:
        assert runner.invoke(app, ["db", "upgrade"]).stdout == (
            f"database sqlite:///{tmp_path}/data/wijkgateway.db at revision head\n")
        assert runner.invoke(app, ["teams", "add", "t-1", "--name", "T"]).exit_code == 0
        monkeypatch.chdir(tmp_path / "two")
        assert json.loads(runner.invoke(app, ["teams", "list"]).stdout)[0]["id"] == "t-1"
        assert runner.invoke(app, ["config", "paths"]).stdout == (
            f"data folder:     {tmp_path}/data\n"
            f"database:        sqlite:///{tmp_path}/data/wijkgateway.db\n"
            f"signing key:     {tmp_path}/data/wijkgateway-signing-key.json\n"
            f"audit key:       {tmp_path}/data/wijkgateway-audit-key\n")
    finally:
        get_settings.cache_clear()
    assert sorted(p.name for p in (tmp_path / "data").iterdir() if p.suffix != ".db-wal"
                  and p.suffix != ".db-shm") == ["wijkgateway-audit-key", "wijkgateway.db"]
    assert [*(tmp_path / "one").iterdir(), *(tmp_path / "two").iterdir()] == []


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG rule is Linux's")
def test_the_default_data_folder_is_the_users_data_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATA_DIR", "DATABASE_URL", "SIGNING_KEY_PATH"):
        monkeypatch.delenv(f"WIJKGATEWAY_{name}", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = Settings()
    assert (settings.data_dir, settings.database_url, settings.signing_key_path) == (
        tmp_path / "xdg" / "wijkgateway",
        f"sqlite:///{tmp_path}/xdg/wijkgateway/wijkgateway.db",
        tmp_path / "xdg" / "wijkgateway" / "wijkgateway-signing-key.json")


def test_outbox_status_must_be_a_real_state(db: Path) -> None:
    result = runner.invoke(app, ["outbox", "list", "--status", "bogus"])
    assert result.exit_code == 2
    assert ("Invalid value for '--status': Value error, 'bogus' is not one of 'pending', "
            "'delivering', 'delivered', 'dead', 'withheld', 'feed'.") in _flat(result.stderr)
    assert not db.exists()  # refused before anything else


def test_serve_refuses_a_port_out_of_range(db: Path) -> None:
    result = runner.invoke(app, ["serve", "--port", "99999"])  # was an OverflowError traceback
    assert result.exit_code == 2
    assert ("Invalid value for '--port': Input should be less than or equal to 65535"
            in _flat(result.stderr))
    assert not db.exists()  # refused before anything else


def test_consent_explain_says_not_a_valid_bsn(db: Path) -> None:
    result = runner.invoke(app, ["consent", "explain", "--activity", "casusoverleg",
                                 "--patient", "123456788", "--recipient", "a:b"])
    assert (result.exit_code, result.stderr) == (
        2, "error: --patient: not a valid BSN (9 digits passing the elfproef); give a BSN or "
           "'Patient/{id}'\n")


def test_audit_purge_dry_run_says_what_and_changes_nothing(db: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    made = sessions(get_settings())
    with time_machine.travel(datetime(2005, 3, 1, tzinfo=UTC), tick=False):
        for _ in range(3):  # 15 years' retention: expired by 2020
            with made.begin() as session:
                record(session, kind="write", action="test.old", actor_id="demo-huisarts")

    def rows() -> tuple[int, int, int]:
        with sqlite3.connect(db) as connection:
            return tuple(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                         for table in ("processing_log", "processing_log_leaves",
                                       "processing_log_checkpoints"))

    before = rows()
    dry = runner.invoke(app, ["audit", "purge", "--dry-run"])
    assert (dry.exit_code, dry.stdout) == (
        0, '{"entries": 3, "through_seq": 3, "dry_run": true}\n')
    assert rows() == before == (3, 0, 0)
    done = runner.invoke(app, ["audit", "purge"])
    assert (done.exit_code, done.stdout) == (
        0, '{"entries": 3, "through_seq": 3, "dry_run": false}\n')
    assert rows() == (1, 3, 1)  # the purge's own entry; the leaves; its checkpoint


class TestReadinessFollowsTheSchema:
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        url = f"sqlite:///{tmp_path}/ready.db"
        upgrade(url)
        return url

    @pytest.fixture
    def client(self, url: str, tmp_path: Path, log_stream: object) -> Iterator[TestClient]:
        settings = Settings(environment="test", database_url=url,
                            signing_key_path=tmp_path / "key.json", **TEST_KEYS)
        with TestClient(create_app(settings, configure_logs=False)) as client:
            yield client

    def test_503_while_older_then_ready_after_upgrade(self, url: str,
                                                      client: TestClient) -> None:
        _downgrade_one_step(url)
        response = client.get("/readyz")
        assert (response.status_code, response.json()) == (503, {
            "status": "unavailable", "database": "ok", "schema": "outdated",
            "revision": PREVIOUS, "head": HEAD,
            "problem": f"the database schema is at revision {PREVIOUS}, this code needs "
                       f"{HEAD}; {HINT}"})
        upgrade(url)
        response = client.get("/readyz")
        assert (response.status_code, response.json()) == (200, {"status": "ok",
                                                                 "database": "ok"})

    def test_a_newer_schema_is_ready(self, url: str, client: TestClient) -> None:
        _set_revision(Path(url.removeprefix("sqlite:///")), "9999_from_a_newer_release")
        response = client.get("/readyz")
        assert (response.status_code, response.json()) == (200, {"status": "ok",
                                                                 "database": "ok"})

    def test_a_usable_answer_is_cached_for_a_while(
            self, url: str, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = [1000.0]
        monkeypatch.setattr(health, "time", SimpleNamespace(monotonic=lambda: clock[0]))
        assert client.get("/readyz").status_code == 200
        _downgrade_one_step(url)
        clock[0] += health.SCHEMA_CHECK_SECONDS - 1
        assert client.get("/readyz").status_code == 200  # cached
        clock[0] += 2
        assert client.get("/readyz").status_code == 503


def test_progress_shows_on_a_terminal_and_not_in_a_pipe(db: Path) -> None:
    upgrade(f"sqlite:///{db}")
    code = "import sys\nfrom gateway.cli import app\napp(sys.argv[1:])"
    main, secondary = pty.openpty()
    subprocess.run([sys.executable, "-c", code, "demo", "load"], cwd=ROOT, stdout=secondary,
                   stderr=secondary, env={**os.environ, "TERM": "xterm"}, timeout=60, check=True)
    os.close(secondary)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once everything written has been read
        while chunk := os.read(main, 65536):
            shown += chunk
    os.close(main)
    assert b"loading demo teams, clients and actors" in shown
    piped = subprocess.run([sys.executable, "-c", code, "demo", "load"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60, check=True)
    assert (piped.stdout.splitlines()[0], piped.stderr) == ("demo data: already loaded", "")


@pytest.mark.parametrize("env,message", [
    ({"ENVIRONMENT": "production", "SECRET_KEY": "s" * 40, "PSEUDONYM_KEY": "p" * 40},
     "checkpoint key {keys}/wijkgateway-audit-key not found; create it with "
     "`wijkgateway audit key --generate`"),
    ({"PROCESSING_ACTIVITIES_PATH": "/nonexistent/register.yaml"},
     "cannot read the register at /nonexistent/register.yaml: No such file or directory"),
    ({"ACCESS_TOKEN_TTL_SECONDS": "5"},
     "invalid configuration: access_token_ttl_seconds: Input should be greater than or equal "
     "to 60"),
])
def test_configuration_problems_are_one_line(db: Path, monkeypatch: pytest.MonkeyPatch,
                                             env: dict[str, str], message: str) -> None:
    upgrade(f"sqlite:///{db}")
    for name, value in env.items():
        monkeypatch.setenv(f"WIJKGATEWAY_{name}", value)
    get_settings.cache_clear()
    result = runner.invoke(app, ["teams", "list"])
    keys = db.parent.parent / "keys"
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", f"error: {message.format(keys=keys)}\n")


def test_serve_in_production_without_a_signing_key_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli.server import serve_checks

    settings = Settings(environment="production", secret_key="s" * 40, pseudonym_key="p" * 40,
                        signing_key_path=tmp_path / "missing.json",
                        public_base_url="https://gateway.example")
    with pytest.raises(typer.Exit) as stopped:
        serve_checks(settings, "127.0.0.1", 0)
    assert stopped.value.exit_code == 2
    assert capsys.readouterr().err == (f"error: signing key {tmp_path / 'missing.json'} not "
                                       "found; create it with `wijkgateway keys generate`\n")


@pytest.mark.parametrize("args", [["demo", "load"], ["demo", "subject-token", "demo-huisarts"]])
def test_demo_data_is_refused_in_production(db: Path, monkeypatch: pytest.MonkeyPatch,
                                             args: list[str]) -> None:
    for name, value in (("ENVIRONMENT", "production"), ("PSEUDONYM_KEY", "p" * 40)):
        monkeypatch.setenv(f"WIJKGATEWAY_{name}", value)
    get_settings.cache_clear()
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "error: demo data is never used in production (WIJKGATEWAY_ENVIRONMENT="
               "production): its clients' secrets are public\n")
    assert not db.exists()  # refused before the database is touched
