"""Raw ASGI middleware: the API's limits per client address and per client, counted before
routing so that a flood costs one counter update per request, not the request's work.

The client is the one of a *valid* bearer token (verified with the same cache the scope check
uses): a forged token counts only against its sender's address. A refusal is a 429 with
``Retry-After`` and an OperationOutcome. The token endpoint counts for itself (it answers RFC
6749 errors); probes, metrics and the console (its own login limit) are not counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api.error_handlers import database_busy, gateway_error
from gateway.api.ratelimit.limiter import RateLimits, client_address
from gateway.platform.db.engine import DatabaseBusy
from gateway.platform.errors import GatewayError, TooManyRequests
from gateway.platform.logging import get_logger

if TYPE_CHECKING:
    from gateway.api.runtime import Runtime

log = get_logger()
UNCOUNTED = ("/console", "/healthz", "/readyz", "/metrics")  # besides what the app names


def _client_id(runtime: Runtime, scope: Scope) -> str | None:
    authorization = next((v.decode("latin-1") for k, v in scope["headers"]
                          if k == b"authorization"), None)
    if not authorization:
        return None
    try:
        client_id = runtime.tokens.claims(authorization).get("client_id")
    except GatewayError:
        return None  # the route refuses it; its address was counted
    return str(client_id) if client_id else None


def _counted(limits: RateLimits, address: str, client_id: str | None) -> int | None:
    """Seconds to wait, or ``None``; both counters move in one statement."""
    hits = [(limits.limits.api_per_address, address)]
    if client_id is not None:
        hits.append((limits.limits.api_per_client, client_id))
    return limits.hit_all(*hits)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, uncounted: tuple[str, ...] = UNCOUNTED) -> None:
        self.app = app
        self.uncounted = uncounted  # path prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.uncounted):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        runtime: Runtime = state.runtime
        limits: RateLimits = state.rate_limits
        address, client_id = client_address(scope), _client_id(runtime, scope)
        try:
            if limits.inline:
                wait = _counted(limits, address, client_id)
            else:
                wait = await run_in_threadpool(_counted, limits, address, client_id)
        except (DatabaseBusy, SQLAlchemyError) as error:  # outside the exception mapper
            log.warning("rate_limit_unavailable", error_type=type(error).__name__)
            busy = await database_busy(Request(scope), error)
            await busy(scope, receive, send)
            return
        if wait is None:
            await self.app(scope, receive, send)
            return
        log.warning("rate_limited", client_id=client_id, retry_after=wait)
        refusal = TooManyRequests("too many requests; retry after the number of seconds in "
                                  "Retry-After", headers={"Retry-After": str(wait)})
        response = await gateway_error(Request(scope), refusal)
        await response(scope, receive, send)
