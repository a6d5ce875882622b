"""The processing log against someone who can change its rows: the four attacks that once
passed ``audit verify`` (truncation, edit + rehash, delete + renumber + rehash, a fake purge
checkpoint), each on both backends; signed checkpoints, witnesses and consistency proofs;
purge that keeps the leaves; the acting person in every entry."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
import structlog
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.audit.chain import HASHED_COLUMNS, entry_leaf
from gateway.audit.checkpoints import KIND_MANUAL, KIND_PURGE
from gateway.audit.guard import LogUnguarded, guard_problem
from gateway.audit.keys import CheckpointKeyError, generate_key, key_path, log_identity, origin
from gateway.audit.leaves import leaves
from gateway.audit.log import CONTEXT, audit_sessions, record
from gateway.audit.merkle import root
from gateway.audit.note import Checkpoint, Signer, open_checkpoint
from gateway.audit.purge import PurgeRefused, purge_expired
from gateway.audit.verify import verify_log
from gateway.audit.witness import PublishError, checkpoint_now, prove_extension, publish
from gateway.auth.keys import generate_signing_key
from gateway.cli import app as cli
from gateway.platform.db.engine import make_engine
from gateway.platform.db.models import ProcessingLogCheckpoint, ProcessingLogEntry
from gateway.platform.settings import Settings, get_settings
from tests.conftest import TEST_KEYS, bearer
from tests.support.auditlog import rehash, tamper, verify
from tests.support.markers import SQLITE_ONLY
from tests.support.postgres import APP as PG_APP
from tests.support.postgres import OWNER as PG_OWNER
from tests.support.samples import service_request

ENTRIES = 8


def _log(sessions: sessionmaker[Session], count: int, action: str = "test.written") -> None:
    for _ in range(count):
        with sessions.begin() as session:
            record(session, kind="write", action=action, actor_id="demo-huisarts")


def _entries(sessions: sessionmaker[Session]) -> list[ProcessingLogEntry]:
    with sessions() as session:
        return list(session.scalars(select(ProcessingLogEntry).order_by(ProcessingLogEntry.seq)))


def _leaves(sessions: sessionmaker[Session]) -> list[bytes]:
    with sessions() as session:
        return [bytes.fromhex(h) for _, h in session.execute(leaves())]


@pytest.fixture
def published(sessions: sessionmaker[Session]) -> str:
    """A log of ENTRIES entries with a checkpoint at 4 and one at ENTRIES, the latter as a
    witness holds it."""
    _log(sessions, 4)
    checkpoint_now(sessions)
    _log(sessions, ENTRIES - 4)
    return checkpoint_now(sessions)


class TestCheckpoints:
    def test_a_checkpoint_is_a_signed_tlog_checkpoint(self, published: str, sessions,
                                                      settings: Settings) -> None:  # noqa: ANN001
        identity = log_identity(settings)
        checkpoint = open_checkpoint(published, [identity.signer.verifier])
        assert checkpoint == Checkpoint("127.0.0.1:8000/processing-log", ENTRIES,
                                        root(_leaves(sessions)))
        assert identity.signer.name == "127.0.0.1:8000/processing-log"
        with sessions() as session:
            rows = session.execute(select(ProcessingLogCheckpoint.seq,
                                          ProcessingLogCheckpoint.kind)).all()
        assert [tuple(r) for r in rows] == [(4, KIND_MANUAL), (ENTRIES, KIND_MANUAL)]
        assert checkpoint_now(sessions) == published  # nothing new: the same one

    def test_periodic_checkpoints_start_from_the_last_frontier(self, settings: Settings,
                                                               sessions) -> None:  # noqa: ANN001
        tuned = dataclasses.replace(sessions.kw["info"][CONTEXT], checkpoint_every=3)
        periodic = audit_sessions(sessions.kw["bind"], tuned)
        with periodic.begin() as session:  # 7 entries in one commit: checkpoints at 3 and 6
            for _ in range(7):
                record(session, kind="write", action="test.batch")
        _log(periodic, 2)  # 8, 9: the one at 9 starts from 6's frontier
        with sessions() as session:
            rows = session.execute(select(ProcessingLogCheckpoint)).scalars().all()
        leaves = _leaves(sessions)
        assert [(r.seq, r.hash) for r in rows] == [(n, root(leaves[:n]).hex())
                                                   for n in (3, 6, 9)]
        assert verify(sessions).ok is True

    def test_an_unsigned_or_forged_checkpoint_fails(self, published: str, sessions,
                                                    admin_url: str) -> None:  # noqa: ANN001
        forger = Signer.generate("127.0.0.1:8000/processing-log")
        fake = forger.sign(Checkpoint("127.0.0.1:8000/processing-log", 2,
                                      root(_leaves(sessions)[:2])).text())
        tamper(admin_url, "INSERT INTO processing_log_checkpoints (seq, hash, kind, "
               "created_at, note, frontier) VALUES (2, :h, 'periodic', '2026-01-01', :n, '')",
               params={"h": root(_leaves(sessions)[:2]).hex(), "n": fake})
        result = verify(sessions)
        assert (result.ok, result.bad_seq) == (False, 2)
        assert result.problem == ("checkpoint at size 2 is not signed by the log's key (no "
                                  "signature by a known key): it was forged or inserted")
        tamper(admin_url, "UPDATE processing_log_checkpoints SET note = '' WHERE seq = 2")
        assert verify(sessions).problem == (
            "checkpoint at size 2 is not signed by the log's key (not a signed note: no "
            "signature lines after a blank line): it was forged or inserted")

    def test_a_checkpoint_row_must_say_what_its_note_signed(
            self, published: str, sessions, admin_url: str) -> None:  # noqa: ANN001
        tamper(admin_url, "UPDATE processing_log_checkpoints SET hash = :h WHERE seq = 4",
               params={"h": "0" * 64})
        assert verify(sessions).problem == ("checkpoint at size 4 does not match its signed "
                                            "note (size 4, origin 127.0.0.1:8000/processing-log)")

    def test_a_checkpoint_signed_for_another_origin_names_the_setting(
            self, published: str, sessions) -> None:  # noqa: ANN001
        # A shell without the server's WIJKGATEWAY_PUBLIC_BASE_URL: the log is intact, the
        # setting is not (was "does not match its signed note", which reads as tampering).
        context = sessions.kw["info"][CONTEXT]
        moved = dataclasses.replace(context.identity, origin="127.0.0.1:18433/processing-log")
        with sessions() as session:
            result = verify_log(session.connection(), moved)
        assert (result.ok, result.bad_seq) == (False, 4)
        assert result.problem == (
            "checkpoint at size 4 was signed for the log 127.0.0.1:8000/processing-log, but "
            "this gateway's log is 127.0.0.1:18433/processing-log: set "
            "WIJKGATEWAY_PUBLIC_BASE_URL (or WIJKGATEWAY_AUDIT_ORIGIN) as it was when it was "
            "signed")

    def test_a_previous_key_still_verifies_after_rotation(
            self, published: str, settings: Settings, sessions,
            tmp_path) -> None:  # noqa: ANN001
        old = log_identity(settings).signer.verifier.text()
        rotated = settings.model_copy(update={
            "audit_signing_key_path": tmp_path / "new-key",
            "audit_previous_verifier_keys": [old]})
        identity = log_identity(rotated)
        assert identity.signer.verifier.text() != old
        context = sessions.kw["info"][CONTEXT]
        with sessions() as session:
            assert verify_log(session.connection(), identity, 1000).ok is True
            without = log_identity(rotated.model_copy(update={
                "audit_previous_verifier_keys": []}))
            assert verify_log(session.connection(), without, 1000).ok is False
        assert context.identity.origin == identity.origin


class TestAttacks:
    """Each attack once passed ``audit verify``; each must now fail it, naming the damage."""

    def test_truncation_against_the_latest_checkpoint(self, published: str, sessions,
                                                      admin_url: str) -> None:  # noqa: ANN001
        tamper(admin_url, "DELETE FROM processing_log WHERE seq > :n", params={"n": ENTRIES - 2})
        result = verify(sessions)
        assert (result.ok, result.bad_seq) == (False, ENTRIES)
        assert result.problem == (f"the log was truncated: a signed checkpoint covers "
                                  f"{ENTRIES} entries, the tree ends at {ENTRIES - 2}")

    def test_truncation_with_its_checkpoints_against_a_witness(
            self, published: str, sessions, admin_url: str,
            settings: Settings) -> None:  # noqa: ANN001
        tamper(admin_url, "DELETE FROM processing_log WHERE seq > :n",
               "DELETE FROM processing_log_checkpoints WHERE seq > :n", params={"n": ENTRIES - 2})
        assert verify(sessions).ok is True  # nothing left in the database says otherwise
        with sessions() as session:
            extension = prove_extension(session.connection(), log_identity(settings),
                                        published)
        assert (extension.ok, extension.published_size, extension.tree_size) == (
            False, ENTRIES, ENTRIES - 2)
        assert extension.problem == (f"the log was truncated: the published checkpoint has "
                                     f"{ENTRIES} entries, the database {ENTRIES - 2}")

    @SQLITE_ONLY  # PostgreSQL's text holds neither a NUL nor binary data
    @pytest.mark.parametrize("change", [
        "action = action || char(0) || 'x'",  # a subject so changed hides it from searches
        "kind = CAST(kind AS BLOB)",
        "outcome = outcome || char(0)",
    ])
    def test_a_value_the_database_line_hides(self, published: str, sessions, admin_url: str,
                                              change: str) -> None:  # noqa: ANN001
        """SQLite's printf stops at a NUL and prints a BLOB like text: the line (and so the
        leaf) stays the same while the application reads another value."""
        tamper(admin_url, f"UPDATE processing_log SET {change} WHERE seq = 3")  # noqa: S608
        result = verify(sessions)
        assert (result.ok, result.bad_seq) == (False, 3)
        assert result.problem == ("entry 3 holds a value the gateway never writes (binary "
                                  "data or a NUL byte, which the database's line hides): it "
                                  "was changed")

    def test_edit_and_rehash(self, published: str, sessions, admin_url: str,
                             settings: Settings) -> None:  # noqa: ANN001
        tamper(admin_url, "UPDATE processing_log SET actor_id = 'someone-else' WHERE seq = 3")
        rehash(admin_url)
        result = verify(sessions)
        assert (result.ok, result.bad_seq) == (False, 4)
        assert result.problem == ("the tree at size 4 does not match its signed checkpoint: "
                                  "entries up to 4 were changed, removed, inserted or "
                                  "renumbered")
        with sessions() as session:
            extension = prove_extension(session.connection(), log_identity(settings),
                                        published)
        assert extension.ok is False
        assert extension.problem == (f"the database does not extend the published checkpoint: "
                                     f"entries up to {ENTRIES} were changed, removed or "
                                     "reordered")

    def test_delete_renumber_and_rehash(self, published: str, sessions,
                                        admin_url: str) -> None:  # noqa: ANN001
        tamper(admin_url, "DELETE FROM processing_log WHERE seq = 2",
               "UPDATE processing_log SET seq = -seq WHERE seq > 2",
               "UPDATE processing_log SET seq = -seq - 1 WHERE seq < 0")
        rehash(admin_url)
        result = verify(sessions)
        assert (result.ok, result.bad_seq) == (False, 4)
        assert "the tree at size 4 does not match its signed checkpoint" in result.problem

    def test_a_fake_purge_checkpoint(self, published: str, sessions, admin_url: str,
                                     settings: Settings) -> None:  # noqa: ANN001
        """Entries removed under a purge checkpoint nobody signed."""
        leaves = _leaves(sessions)
        tamper(admin_url, "DELETE FROM processing_log WHERE seq <= 5",
               "INSERT INTO processing_log_checkpoints (seq, hash, kind, created_at, note, "
               "frontier) VALUES (5, :h, 'purge', '2026-01-01', 'purged', '')",
               params={"h": root(leaves[:5]).hex()})
        result = verify(sessions)
        assert (result.ok, result.bad_seq) == (False, 5)
        assert result.problem.startswith("checkpoint at size 5 is not signed by the log's key")

    def test_a_fake_purge_entry_after_the_last_checkpoint(
            self, published: str, sessions, admin_url: str) -> None:  # noqa: ANN001
        """A purge entry the signed part of the log does not hold authorises nothing."""
        _log(sessions, 1, action="processing_log.purged")
        tamper(admin_url, "UPDATE processing_log SET details = :d WHERE seq = :n",
               "INSERT INTO processing_log_leaves SELECT seq, hash FROM processing_log "
               "WHERE seq <= 3",  # as a purge keeps them
               "DELETE FROM processing_log WHERE seq <= 3",
               params={"d": '{"through_seq": 3}', "n": ENTRIES + 1})
        fake = _entries(sessions)[-1]
        leaf = entry_leaf({c: getattr(fake, c) for c in HASHED_COLUMNS}).hex()
        tamper(admin_url, "UPDATE processing_log SET hash = :h WHERE seq = :s",
               params={"h": leaf, "s": ENTRIES + 1})
        result = verify(sessions)
        assert (result.ok, result.bad_seq) == (False, 1)
        assert result.problem == "entry 1 was removed: no purge in the signed log covers it"

    def test_removed_checkpoints_past_a_cadence_boundary(
            self, sessions, admin_url: str) -> None:  # noqa: ANN001
        context = sessions.kw["info"][CONTEXT]
        _log(sessions, 3)
        checkpoint_now(sessions)
        tamper(admin_url, "DELETE FROM processing_log_checkpoints")
        with sessions() as session:
            result = verify_log(session.connection(), context.identity, 2)
        assert (result.ok, result.bad_seq) == (False, 2)
        assert result.problem.startswith("no signed checkpoint covers entry 2 (one is made "
                                         "every 2): checkpoints were removed")


class TestPurge:
    def test_purge_keeps_leaves_and_the_log_verifies(self, sessions) -> None:  # noqa: ANN001
        with time_machine.travel(datetime(2005, 3, 1, tzinfo=UTC), tick=False):
            _log(sessions, 3, action="test.old")  # 15 years' retention: expired by 2020
        _log(sessions, 1, action="test.recent")
        before = _leaves(sessions)
        with sessions.begin() as session:
            purged = purge_expired(session)
        assert (purged.entries, purged.through_seq) == (3, 3)
        entries = _entries(sessions)
        assert [(e.seq, e.action) for e in entries] == [(4, "test.recent"),
                                                        (5, "processing_log.purged")]
        assert json.loads(entries[1].details) == {"entries": 3, "through_seq": 3}
        assert _leaves(sessions)[:4] == before
        with sessions() as session:
            [(seq, kind)] = session.execute(select(ProcessingLogCheckpoint.seq,
                                                   ProcessingLogCheckpoint.kind)).all()
        assert (seq, kind) == (5, KIND_PURGE)
        result = verify(sessions)
        assert (result.ok, result.first_seq, result.entries, result.tree_size) == (
            True, 4, 2, 5)
        with sessions.begin() as session:
            assert purge_expired(session).entries == 0

    def test_purge_refuses_an_entry_edited_to_look_expired(
            self, sessions, admin_url: str) -> None:  # noqa: ANN001
        _log(sessions, 2)
        tamper(admin_url, "UPDATE processing_log SET recorded_at = '2001-01-01T00:00:00.000000Z'"
               " WHERE seq = 1")
        with pytest.raises(PurgeRefused, match="^entry 1 does not match its leaf"), \
                sessions.begin() as session:
            purge_expired(session)


def test_the_acting_person_is_in_the_entry_and_its_leaf(sessions, admin_url: str) -> None:  # noqa: ANN001
    with structlog.contextvars.bound_contextvars(
            acting_person="urn:worker:4711", acting_role="team-leader", acting_unit="youth"):
        _log(sessions, 1)
    _log(sessions, 1)
    first, second = _entries(sessions)
    assert (first.acting_person, first.acting_role, first.acting_unit) == (
        "urn:worker:4711", "team-leader", "youth")
    assert (second.acting_person, second.acting_role, second.acting_unit) == (None, None, None)
    checkpoint_now(sessions)
    tamper(admin_url, "UPDATE processing_log SET acting_person = 'urn:worker:1' WHERE seq = 1")
    assert verify(sessions).bad_seq == 1


class TestCli:
    @pytest.fixture
    def env(self, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WIJKGATEWAY_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("WIJKGATEWAY_ENVIRONMENT", "test")
        for name, value in TEST_KEYS.items():
            monkeypatch.setenv(f"WIJKGATEWAY_{name.upper()}", value)
        monkeypatch.setenv("WIJKGATEWAY_SIGNING_KEY_PATH", str(settings.signing_key_path))
        get_settings.cache_clear()
        yield
        get_settings.cache_clear()

    def test_checkpoint_publish_and_verify_against(self, env: None, sessions, tmp_path,
                                                   settings: Settings,
                                                   admin_url: str) -> None:  # noqa: ANN001
        runner = CliRunner()
        _log(sessions, 5)
        witness = tmp_path / "witness.txt"
        made = runner.invoke(cli, ["audit", "checkpoint", "--publish", str(witness)])
        assert made.exit_code == 0, made.output
        assert witness.read_text() == made.stdout
        assert made.stdout.startswith("127.0.0.1:8000/processing-log\n5\n")
        key = runner.invoke(cli, ["audit", "key"])
        assert key.stdout == log_identity(settings).signer.verifier.text() + "\n"
        _log(sessions, 2)
        ok = runner.invoke(cli, ["audit", "verify", "--against", str(witness)])
        assert ok.exit_code == 0, ok.output
        report = json.loads(ok.stdout)
        assert (report["ok"], report["against"]["ok"], report["against"]["published_size"],
                report["against"]["tree_size"]) == (True, True, 5, 7)
        assert report["database_guard_problem"] == (
            None if settings.database_url.startswith("postgresql") else
            "SQLite has no roles: whoever can write the file can change the log")
        tamper(admin_url, "DELETE FROM processing_log WHERE seq > 3",
               "DELETE FROM processing_log_checkpoints")
        failed = runner.invoke(cli, ["audit", "verify", "--against", str(witness)])
        assert failed.exit_code == 1
        assert failed.stderr == ("processing log NOT intact: the log was truncated: the "
                                 "published checkpoint has 5 entries, the database 3\n")

    def test_checkpoint_every_is_bounded_and_publishing_failures_are_named(
            self, env: None, tmp_path) -> None:  # noqa: ANN001
        runner = CliRunner()
        result = runner.invoke(cli, ["audit", "checkpoint", "--publish",
                                     str(tmp_path / "missing" / "w.txt")])
        assert result.exit_code == 2
        assert result.stderr.startswith("error: could not write ")
        looped = runner.invoke(cli, ["audit", "checkpoint", "--every", "1", "--times", "1"])
        assert looped.exit_code == 0 and looped.stdout.count("\n\u2014 ") == 1


def test_publishing_over_http_posts_the_note(receiver) -> None:  # noqa: ANN001
    signer = Signer.generate("example.org/log")
    note = signer.sign(Checkpoint("example.org/log", 0, root([])).text())
    publish(note, receiver.url)
    [received] = receiver.received
    assert (received.body, received.headers["Content-Type"]) == (
        note.encode(), "text/plain; charset=utf-8")
    receiver.status_code = 503
    with pytest.raises(PublishError, match="^the witness answered 503$"):
        publish(note, receiver.url)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
class TestPostgresRoles:
    """The guard is the application role's privileges, not a session setting."""

    @pytest.mark.parametrize("statement", [
        "UPDATE processing_log SET outcome = 'error'",
        "DELETE FROM processing_log",
        "TRUNCATE processing_log",
        "UPDATE processing_log_checkpoints SET kind = 'purge'",
        "DELETE FROM processing_log_checkpoints",
        "TRUNCATE processing_log_checkpoints",
        "UPDATE processing_log_leaves SET hash = ''",
        "DELETE FROM processing_log_leaves",
        "TRUNCATE processing_log_leaves",
        "INSERT INTO processing_log_leaves (seq, hash) VALUES (1000, '')",
    ])
    def test_the_application_cannot_change_the_log(self, published: str, sessions,
                                                   statement: str) -> None:  # noqa: ANN001
        for bypass in ((), ("SET LOCAL wijkgateway.purge = on",)):
            with pytest.raises(DBAPIError, match="permission denied for table"), \
                    sessions.begin() as session:
                for line in (*bypass, statement):
                    session.execute(text(line))
        assert verify(sessions).ok is True

    def test_the_application_is_neither_superuser_nor_owner(self, sessions) -> None:  # noqa: ANN001
        with sessions() as session:
            row = session.execute(text(
                "SELECT current_user, r.rolsuper, t.tableowner FROM pg_roles r, pg_tables t "
                "WHERE r.rolname = current_user AND t.tablename = 'processing_log'")).one()
        assert tuple(row) == (PG_APP, False, PG_OWNER)

    def test_the_guard_is_reported_per_role(self, database_url: str, admin_url: str) -> None:
        owner_url = database_url.replace(f"//{PG_APP}@", f"//{PG_OWNER}@", 1)
        problems = {}
        for name, url in (("app", database_url), ("owner", owner_url), ("admin", admin_url)):
            engine = make_engine(url)
            with engine.connect() as connection:
                problems[name] = guard_problem(connection)
            engine.dispose()
        assert problems["app"] is None
        assert problems["admin"] == "connected as a superuser, who ignores grants"
        assert problems["owner"] == "the connected role holds " + ", ".join(
            f"{p} on {t}" for t in ("processing_log", "processing_log_checkpoints",
                                    "processing_log_leaves")
            for p in ("UPDATE", "DELETE", "TRUNCATE"))

    def test_production_starts_only_as_the_application_role(
            self, database_url: str, admin_url: str, tmp_path) -> None:  # noqa: ANN001
        production = Settings(environment="production", **TEST_KEYS,
                              public_base_url="https://gw.example.nl",
                              signing_key_path=tmp_path / "signing-key.json")
        generate_signing_key(production.signing_key_path)
        generate_key(key_path(production), origin(production))
        with TestClient(create_app(production.model_copy(update={"database_url": database_url}),
                                   configure_logs=False)) as started:
            assert started.get("/readyz").status_code == 200
        superuser = production.model_copy(update={"database_url": admin_url})
        with pytest.raises(LogUnguarded, match="^the processing log is not protected: "
                                               "connected as a superuser"):
            with TestClient(create_app(superuser, configure_logs=False)):
                pass

    def test_the_purge_function_removes_only_expired_entries(self, sessions) -> None:  # noqa: ANN001
        _log(sessions, 2)
        with pytest.raises(DBAPIError, match="entries up to 1 are not all past their "
                                             "retention"), sessions.begin() as session:
            session.execute(text("SELECT wijkgateway_purge_log(1)"))
        assert len(_entries(sessions)) == 2


