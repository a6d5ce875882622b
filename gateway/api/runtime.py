"""What a running app holds (built once in the lifespan) and the per-request dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from joserfc.jwk import ECKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from consent import Register
from gateway.audit.log import AuditContext
from gateway.auth.bearer import Caller, VerifiedTokens, actor_from
from gateway.auth.client_cache import ClientCache
from gateway.auth.scopes import SYSTEM_SCOPES
from gateway.outbox.egress import Policy
from gateway.platform.errors import Forbidden, Unauthorized
from gateway.platform.logging import get_logger
from gateway.platform.metrics import Metrics
from gateway.platform.settings import Settings
from gateway.platform.unit_of_work import RUN_INLINE

log = get_logger()


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    signing_key: ECKey
    metrics: Metrics
    clients: ClientCache
    tokens: VerifiedTokens
    register: Register
    audit: AuditContext
    egress: Policy  # where webhooks may go (resolves the gateway's own name once)
    reader: Engine  # long reads beside the writers (the CSV export)
    known_teams: set[str] = field(default_factory=set)  # teams are never deleted


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(runtime: RuntimeDep) -> AsyncIterator[Session]:
    """One transaction per request: commit once before the response, or roll back.

    Handlers on a ``UnitOfWorkRoute`` have committed already (in their own thread); what is
    left here needs a worker thread only when a transaction is still open.
    """
    inline = runtime.settings.is_sqlite
    session = runtime.sessions(info={RUN_INLINE: inline})
    try:
        yield session
    except BaseException:
        await _run(inline, _finish, session, False)
        raise
    if session.in_transaction():
        await _run(inline, _finish, session, True)
    else:
        session.close()


async def _run(inline: bool, function: Callable[..., None], *args: object) -> None:
    """Inline on SQLite (see ``gateway.platform.unit_of_work``), else in a worker thread."""
    if inline:
        function(*args)
    else:
        await run_in_threadpool(function, *args)


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def require_scope(scope: str) -> Callable[..., Awaitable[Caller]]:
    """Dependency factory: a valid token carrying ``scope``; refusals are logged. A scope over
    residents' data also needs the acting person (an exchanged token, RFC 8693)."""

    async def dependency(request: Request, runtime: RuntimeDep) -> Caller:
        claims = runtime.tokens.claims(request.headers.get("authorization"))
        client_id = claims["client_id"]
        status = runtime.clients.cached(client_id) or \
            await run_in_threadpool(runtime.clients.load, client_id)
        if not status.active:
            raise Unauthorized("the client of this token is unknown or revoked")
        actor = actor_from(claims)
        structlog.contextvars.bind_contextvars(client_id=client_id)
        if actor is not None:
            structlog.contextvars.bind_contextvars(
                acting_person=actor.id, acting_role=actor.role, acting_unit=actor.unit)
        caller = Caller(client_id, frozenset(str(claims.get("scope", "")).split()),
                        status.team_id, status.role or "", status.organization or "", actor)
        if scope not in caller.scopes:
            log.warning("access_refused", client_id=client_id, scope=scope)
            raise Forbidden(f"this action needs the scope {scope}", scope=scope)
        if actor is None and scope not in SYSTEM_SCOPES:
            log.warning("access_refused", client_id=client_id, scope=scope, reason="no_actor")
            raise Forbidden("this action reads or changes a resident's data: use a token that "
                            "names the worker the system acts for (token exchange, RFC 8693; "
                            "see docs/acting-person.md)", scope=scope)
        return caller

    dependency.__name__ = f"require_{scope.replace('/', '_').replace('.', '_')}"
    return dependency
