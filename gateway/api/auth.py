"""``/oauth/token``, the public keys, and SMART discovery for backend services."""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from gateway.api.ratelimit.limiter import RateLimits, RateLimitsDep, client_address
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.auth.clients import AUTH_PRIVATE_KEY_JWT, AUTH_SECRET_BASIC
from gateway.auth.keys import public_jwks
from gateway.auth.scopes import SCOPES
from gateway.auth.token_endpoint import TOKEN_PATH, TokenEndpoint, TooManyTokenRequests
from gateway.auth.token_exchange import GRANT_TOKEN_EXCHANGE
from gateway.fhir.common import RawBody
from gateway.platform.fhir_json import media_type
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(tags=["auth"], route_class=UnitOfWorkRoute)
FORM = "application/x-www-form-urlencoded"


@router.post(TOKEN_PATH)
def token(request: Request, body: RawBody, session: DbSession, runtime: RuntimeDep,
          limits: RateLimitsDep) -> JSONResponse:
    """OAuth2 client credentials grant; errors follow RFC 6749 section 5.2. Counted per
    client address first (failures too), then per client once it has authenticated, so
    that nobody can use up another client's limit."""
    if (wait := limits.hit(limits.limits.token_per_address,
                           client_address(request.scope))) is not None:
        status, payload, headers = TooManyTokenRequests(wait)()
        return JSONResponse(payload, status, headers=dict(headers))
    if media_type(request) != FORM:
        return JSONResponse({"error": "invalid_request",
                             "error_description": f"Content-Type must be {FORM}"}, 400)
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        return JSONResponse({"error": "invalid_request",
                             "error_description": "the body is not UTF-8"}, 400)
    endpoint = TokenEndpoint(session, runtime.settings.public_base_url, runtime.signing_key,
                             runtime.settings.access_token_ttl_seconds,
                             partial(_client_limit, limits, session))
    status, payload, headers = endpoint.create_token_response(
        {"headers": request.headers, "form": form})
    return JSONResponse(payload, status, headers=dict(headers))


def _client_limit(limits: RateLimits, session: Session, client_id: str) -> int | None:
    """Counted in the request's own transaction: its session holds the SQLite writer lock."""
    with limits.together(session.connection()):
        return limits.hit(limits.limits.token_per_client, client_id)


@router.get("/oauth/jwks")
def jwks(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(public_jwks(runtime.signing_key))


@router.get("/.well-known/smart-configuration")
@router.get("/fhir/.well-known/smart-configuration")  # where SMART clients look: the FHIR base
def smart_configuration(runtime: RuntimeDep) -> JSONResponse:
    base = runtime.settings.public_base_url
    return JSONResponse({
        "issuer": base,
        "token_endpoint": base + TOKEN_PATH,
        "jwks_uri": base + "/oauth/jwks",
        "grant_types_supported": ["client_credentials", GRANT_TOKEN_EXCHANGE],
        "token_endpoint_auth_methods_supported": [AUTH_SECRET_BASIC, AUTH_PRIVATE_KEY_JWT],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "scopes_supported": list(SCOPES),
        "capabilities": ["client-confidential-asymmetric", "client-confidential-symmetric"],
    })
