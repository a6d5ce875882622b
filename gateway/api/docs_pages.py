"""``/docs``: Swagger UI that works without internet access. Its script, style sheet and icon
come from the ``swagger-ui-bundle`` package, served under ``/docs/static/``; the page names no
other host (FastAPI's default loads them from a CDN, so the page is blank offline), and its
Content-Security-Policy lets the browser load nothing from elsewhere. ReDoc is switched off: no
package ships its bundle."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
STATIC_PATH = f"{DOCS_PATH}/static"
OAUTH2_REDIRECT_PATH = f"{DOCS_PATH}/oauth2-redirect"
# only what the page loads (the package also holds a demo page that points at the internet)
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8", "favicon-32x32.png": "image/png"}

router = APIRouter(include_in_schema=False)


def _with_csp(page: HTMLResponse) -> HTMLResponse:
    """A Content-Security-Policy that lets the page load only from the gateway: its inline
    scripts are allowed by their hash, so a script anyone injected would not run."""
    scripts = re.findall(rb"<script>(.*?)</script>", page.body, re.DOTALL)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'"
                      for s in scripts)
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'")
    return page


@router.get(DOCS_PATH)
def swagger_ui() -> HTMLResponse:
    return _with_csp(get_swagger_ui_html(
        openapi_url="/openapi.json", title="wijkgateway API",
        swagger_js_url=f"{STATIC_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PATH}/favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
        # no call to validator.swagger.io (Swagger UI's default)
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False}))


@router.get(OAUTH2_REDIRECT_PATH)
def oauth2_redirect() -> HTMLResponse:
    return _with_csp(get_swagger_ui_oauth2_redirect_html())


@router.get(f"{STATIC_PATH}/{{name}}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, "no such asset")
    return FileResponse(str(swagger_ui_path / name), media_type=ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})