class TestKey:
    def test_production_needs_the_key_and_never_makes_one(self, tmp_path) -> None:  # noqa: ANN001
        production = Settings(environment="production", secret_key="s" * 40,
                              pseudonym_key="p" * 40, public_base_url="https://gw.example.nl",
                              signing_key_path=tmp_path / "signing-key.json")
        with pytest.raises(CheckpointKeyError, match=(
                f"^checkpoint key {tmp_path}/wijkgateway-audit-key not found; create it with "
                "`wijkgateway audit key --generate`$")):
            log_identity(production)
        assert list(tmp_path.iterdir()) == []
        signer = generate_key(key_path(production), origin(production))
        identity = log_identity(production)
        assert (identity.origin, identity.signer.text()) == ("gw.example.nl/processing-log",
                                                            signer.text())
        assert oct(key_path(production).stat().st_mode & 0o777) == "0o600"

    def test_a_damaged_key_file_is_named(self, settings: Settings) -> None:
        key_path(settings).write_text("PRIVATE+KEY+x")
        with pytest.raises(CheckpointKeyError, match="^checkpoint key: a signer key has 5 "
                                                     "fields separated by '\\+'$"):
            log_identity(settings)


def test_a_damaged_log_refuses_what_it_would_log_with_503(settings: Settings, seeded: None,
                                                         admin_url: str) -> None:
    """Fail closed, and say so: a missing leaf stops the next checkpoint, and with it the
    request whose entries would reach it."""
    tight = settings.model_copy(update={"audit_checkpoint_every": 4})
    with TestClient(create_app(tight, configure_logs=False)) as client:
        gp = {**bearer(client, "demo-huisarts"), "Content-Type": "application/fhir+json"}
        for _ in range(3):  # one entry each
            assert client.post("/fhir/ServiceRequest", json=service_request(),
                               headers=gp).status_code == 201
        tamper(admin_url, "DELETE FROM processing_log WHERE seq = 2")
        response = client.post("/fhir/ServiceRequest", json=service_request(), headers=gp)
    assert response.status_code == 503  # entry 4 needs a checkpoint over leaves 1 to 4
    assert "the processing log is damaged" in response.json()["issue"][0]["diagnostics"]
