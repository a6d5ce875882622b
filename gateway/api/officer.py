"""The privacy officers' API access: a token with ``system/AuditEvent.read``. A refusal is
logged in the processing log as well as the operational log: probing the log is processing."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from gateway.api.runtime import RuntimeDep, require_scope
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.auth.scopes import SCOPE_AUDIT_READ
from gateway.platform.errors import Forbidden

_officer_scope = require_scope(SCOPE_AUDIT_READ)


async def _officer(request: Request, runtime: RuntimeDep) -> Caller:
    """The privacy officers' scope; a refusal is logged in the processing log too."""
    try:
        return await _officer_scope(request, runtime)
    except Forbidden:
        client_id = structlog.contextvars.get_contextvars().get("client_id")
        await run_in_threadpool(
            audit.record_now, runtime.sessions, kind="denial", action="audit.access_refused",
            outcome="denied", actor_id=client_id, details={"path": request.url.path})
        raise


Officer = Annotated[Caller, Depends(_officer)]
