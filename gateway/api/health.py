"""Liveness, readiness and Prometheus metrics.

Readiness includes the schema: a pod whose database was not migrated (or is older than the
code) must not take traffic, where it would answer 500s. A newer schema (the code is the old
side of a rolling upgrade) is ready. The schema check is cached per engine for
``SCHEMA_CHECK_SECONDS``, so a probe every second costs one ``SELECT 1``.
"""

from __future__ import annotations

import time
import weakref

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from gateway.api.runtime import RuntimeDep
from gateway.platform.db.migrate import SchemaStatus, schema_status
from gateway.platform.logging import get_logger

router = APIRouter(tags=["operations"])
log = get_logger()
SCHEMA_CHECK_SECONDS = 30.0
_schema_checked: weakref.WeakKeyDictionary[Engine, tuple[float, SchemaStatus]] = (
    weakref.WeakKeyDictionary())


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            status = _cached_schema_status(runtime.engine, connection)
    except SQLAlchemyError as error:
        log.warning("database_unreachable", error_type=type(error).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    if not status.usable:
        log.warning("database_schema_outdated", schema=status.state.value,
                    revision=status.revision, head=status.head)
        return JSONResponse({"status": "unavailable", "database": "ok",
                             "schema": status.state.value, "revision": status.revision,
                             "head": status.head, "problem": status.problem}, 503)
    return JSONResponse({"status": "ok", "database": "ok"})


def _cached_schema_status(engine: Engine, connection: Connection) -> SchemaStatus:
    """A usable answer is kept for ``SCHEMA_CHECK_SECONDS``; an unusable one is asked again
    every time, so readiness follows the moment `wijkgateway db upgrade` finishes."""
    now = time.monotonic()
    cached = _schema_checked.get(engine)
    if cached is not None and now < cached[0]:
        return cached[1]
    status = schema_status(connection)
    if status.usable:
        _schema_checked[engine] = (now + SCHEMA_CHECK_SECONDS, status)
    return status


@router.get("/metrics")
def metrics(runtime: RuntimeDep) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
