"""``create_app(settings)``: the FastAPI app. Nothing happens at import time; engines and keys
are built in the lifespan, so tests can build as many apps as they like."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware

import adapters
from gateway.api import (
    adapter_endpoints,
    docs_pages,
    error_handlers,
    health,
    home,
    openapi,
    printable_plan,
    processing_activities,
)
from gateway.api import audit as audit_routes
from gateway.api import auth as auth_routes
from gateway.api import consents as consent_routes
from gateway.api import identity as identity_routes
from gateway.api import involvements as involvement_routes
from gateway.api.console import routes as console_routes
from gateway.api.console.auth import session_options
from gateway.api.control_characters import refuse_control_characters
from gateway.api.fhir import (
    audit_event,
    care_plan,
    consent,
    group,
    metadata,
    operation_definitions,
    organization,
    patient,
    related_person,
    service_request,
    subscription,
    task,
    who_else_helps,
)
from gateway.api.fhir.negotiation import FhirFormatMiddleware
from gateway.api.processing_activities import load_register
from gateway.api.ratelimit.limiter import RateLimits
from gateway.api.ratelimit.middleware import UNCOUNTED, RateLimitMiddleware
from gateway.api.runtime import Runtime
from gateway.audit.guard import require_guard
from gateway.audit.log import audit_context, audit_sessions
from gateway.auth.bearer import VerifiedTokens
from gateway.auth.client_cache import ClientCache
from gateway.auth.keys import load_signing_key
from gateway.outbox import repository as outbox_repository
from gateway.outbox.egress import policy_for
from gateway.platform import startup
from gateway.platform.db.engine import make_engine, read_only_engine
from gateway.platform.logging import configure_logging, get_logger
from gateway.platform.metrics import Metrics
from gateway.platform.request_context import RequestContextMiddleware
from gateway.platform.settings import Environment, Settings, get_settings

log = get_logger()


def create_app(settings: Settings | None = None, configure_logs: bool = True) -> FastAPI:
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_json)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a broken register stops start-up here
        register = load_register(settings.processing_activities_path)
        engine = make_engine(settings.database_url)
        if settings.environment is Environment.PRODUCTION:
            require_guard(engine)  # a role that could rewrite the log stops start-up here
        audit = audit_context(settings, register)
        sessions = audit_sessions(engine, audit)

        def outbox_counts() -> tuple[dict[str, int], dict[str, int]]:
            with sessions() as session:
                return outbox_repository.counts(session)

        metrics.watch_outbox(outbox_counts)
        key = load_signing_key(settings)
        app.state.rate_limits = RateLimits(engine, settings)
        app.state.runtime = Runtime(settings, engine, sessions, key, metrics,
                                    ClientCache(sessions, settings.client_cache_seconds),
                                    VerifiedTokens(key, settings.public_base_url), register,
                                    audit, policy_for(settings), read_only_engine(engine))
        log.info("gateway_started", environment=settings.environment.value,
                 adapter=",".join(settings.adapters),
                 url=settings.public_base_url,
                 database=startup.database_location(settings.database_url))
        if startup.development_keys_in_use(settings):
            log.warning("development_keys_in_use")
        yield
        app.state.runtime.reader.dispose()
        engine.dispose()

    app = FastAPI(
        title="wijkgateway",
        summary="Message gateway for Dutch neighbourhood teams (wijkteams).",
        description="GP referrals over FHIR R4B with status feedback. Authenticate at "
                    "/oauth/token: OAuth2 client credentials, and a token exchange (RFC 8693) "
                    "naming the worker for a resident's data.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # gateway.api.docs_pages serves /docs from package assets
        # no 307 to the path without its slash: Starlette builds it from the Host header, which
        # must never reach a link (and behind a proxy it named http://)
        redirect_slashes=False,
        dependencies=[Depends(refuse_control_characters)],
    )
    openapi.install(app)  # the document, post-processed in one place
    # innermost: FHIR answers in the negotiated format (errors too), JSON untouched
    app.add_middleware(FhirFormatMiddleware)
    # inside the request context (ids, access log); the token endpoint counts for itself
    app.add_middleware(RateLimitMiddleware, uncounted=(auth_routes.TOKEN_PATH, *UNCOUNTED))
    app.add_middleware(RequestContextMiddleware, metrics=metrics,
                       max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SessionMiddleware, **session_options(settings))  # the console's cookie
    error_handlers.install(app)
    app.include_router(health.router)
    app.include_router(docs_pages.router)
    app.include_router(home.router)
    app.include_router(auth_routes.router)
    app.include_router(processing_activities.router)
    # who_else_helps before patient: Patient/$who-else-helps is not a Patient id
    for module in (metadata, operation_definitions, service_request, task, subscription,
                   organization, consent, who_else_helps, patient, related_person, group,
                   care_plan, printable_plan, consent_routes, audit_routes, audit_event,
                   involvement_routes, identity_routes, console_routes):
        app.include_router(module.router)
    for adapter in adapters.enable(settings.adapters).values():
        if adapter.descriptor.endpoint:
            app.include_router(adapter_endpoints.router_for(adapter))
    return app
