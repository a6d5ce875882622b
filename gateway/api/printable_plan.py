"""``GET /plans/{id}/print``: the household plan on paper, for the household meeting and the
household's own copy (docs/household-plan.md, "On paper"). HTML by default, PDF when asked
(``Accept: application/pdf`` or ``format=pdf``), made by Chromium's print-to-PDF.

Not a FHIR operation: the answer is a document for people, not a resource, so it lives beside
``/fhir`` (whose format negotiation serves FHIR JSON and XML only), as the access report does
under ``/audit``. The plan is read as ``GET /fhir/CarePlan/{id}`` reads it, logged the same.
The PDF is printed after the request's transaction has committed, so no lock is held while
Chromium works, and Chromium is looked for before the plan is read: without it, a 503 and
nothing logged as shown.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from gateway.api.callers import CarePlanRead
from gateway.api.error_handlers import gateway_error
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.plans import service
from gateway.plans.printable import printable
from gateway.platform import pdf
from gateway.platform.db.types import utcnow
from gateway.platform.errors import BadRequest, GatewayError, NotAcceptable
from gateway.platform.fhir_json import media_range
from gateway.platform.templating import templates
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/plans", tags=["CarePlan"], route_class=UnitOfWorkRoute)
HTML, PDF = "text/html", "application/pdf"
_RANGES = {HTML: HTML, "text/*": HTML, "*/*": HTML, PDF: PDF, "application/*": PDF}
# A page about a household: kept out of caches, frames and other sites' Referer; no scripts.
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                      "frame-ancestors 'none'; base-uri 'none'; "
                                      "form-action 'none'"}


def wanted(accept: str, format_: str | None) -> str:
    """``format`` (``html`` or ``pdf``) if given, else the acceptable type with the highest
    ``q`` (an exact type before a wildcard, the first of equals); no ``Accept``: HTML."""
    if format_ is not None:
        if format_ not in ("html", "pdf"):
            raise BadRequest("format is html or pdf", expression="format")
        return HTML if format_ == "html" else PDF
    best: tuple[float, int, int] | None = None
    chosen = HTML
    for position, text in enumerate(accept.split(",") if accept.strip() else ["*/*"]):
        kind, params = media_range(text)
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            continue
        if kind in _RANGES and 0 < quality <= 1:
            rank = (quality, 0 if "*" in kind else 1, -position)
            if best is None or rank > best:
                best, chosen = rank, _RANGES[kind]
    if best is None:
        raise NotAcceptable("the printable plan is text/html or application/pdf",
                            expression="Accept")
    return chosen


class PdfResponse(Response):
    """Prints its HTML when the response is sent: after the handler's commit, on the event
    loop, awaiting Chromium. A failure is the 503 OperationOutcome every error is."""

    media_type = PDF

    def __init__(self, html: str, chromium: Path, timeout: float) -> None:
        super().__init__(headers={**HEADERS, "Content-Disposition":
                                  'inline; filename="gezinsplan.pdf"'})
        self.html, self.chromium, self.timeout = html, chromium, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            document = await pdf.to_pdf(self.html, self.chromium, self.timeout)
        except GatewayError as error:
            await (await gateway_error(Request(scope), error))(scope, receive, send)
            return
        headers = {k: v for k, v in self.headers.items() if k != "content-length"}
        await Response(document, media_type=PDF, headers=headers)(scope, receive, send)


@router.get("/{plan_id}/print", response_model=None)
def print_plan(plan_id: str, request: Request, caller: CarePlanRead, session: DbSession,
               runtime: RuntimeDep, format: str | None = None) -> Response:
    """The plan as the caller may see it, in plain Dutch: goals by life domain, the
    self-reliance scores as a small chart, who does what by when, who holds regie, the
    household's agreement and the approvals. ``format`` (``html``, ``pdf``) overrides
    ``Accept``; a PDF is 503 when this gateway has no Chromium."""
    kind = wanted(request.headers.get("accept", ""), format)
    settings = runtime.settings
    if kind == PDF:
        pdf.check_available(settings.chromium_path)
    row = service.plan_of(session, caller, plan_id)
    html = templates.get_template("plan_print.html").render(
        plan=printable(session, runtime.register, caller, row, utcnow().date()))
    if kind == HTML:
        return HTMLResponse(html, headers=HEADERS)
    return PdfResponse(html, settings.chromium_path, settings.pdf_timeout_seconds)
