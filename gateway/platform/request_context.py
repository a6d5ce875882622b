"""Raw ASGI middleware: request, correlation and trace ids; body limit; access log; metrics.

Ids come from ``X-Request-Id``, ``X-Correlation-Id`` and W3C ``traceparent`` when well-formed,
are bound to every log line of the request, and are echoed on the response. The access log names
the route *template*, never the raw path or query (a FHIR search can carry a BSN).
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.platform.errors import PayloadTooLarge
from gateway.platform.logging import get_logger
from gateway.platform.metrics import Metrics

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

log = get_logger()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _safe(_header(scope, b"x-request-id")) or secrets.token_hex(16)
        correlation_id = _safe(_header(scope, b"x-correlation-id")) or request_id
        traceparent = _header(scope, b"traceparent") or ""
        match = _TRACEPARENT.match(traceparent)
        trace_id = match.group(1) if match else secrets.token_hex(16)
        if not match:
            traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            request_id=request_id, correlation_id=correlation_id, trace_id=trace_id
        )
        echo = [(b"x-request-id", request_id.encode()),
                (b"x-correlation-id", correlation_id.encode()),
                (b"traceparent", traceparent.encode())]
        status_holder: dict[str, int] = {"status": 500}
        started = time.perf_counter()

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message["headers"] = list(message.get("headers", [])) + echo
            await send(message)

        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            receive = _refusing_receive(self.max_body_bytes)
        else:
            receive = _counting_receive(receive, self.max_body_bytes)
        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            self.metrics.observe_request(scope["method"], route, status_holder["status"], elapsed)
            log.info("request_finished", method=scope["method"], route=route,
                     status=status_holder["status"], duration_ms=round(elapsed * 1000, 2))


def _safe(value: str | None) -> str | None:
    return value if value and _SAFE_ID.match(value) else None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")


def _refusing_receive(limit: int) -> Receive:
    async def receive() -> Message:
        raise _too_large(limit)
    return receive


def _counting_receive(receive: Receive, limit: int) -> Receive:
    """Count the bytes actually received; do not trust Content-Length."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
        return message
    return counted
