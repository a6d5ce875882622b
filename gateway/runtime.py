"""What a running app holds (built once in the lifespan) and the per-request dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request
from joserfc.jwk import ECKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.bearer import Caller, authenticate_bearer
from gateway.errors import Forbidden
from gateway.logging import get_logger
from gateway.metrics import Metrics
from gateway.settings import Settings

log = get_logger()


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    signing_key: ECKey
    metrics: Metrics


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction per request: commit once before the response, or roll back."""
    with runtime.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def require_scope(scope: str):  # noqa: ANN201 - returns a FastAPI dependency
    """Dependency factory: a valid token carrying ``scope``; refusals are logged."""

    def dependency(request: Request, runtime: RuntimeDep, session: DbSession) -> Caller:
        caller = authenticate_bearer(request.headers.get("authorization"), runtime.signing_key,
                                     runtime.settings.public_base_url, session)
        structlog.contextvars.bind_contextvars(client_id=caller.client_id)
        if scope not in caller.scopes:
            log.warning("access_refused", client_id=caller.client_id, scope=scope)
            raise Forbidden(f"this action needs the scope {scope}", scope=scope)
        return caller

    dependency.__name__ = f"require_{scope.replace('/', '_').replace('.', '_')}"
    return dependency
