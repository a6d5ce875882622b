"""Who is at the console: a signed session cookie, one CSRF token per session, and the officer
behind it, reloaded on every page so a disabled account or a changed role counts at once.

Logins, refusals and forged or stale forms all go into the processing log. A refusal is
recorded in a transaction of its own, as the request's transaction rolls back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit.log import record_now, timestamp
from gateway.db.models import Officer, ProcessingLogEntry
from gateway.errors import Forbidden, TooManyRequests
from gateway.officers import ROLE_PRIVACY_OFFICER, find_officer, is_username, password_accepted
from gateway.runtime import RuntimeDep
from gateway.settings import Environment, Settings

SESSION_COOKIE = "wijkgateway_console"
SESSION_IDLE_SECONDS = 8 * 3600  # the cookie is renewed on every page; idle longer, log in again
CSRF_FIELD = "csrf_token"
MAX_FAILED_LOGINS, LOCKOUT = 5, timedelta(minutes=15)
_OFFICER, _CSRF = "officer", "csrf"


class LoginRequired(Exception):
    """No officer in this session: the console answers with the login form."""


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    csrf_token: str  # for the forms on the page


def session_options(settings: Settings) -> dict[str, Any]:
    """Starlette ``SessionMiddleware`` options. The cookie's key is derived from the server
    secret under a label of its own, so it signs nothing else."""
    secret = hmac.new(settings.secret_key.encode(), b"wijkgateway:console-session",
                      hashlib.sha256).hexdigest()
    return {"secret_key": secret, "session_cookie": SESSION_COOKIE,
            "max_age": SESSION_IDLE_SECONDS, "path": "/console", "same_site": "strict",
            "https_only": settings.environment is Environment.PRODUCTION}


def csrf_token(request: Request) -> str:
    """This session's token, made on first use (the login form makes it before login)."""
    if not request.session.get(_CSRF):
        request.session[_CSRF] = secrets.token_urlsafe(32)
    return request.session[_CSRF]


async def _refuse(runtime: RuntimeDep, action: str, actor: str | None,
                  details: dict[str, str]) -> None:
    await run_in_threadpool(record_now, runtime.sessions, kind="denial", action=action,
                            outcome="denied", actor_type="officer", actor_id=actor,
                            details=details)


async def _csrf_checked(request: Request, runtime: RuntimeDep) -> None:
    sent = (await request.form()).get(CSRF_FIELD)
    expected = request.session.get(_CSRF)
    if not (isinstance(sent, str) and expected and
            hmac.compare_digest(sent.encode(), expected.encode())):
        await _refuse(runtime, "console.csrf_refused", request.session.get(_OFFICER),
                      {"path": request.url.path})
        raise Forbidden("this form is stale or did not come from the console; reload the page "
                        "and try again")


def _officer_named(sessions: sessionmaker[Session], username: str) -> Officer | None:
    with sessions() as session:
        return find_officer(session, username)


async def _console_user(request: Request, runtime: RuntimeDep) -> ConsoleUser:
    username = request.session.get(_OFFICER)
    if not username:
        raise LoginRequired
    officer = await run_in_threadpool(_officer_named, runtime.sessions, username)
    if officer is None or officer.disabled_at is not None:
        request.session.clear()
        await _refuse(runtime, "console.access_refused", username,
                      {"path": request.url.path, "reason": "account disabled"})
        raise LoginRequired
    if officer.role != ROLE_PRIVACY_OFFICER:
        await _refuse(runtime, "console.access_refused", username,
                      {"path": request.url.path, "reason": f"role {officer.role}"})
        raise Forbidden("the console is for privacy officers; this account has another role")
    return ConsoleUser(officer.username, csrf_token(request))


CsrfChecked = Annotated[None, Depends(_csrf_checked)]
ConsoleOfficer = Annotated[ConsoleUser, Depends(_console_user)]


def log_in(request: Request, sessions: sessionmaker[Session], username: str,
           password: str) -> bool:
    """Check the password outside any transaction (scrypt takes a while, and SQLite writers
    queue on one lock), log the attempt, and start a fresh session on success. After
    ``MAX_FAILED_LOGINS`` failures within ``LOCKOUT`` the account's logins are refused
    unchecked (429) until the window has passed: the failures are read from the log."""
    known = is_username(username)
    with sessions() as session:
        officer = find_officer(session, username) if known else None
        locked = known and _recent_failures(session, username) >= MAX_FAILED_LOGINS
    if locked:
        record_now(sessions, kind="login", action="console.login", outcome="denied",
                   actor_type="officer", actor_id=username,
                   details={"reason": "locked: too many failed attempts"})
        raise TooManyRequests("too many failed logins for this account; try again in 15 "
                              "minutes", headers={"Retry-After": str(LOCKOUT.seconds)})
    accepted = password_accepted(officer, password)
    reason = None if accepted else ("unknown account" if officer is None else
                                    "account disabled" if officer.disabled_at else
                                    "wrong password")
    record_now(sessions, kind="login", action="console.login",
               outcome="ok" if accepted else "denied", actor_type="officer",
               actor_id=username if known else None,
               details={"reason": reason} if reason else None)
    if accepted:
        request.session.clear()
        request.session[_OFFICER] = username
        csrf_token(request)
    return accepted


def _recent_failures(session: Session, username: str) -> int:
    since = timestamp(datetime.now(UTC) - LOCKOUT)
    return session.scalar(select(func.count()).where(
        ProcessingLogEntry.recorded_at >= since, ProcessingLogEntry.action == "console.login",
        ProcessingLogEntry.outcome == "denied",
        ProcessingLogEntry.actor_id == username)) or 0


def logged_in_as(request: Request) -> str | None:
    return request.session.get(_OFFICER)
