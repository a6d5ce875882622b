"""Who is at the console: a server-side session (``gateway.console.sessions``) whose token
rides in a signed cookie with one CSRF token per session, and the officer behind it, reloaded
on every page so a disabled account or a changed role counts at once.

Password checks are counted per account and client address before they run, in the shared
rate-limit table (``console_login_attempts``): the count is atomic, so parallel guesses get
no more checks than the limit, and a stranger elsewhere cannot lock an officer out. Logins,
refusals and forged or stale forms all go into the processing log. A refusal is recorded in a
transaction of its own, as the request's transaction rolls back.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from gateway.api.ratelimit.limiter import RateLimits, client_address
from gateway.api.runtime import Runtime, RuntimeDep
from gateway.audit.log import record_now
from gateway.console import sessions as console_sessions
from gateway.console.officers import (
    ROLE_PRIVACY_OFFICER,
    find_officer,
    is_username,
    password_accepted,
)
from gateway.console.sessions import Lifetimes
from gateway.platform.db.models import Officer
from gateway.platform.errors import Forbidden, TooManyRequests
from gateway.platform.settings import Environment, Settings

SESSION_COOKIE = "wijkgateway_console"
CSRF_FIELD = "csrf_token"
# In the signed cookie: the session token, its officer's name (for refusals' log entries
# only; the server's session decides), and the CSRF token.
_TOKEN, _OFFICER, _CSRF = "session", "officer", "csrf"


class LoginRequired(Exception):
    """No live session: the console answers with the login form."""


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    csrf_token: str  # for the forms on the page


def lifetimes(settings: Settings) -> Lifetimes:
    return Lifetimes(timedelta(minutes=settings.console_session_idle_minutes),
                     timedelta(hours=settings.console_session_lifetime_hours))


def session_options(settings: Settings) -> dict[str, Any]:
    """Starlette ``SessionMiddleware`` options. The cookie's key is derived from the server
    secret under a label of its own, so it signs nothing else. The cookie lives no longer
    than a session may; the server's session decides, idle limit included."""
    secret = hmac.new(settings.secret_key.encode(), b"wijkgateway:console-session",
                      hashlib.sha256).hexdigest()
    return {"secret_key": secret, "session_cookie": SESSION_COOKIE,
            "max_age": math.ceil(settings.console_session_lifetime_hours * 3600),
            "path": "/console",
            "same_site": "strict", "https_only": settings.environment is Environment.PRODUCTION}


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


def _session_officer(sessions: sessionmaker[Session], token: str,
                     limits: Lifetimes) -> Officer | None:
    """The live session's officer; a disabled officer's sessions all end here."""
    with sessions.begin() as session:
        officer = console_sessions.officer_of(session, token, limits)
        if officer is not None and officer.disabled_at is not None:
            console_sessions.end_all(session, officer)
        return officer


async def _console_user(request: Request, runtime: RuntimeDep) -> ConsoleUser:
    token = request.session.get(_TOKEN)
    if not token:
        raise LoginRequired
    officer = await run_in_threadpool(_session_officer, runtime.sessions, token,
                                      lifetimes(runtime.settings))
    if officer is None or officer.disabled_at is not None:
        request.session.clear()
        if officer is not None:
            await _refuse(runtime, "console.access_refused", officer.username,
                          {"path": request.url.path, "reason": "account disabled"})
        raise LoginRequired
    if officer.role != ROLE_PRIVACY_OFFICER:
        await _refuse(runtime, "console.access_refused", officer.username,
                      {"path": request.url.path, "reason": f"role {officer.role}"})
        raise Forbidden("the console is for privacy officers; this account has another role")
    return ConsoleUser(officer.username, csrf_token(request))


CsrfChecked = Annotated[None, Depends(_csrf_checked)]
ConsoleOfficer = Annotated[ConsoleUser, Depends(_console_user)]


def _login_key(settings: Settings, username: str) -> str:
    """The account as the counters name it: a keyed digest, as a password typed into the
    username field must not be stored, not even as a plain hash."""
    return hmac.new(settings.secret_key.encode(), b"console-login:" + username.encode(),
                    hashlib.sha256).hexdigest()[:32]


def log_in(request: Request, runtime: Runtime, limits: RateLimits, username: str,
           password: str) -> bool:
    """Count the attempt for this account and address first (one atomic increment, its own
    transaction), refuse unchecked past the limit (429), else check the password outside any
    transaction (scrypt takes a while, and SQLite writers queue on one lock), log the
    attempt, and on success reset the count and start a new server-side session."""
    sessions, known = runtime.sessions, is_username(username)
    counted = (limits.limits.console_login, _login_key(runtime.settings, username),
               client_address(request.scope))
    if (wait := limits.hit(*counted)) is not None:
        record_now(sessions, kind="login", action="console.login", outcome="denied",
                   actor_type="officer", actor_id=username if known else None,
                   details={"reason": "locked: too many failed attempts"})
        raise TooManyRequests(f"too many failed logins for this account from this address; "
                              f"try again in {math.ceil(wait / 60)} minutes",
                              headers={"Retry-After": str(wait)})
    with sessions() as session:
        officer = find_officer(session, username) if known else None
    accepted = password_accepted(officer, password)
    reason = None if accepted else ("unknown account" if officer is None else
                                    "account disabled" if officer.disabled_at else
                                    "wrong password")
    record_now(sessions, kind="login", action="console.login",
               outcome="ok" if accepted else "denied", actor_type="officer",
               actor_id=username if known else None,
               details={"reason": reason} if reason else None)
    if accepted and officer is not None:
        limits.clear(*counted)
        _start_session(request, sessions, officer, lifetimes(runtime.settings))
    return accepted


def _start_session(request: Request, sessions: sessionmaker[Session], officer: Officer,
                   limits: Lifetimes) -> None:
    """A new session token and CSRF token at login (ASVS V7.2.4); a session this browser
    had before ends."""
    with sessions.begin() as session:
        if previous := request.session.get(_TOKEN):
            console_sessions.end(session, previous)
        token = console_sessions.start(session, officer, limits)
    request.session.clear()
    request.session.update({_TOKEN: token, _OFFICER: officer.username})
    csrf_token(request)


def log_out(request: Request, session: Session) -> str | None:
    """End the server's session and forget the cookie's; returns who was logged in."""
    token = request.session.get(_TOKEN)
    request.session.clear()
    return console_sessions.end(session, token) if token else None
