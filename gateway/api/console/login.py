"""``/console/login`` and ``/console/logout``: forms with a CSRF token like every other, the
login form's made before login. Every attempt is logged (see ``gateway.api.console.auth``);
logout ends the session on the server, so a replayed cookie finds the login form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gateway.api.console.auth import CsrfChecked, csrf_token, log_in, log_out
from gateway.api.console.pages import FIRST_PAGE
from gateway.api.console.web import LOGIN_PATH, ConsoleRoute, page, see_other
from gateway.api.ratelimit.limiter import RateLimitsDep
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.audit import log as audit

router = APIRouter(prefix="/console", route_class=ConsoleRoute)
# A 401 must name a scheme; browsers show their own dialog only for the standard ones.
_LOGIN_CHALLENGE = {"WWW-Authenticate": 'Form realm="wijkgateway console"'}


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return page(request, "console_login.html", None, csrf=csrf_token(request))


@router.post("/login", response_model=None)
def login(request: Request, _csrf: CsrfChecked, runtime: RuntimeDep, limits: RateLimitsDep,
          username: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=2000)] = "",
          ) -> RedirectResponse | HTMLResponse:
    if log_in(request, runtime, limits, username.strip(), password):
        return see_other(FIRST_PAGE)
    return page(request, "console_login.html", None, 401, headers=_LOGIN_CHALLENGE,
                csrf=csrf_token(request), failed=True)


@router.post("/logout")
def logout(request: Request, _csrf: CsrfChecked, session: DbSession) -> RedirectResponse:
    if username := log_out(request, session):
        audit.record(session, kind="login", action="console.logout", actor_type="officer",
                     actor_id=username)
    return see_other(LOGIN_PATH)
