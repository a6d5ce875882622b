"""What every console page shares: errors as HTML pages with their real status, a redirect to
the login form for a session without an officer, and headers that keep the pages out of caches,
frames and other sites' ``Referer`` (a timeline's address carries a BSN), and scripts out.

The app's error handlers answer FHIR OperationOutcome JSON; ``ConsoleRoute`` swaps in the HTML
handlers for its own routes, after the request's transaction has rolled back.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import Message, Receive, Scope, Send

from gateway.api.console.auth import ConsoleUser, LoginRequired
from gateway.platform.errors import GatewayError
from gateway.platform.logging import get_logger
from gateway.platform.templating import templates
from gateway.platform.unit_of_work import UnitOfWorkRoute

log = get_logger()
LOGIN_PATH = "/console/login"
SECURITY_HEADERS = (
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


def page(request: Request, template: str, user: ConsoleUser | None, status: int = 200,
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"user": user, **context},
                                      status_code=status, headers=headers)


def see_other(path: str) -> RedirectResponse:
    """After a form: the browser loads the next page with GET (post/redirect/get)."""
    return RedirectResponse(path, status_code=303)


def _error_page(request: Request, status: int, message: str, field: str,
                error_type: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    log.info("request_refused", status=status, error_type=error_type, expressions=field[:300])
    return page(request, "console_error.html", None, status, headers, code=status,
                message=message, field=field)


async def _gateway_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, GatewayError)
    issue = error.issues[0]
    return _error_page(request, error.status, issue.message, issue.expression,
                       type(error).__name__, error.headers or None)


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    return _error_page(request, 400, first["msg"], ".".join(map(str, first["loc"])),
                       "RequestValidationError")


async def _login_required(_request: Request, _error: Exception) -> Response:
    return see_other(LOGIN_PATH)


_HANDLERS = {GatewayError: _gateway_error, RequestValidationError: _invalid_request,
             LoginRequired: _login_required}


class ConsoleRoute(UnitOfWorkRoute):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Runs for routes included in a router too, before the route's own error handling
        reads the handlers from the scope."""
        handlers, status_handlers = scope.get("starlette.exception_handlers", ({}, {}))
        scope["starlette.exception_handlers"] = ({**handlers, **_HANDLERS}, status_handlers)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await super().handle(scope, receive, send_secured)
