"""``/fhir/Task``: the referral's status. Teams move it; GPs follow it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fhir.resources.R4B.task import Task

from adapters.fhir_validation import validate_resource
from gateway.api.callers import TaskRead, TaskWrite
from gateway.api.runtime import DbSession, Runtime, RuntimeDep
from gateway.auth.bearer import Caller
from gateway.disclosure.service import referral_as_seen_by, task_as_seen_by
from gateway.fhir import history, merge_patch
from gateway.fhir.common import RawBody, check_if_match, if_match, versioned
from gateway.fhir.prefer import written
from gateway.fhir.render import render_task
from gateway.fhir.resource_versions import kept
from gateway.fhir.search import (
    SearchSpec,
    bundle_response,
    parse_search,
    reference_ids,
)
from gateway.platform.db.models import ServiceRequestRow, TaskRow
from gateway.platform.errors import NotFound
from gateway.platform.fhir_json import (
    FhirResponse,
    decode_json,
    decode_json_object,
    media_type,
    require_media_type,
    require_own_id,
)
from gateway.platform.unit_of_work import UnitOfWorkRoute
from gateway.referrals import repository
from gateway.referrals.service import update_task

router = APIRouter(prefix="/fhir", tags=["Task"], route_class=UnitOfWorkRoute)
SEARCH = SearchSpec("Task", frozenset({"focus", "status"}), TaskRow.updated_at,
                    include=frozenset({"Task:focus", "Task:focus:ServiceRequest"}))


def _task_or_404(session: DbSession, task_id: str, caller: Caller) -> TaskRow:
    row = repository.get_visible(session, TaskRow, task_id, caller)
    if row is None:
        raise NotFound("no such Task", expression="Task.id")
    return row


def _task_to_change(session: DbSession, task_id: str, caller: Caller) -> TaskRow:
    """The Task, locked (PostgreSQL; SQLite has one writer) until the request commits: two
    updates of one Task queue, so the second changes, and ``If-Match`` checks, the version
    the first made, and each replaced version is kept once."""
    row = _task_or_404(session, task_id, caller)
    session.refresh(row, with_for_update=True)
    return row


@router.get("/Task/{task_id}", response_class=FhirResponse)
def read_task(task_id: str, caller: TaskRead, session: DbSession,
              runtime: RuntimeDep) -> FhirResponse:
    row = _task_or_404(session, task_id, caller)
    return versioned(task_as_seen_by(runtime.register, caller, row), row.version_id)


@router.get("/Task/{task_id}/_history/{vid}", response_class=FhirResponse)
def vread_task(task_id: str, vid: str, caller: TaskRead, session: DbSession,
               runtime: RuntimeDep) -> FhirResponse:
    return history.vread("Task", vid, _versions(session, caller, runtime, task_id))


@router.get("/Task/{task_id}/_history", response_class=FhirResponse)
def task_history(task_id: str, request: Request, caller: TaskRead, session: DbSession,
                 runtime: RuntimeDep) -> FhirResponse:
    return history.instance_history(request, "Task", task_id,
                                    _versions(session, caller, runtime, task_id))


def _versions(session: DbSession, caller: Caller, runtime: Runtime,
              task_id: str) -> list[history.Version]:
    """Each version shown as a read of the Task shows it (the same 404 when unreadable)."""
    row = _task_or_404(session, task_id, caller)
    return history.versions_of(
        [render_task(row), *kept(session, "Task", row.id)],
        lambda resource: task_as_seen_by(runtime.register, caller, row, resource))


@router.get("/Task", response_class=FhirResponse)
def search_tasks(request: Request, caller: TaskRead, session: DbSession,
                 runtime: RuntimeDep) -> FhirResponse:
    """By ``focus`` (the referral), ``status``, ``_lastUpdated``; ``_include=Task:focus`` adds
    the referrals, each decided, minimised and logged as a read of it."""
    search = parse_search(request, SEARCH)
    focus = search.params.get("focus")
    query = repository.tasks_found(
        caller, status=search.params.get("status"),
        focus=None if focus is None else reference_ids(request, "focus", focus,
                                                       "ServiceRequest"))
    rows, total = search.rows(session, query, TaskRow.created_at, TaskRow.id)
    focus = repository.visible_by_ids(session, ServiceRequestRow,
                                      [r.service_request_id for r in rows], caller) \
        if search.include else []
    return bundle_response(request, search,
                           [task_as_seen_by(runtime.register, caller, r) for r in rows], total,
                           [referral_as_seen_by(session, runtime.register, caller, r)
                            for r in focus])


@router.put("/Task/{task_id}", response_class=FhirResponse)
def replace_task(task_id: str, request: Request, body: RawBody, caller: TaskWrite,
                 session: DbSession, runtime: RuntimeDep) -> Response:
    """Move the status. ``If-Match`` is checked when sent (412 if stale); only status
    elements may change."""
    require_media_type(request)
    row = _task_to_change(session, task_id, caller)
    check_if_match(if_match(request, runtime.settings.require_if_match), row.version_id)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    return _apply(request, session, caller, runtime, row, document)


@router.patch("/Task/{task_id}", response_class=FhirResponse)
def patch_task(task_id: str, request: Request, body: RawBody, caller: TaskWrite,
               session: DbSession, runtime: RuntimeDep) -> Response:
    """JSON Patch (``application/json-patch+json``, e.g. replace /status) or JSON Merge Patch
    (``application/merge-patch+json``, or the changed elements as ``application/fhir+json``
    or ``application/json``, which fhirpy's ``patch()`` sends) on the current Task."""
    require_media_type(request, merge_patch.PATCH_TYPES)
    row = _task_to_change(session, task_id, caller)
    check_if_match(if_match(request, runtime.settings.require_if_match), row.version_id)
    patch = decode_json(body, runtime.settings.max_json_depth)
    document = merge_patch.apply(media_type(request), render_task(row), patch, "Task")
    return _apply(request, session, caller, runtime, row, document)


def _apply(request: Request, session: DbSession, caller: Caller, runtime: Runtime,
           row: TaskRow, document: dict) -> Response:
    """Validate and store (the service keeps the version replaced)."""
    require_own_id(document, row.id, "Task")
    validate_resource(Task, document)
    row = update_task(session, caller, runtime.register, row, document)
    return written(request, render_task(row), row.version_id)
