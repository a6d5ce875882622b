"""Console sessions and logins under OWASP ASVS 5.0 V6 and V7: sessions live on the server
(logout, idle limit, absolute lifetime, a new session at login), and failed logins are counted
atomically per account and client address. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.api.console import auth
from gateway.api.console.auth import SESSION_COOKIE
from gateway.app import create_app
from gateway.console.officers import find_officer
from gateway.console.sessions import Lifetimes, officer_of, start
from gateway.platform.db.models import ConsoleSession, Officer, ProcessingLogEntry
from gateway.platform.settings import Settings
from tests.support.console import OFFICER, PASSWORD, add_account, csrf_token, log_in
from tests.support.server import LiveServer

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
STRANGER = ("192.0.2.66", 40000)
PARALLEL_TRIES = 30


@pytest.fixture
def officer(sessions) -> str:  # noqa: ANN001
    return add_account(sessions)


def _session_rows(sessions) -> list[ConsoleSession]:  # noqa: ANN001
    with sessions() as session:
        return list(session.scalars(select(ConsoleSession).order_by(ConsoleSession.created_at)))


def _replay(client: TestClient, cookie: str) -> httpx.Response:
    """The page as someone holding a copy of ``cookie`` gets it."""
    client.cookies.clear()
    return client.get("/console/entries", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
                      follow_redirects=False)


def _log_out(client: TestClient) -> None:
    token = csrf_token(client.get("/console/entries").text)
    assert client.post("/console/logout", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303


class TestServerSideSessions:
    def test_a_cookie_replayed_after_logout_gets_the_login_page(
            self, client: TestClient, officer: str, sessions) -> None:  # noqa: ANN001
        assert log_in(client).status_code == 303
        cookie = client.cookies[SESSION_COOKIE]
        _log_out(client)
        [row] = _session_rows(sessions)
        assert row.ended_at is not None
        replayed = _replay(client, cookie)
        assert (replayed.status_code, replayed.headers["location"]) == (303, "/console/login")

    def test_login_starts_a_new_session_and_ends_the_one_before(
            self, client: TestClient, officer: str, sessions) -> None:  # noqa: ANN001
        before = client.get("/console/login")
        anonymous_csrf = csrf_token(before.text)
        assert log_in(client).status_code == 303
        first_cookie = client.cookies[SESSION_COOKIE]
        first_csrf = csrf_token(client.get("/console/entries").text)
        assert first_csrf != anonymous_csrf
        assert log_in(client).status_code == 303
        assert csrf_token(client.get("/console/entries").text) != first_csrf
        first, second = _session_rows(sessions)
        assert (first.ended_at is not None, second.ended_at) == (True, None)
        assert first.id != second.id and len(second.id) == 64  # a SHA-256, not the token
        assert _replay(client, first_cookie).status_code == 303

    def test_an_idle_session_ends_on_the_server(self, client: TestClient, officer: str) -> None:
        with time_machine.travel(T0, tick=False):
            assert log_in(client).status_code == 303
            cookie = client.cookies[SESSION_COOKIE]
        with time_machine.travel(T0 + timedelta(hours=7, minutes=59), tick=False):
            assert client.get("/console/entries").status_code == 200
            cookie = client.cookies[SESSION_COOKIE]
        with time_machine.travel(T0 + timedelta(hours=16), tick=False):
            assert _replay(client, cookie).headers["location"] == "/console/login"

    def test_a_session_ends_at_its_absolute_lifetime_however_active(
            self, client: TestClient, officer: str) -> None:
        with time_machine.travel(T0, tick=False):
            assert log_in(client).status_code == 303
        for hours in (3, 6, 9, 11.9):
            with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
                assert client.get("/console/entries").status_code == 200, hours
                cookie = client.cookies[SESSION_COOKIE]
        with time_machine.travel(T0 + timedelta(hours=12, minutes=1), tick=False):
            replayed = _replay(client, cookie)  # signed 6 minutes ago: only the server says no
            assert replayed.headers["location"] == "/console/login"

    def test_a_login_deletes_sessions_past_their_absolute_lifetime(
            self, client: TestClient, officer: str, sessions) -> None:  # noqa: ANN001
        with time_machine.travel(T0, tick=False):
            assert log_in(client).status_code == 303
            old = client.cookies[SESSION_COOKIE]
        with time_machine.travel(T0 + timedelta(hours=11), tick=False):
            client.cookies.clear()
            assert log_in(client).status_code == 303  # another browser: the first stays
            assert len(_session_rows(sessions)) == 2
        with time_machine.travel(T0 + timedelta(hours=12, minutes=1), tick=False):
            assert _replay(client, old).status_code == 303
            assert log_in(client).status_code == 303
            assert [row.created_at for row in _session_rows(sessions)] == [
                T0 + timedelta(hours=11), T0 + timedelta(hours=12, minutes=1)]

    def test_idle_and_absolute_limits_come_from_the_settings(
            self, settings: Settings, sessions, officer: str) -> None:  # noqa: ANN001
        limits = auth.lifetimes(settings.model_copy(update={
            "console_session_idle_minutes": 30, "console_session_lifetime_hours": 2}))
        assert limits == Lifetimes(timedelta(minutes=30), timedelta(hours=2))
        with sessions.begin() as session, time_machine.travel(T0, tick=False):
            idle, busy = (start(session, find_officer(session, officer), limits)
                          for _ in range(2))

        def alive(token: str, minutes: int) -> bool:
            with sessions.begin() as session:
                return officer_of(session, token, limits,
                                  T0 + timedelta(minutes=minutes)) is not None

        assert [alive(idle, 29), alive(idle, 60), alive(idle, 61)] == [True, False, False]
        assert [alive(busy, m) for m in (25, 50, 75, 100, 119, 121)] == [True] * 5 + [False]
        assert auth.session_options(settings.model_copy(update={
            "console_session_lifetime_hours": 2}))["max_age"] == 7200


class TestLockout:
    def test_a_stranger_elsewhere_cannot_lock_the_officer_out(
            self, client: TestClient, officer: str, settings: Settings, sessions) -> None:  # noqa: ANN001
        with TestClient(create_app(settings, configure_logs=False), client=STRANGER) as stranger:
            for _ in range(5):
                assert log_in(stranger, OFFICER, "guessing").status_code == 401
            assert log_in(stranger).status_code == 429  # locked for that address
            assert log_in(client).status_code == 303  # not for the officer's
        assert _reasons(sessions) == {"wrong password": 5,
                                      "locked: too many failed attempts": 1, None: 1}

    def test_a_successful_login_resets_the_count(self, client: TestClient,
                                                 officer: str) -> None:
        for _ in range(4):
            assert log_in(client, OFFICER, "typo").status_code == 401
        assert log_in(client).status_code == 303
        for _ in range(5):
            assert log_in(client, OFFICER, "typo").status_code == 401
        assert log_in(client, OFFICER, "typo").status_code == 429


def _reasons(sessions) -> Counter[str | None]:  # noqa: ANN001
    """The logged logins by reason (``None``: accepted)."""
    with sessions() as session:
        details = session.scalars(select(ProcessingLogEntry.details).where(
            ProcessingLogEntry.action == "console.login"))
        return Counter(orjson.loads(d)["reason"] if d else None for d in details)


@pytest.fixture
def server(settings: Settings, seeded: None, officer: str) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings, configure_logs=False)) as live:
        yield live


def test_parallel_guesses_get_no_more_password_checks_than_the_limit(
        server: LiveServer, sessions, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    checked: list[str] = []
    real = auth.password_accepted

    def counting(officer: Officer | None, password: str) -> bool:
        checked.append(password)
        return real(officer, password)

    monkeypatch.setattr(auth, "password_accepted", counting)
    browsers = [httpx.Client(base_url=server.url, timeout=30) for _ in range(PARALLEL_TRIES)]
    tokens = [csrf_token(b.get("/console/login").text) for b in browsers]
    ready = threading.Barrier(PARALLEL_TRIES)

    def guess(index: int) -> int:
        ready.wait()
        return browsers[index].post("/console/login", data={
            "username": OFFICER, "password": f"guess {index}", "csrf_token": tokens[index]},
            follow_redirects=False).status_code

    try:
        with ThreadPoolExecutor(PARALLEL_TRIES) as pool:
            statuses = Counter(pool.map(guess, range(PARALLEL_TRIES)))
    finally:
        for browser in browsers:
            browser.close()
    assert (len(checked), statuses) == (5, {401: 5, 429: 25})
    assert PASSWORD not in checked
    assert _reasons(sessions) == {"wrong password": 5, "locked: too many failed attempts": 25}
