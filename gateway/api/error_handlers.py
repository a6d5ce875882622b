"""The one boundary where errors become responses: always a FHIR OperationOutcome whose
issue names the element. Foreign errors (adapter, FastAPI, database) are translated here."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from adapters.base import InvalidMessage, Issue
from adapters.registry import available
from gateway.audit.checkpoints import CheckpointError
from gateway.audit.log import record_now
from gateway.involvements.access import NotInvolved
from gateway.platform.db.engine import DatabaseBusy
from gateway.platform.errors import Conflict, GatewayError
from gateway.platform.fhir_json import FhirResponse, operation_outcome
from gateway.platform.logging import get_logger
from schemas import loggable_expression, safe_name

log = get_logger()
_HTTP_CODES = {404: "not-found", 405: "not-supported", 406: "not-supported"}


def _respond(status: int, issues: list[Issue], headers: dict[str, str] | None = None,
             error_type: str = "") -> FhirResponse:
    log.info("request_refused", status=status, error_type=error_type, issue_count=len(issues),
             expressions=",".join(loggable_expression(i.expression) for i in issues)[:300])
    return FhirResponse(operation_outcome(issues), status_code=status, headers=headers)


async def gateway_error(_request: Request, error: GatewayError) -> FhirResponse:
    return _respond(error.status, error.issues, error.headers, type(error).__name__)


async def not_involved(request: Request, error: NotInvolved) -> FhirResponse:
    """Logged as a denial in a transaction of its own: the request's rolls back."""
    await run_in_threadpool(record_now, request.app.state.runtime.sessions, **error.entry)
    return await gateway_error(request, error)


async def invalid_message(_request: Request, error: InvalidMessage) -> FhirResponse:
    return _respond(error.status, error.issues, error.headers, "InvalidMessage")


async def request_validation(_request: Request, error: RequestValidationError) -> FhirResponse:
    issues = [Issue(".".join(safe_name(str(p)) for p in e["loc"]), e["msg"], "invalid")
              for e in error.errors()]
    return _respond(400, issues, error_type="RequestValidationError")


async def http_exception(request: Request, error: HTTPException) -> FhirResponse:
    code = _HTTP_CODES.get(error.status_code, "processing")
    return _respond(error.status_code, [Issue("", _explained(request, error), code)],
                    dict(error.headers or {}), "HTTPException")


def _explained(request: Request, error: HTTPException) -> str:
    """Routing's bare reason phrases ("Not Found", "Method Not Allowed") say what to do
    instead, without echoing the path (a FHIR URL can carry a BSN)."""
    allowed = (error.headers or {}).get("Allow")
    if error.status_code == 405 and allowed:
        return f"{request.method} is not supported on this path; it takes {allowed}"
    if error.status_code == 404 and error.detail == "Not Found":
        if (name := _adapter_named(request.url.path)) is not None:
            return (f"the {name} adapter is not enabled on this gateway: its operator lists "
                    "the enabled ones in WIJKGATEWAY_ADAPTERS")
        return "no such endpoint: /docs lists the API, /fhir/metadata the FHIR interactions"
    return str(error.detail)


def _adapter_named(path: str) -> str | None:
    """``/adapters/{name}/messages`` of an adapter the gateway has but has not enabled."""
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "adapters" and parts[3] == "messages" \
            and parts[2] in available():
        return parts[2]
    return None


async def integrity_error(request: Request, error: IntegrityError) -> FhirResponse:
    """A concurrent duplicate lost the race on a unique constraint."""
    conflict = Conflict("a concurrent request created the same resource; retry the request")
    return await gateway_error(request, conflict)


async def database_busy(_request: Request, _error: DatabaseBusy) -> FhirResponse:
    log.warning("database_busy")
    return FhirResponse(operation_outcome([Issue("", "the database is busy; retry shortly",
                                                 "transient")]),
                        status_code=503, headers={"Retry-After": "1"})


async def log_damaged(_request: Request, _error: CheckpointError) -> FhirResponse:
    """Fail closed, but say so: nothing that would be logged is stored until the log is
    whole again (an operator runs ``wijkgateway audit verify``)."""
    log.error("processing_log_damaged")
    return FhirResponse(operation_outcome([Issue(
        "", "the processing log is damaged, so the gateway stores nothing it would have to "
        "log; an administrator must check it (wijkgateway audit verify)", "exception")]),
        status_code=503)


async def unexpected(_request: Request, error: Exception) -> FhirResponse:
    log.error("unhandled_error", error_type=type(error).__name__)
    return FhirResponse(operation_outcome([Issue("", "internal error; the request id in the "
                                                 "X-Request-Id header helps us find it",
                                                 "exception")]), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, gateway_error)
    app.add_exception_handler(NotInvolved, not_involved)
    app.add_exception_handler(InvalidMessage, invalid_message)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(HTTPException, http_exception)
    app.add_exception_handler(IntegrityError, integrity_error)
    app.add_exception_handler(DatabaseBusy, database_busy)
    app.add_exception_handler(CheckpointError, log_damaged)
    app.add_exception_handler(Exception, unexpected)
