"""``/``: a small page that leads a newcomer on (API docs, console, FHIR metadata, metrics),
instead of a 404. Static, with links relative to the gateway, and no script."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

LINKS = (("/docs", "API documentation (OpenAPI, try it out)"),
         ("/fhir/metadata", "FHIR CapabilityStatement"),
         ("/console", "Privacy officers' console"),
         ("/metrics", "Prometheus metrics"),
         ("/healthz", "Liveness"), ("/readyz", "Readiness"))
PAGE = ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>wijkgateway</title></head><body>\n<h1>wijkgateway</h1>\n"
        "<p>Message gateway for Dutch neighbourhood teams: GP referrals over FHIR R4B, consent "
        "enforced, every processing logged. Authenticate at <code>/oauth/token</code>: OAuth2 "
        "client credentials, and a token exchange (RFC 8693) naming the worker for a "
        "resident's data.</p>\n<ul>\n"
        + "".join(f"<li><a href=\"{href}\">{text}</a> <code>{href}</code></li>\n"
                  for href, text in LINKS)
        + "</ul>\n</body></html>\n")
CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": CSP})
