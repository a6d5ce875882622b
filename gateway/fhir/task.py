"""``/fhir/Task``: the referral's status. Teams move it; GPs follow it."""

from __future__ import annotations

import jsonpatch
from fastapi import APIRouter, Request
from fhir.resources.R4B.task import Task
from sqlalchemy import select

from adapters.fhir_validation import validate_resource
from gateway.auth.bearer import Caller
from gateway.auth.callers import TaskRead, TaskWrite
from gateway.db.models import TaskRow
from gateway.db.paging import page
from gateway.disclosure import task_as_seen_by
from gateway.errors import BadRequest, NotFound, Unprocessable
from gateway.fhir.base_url import public_base
from gateway.fhir.common import RawBody, bundle_response, check_if_match, parse_search, versioned
from gateway.fhir_json import FhirResponse, decode_json, decode_json_object, require_media_type
from gateway.referrals import repository
from gateway.referrals.render import render_task
from gateway.referrals.service import update_task
from gateway.runtime import DbSession, Runtime, RuntimeDep
from gateway.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["Task"], route_class=UnitOfWorkRoute)
SEARCH_PARAMS = frozenset({"focus", "status"})
JSON_PATCH = frozenset({"application/json-patch+json"})


def _task_or_404(session: DbSession, task_id: str, caller: Caller) -> TaskRow:
    row = repository.get_visible(session, TaskRow, task_id, caller)
    if row is None:
        raise NotFound("no such Task", expression="Task.id")
    return row


@router.get("/Task/{task_id}", response_class=FhirResponse)
def read_task(task_id: str, caller: TaskRead, session: DbSession,
              runtime: RuntimeDep) -> FhirResponse:
    row = _task_or_404(session, task_id, caller)
    return versioned(task_as_seen_by(runtime.register, caller, row), row.version_id)


@router.get("/Task", response_class=FhirResponse)
def search_tasks(request: Request, caller: TaskRead, session: DbSession,
                 runtime: RuntimeDep) -> FhirResponse:
    """Search by ``focus=ServiceRequest/{id}`` and/or ``status``."""
    search = parse_search(request, SEARCH_PARAMS)
    query = select(TaskRow).where(repository.visible_to(caller, TaskRow)).order_by(
        TaskRow.created_at)
    if "focus" in search.params:
        focus = search.params["focus"].removeprefix("ServiceRequest/")
        query = query.where(TaskRow.service_request_id == focus)
    if "status" in search.params:
        query = query.where(TaskRow.status.in_(search.params["status"].split(",")))
    rows, total = page(session, query, search.count, search.offset)
    return bundle_response(request, public_base(request), search,
                           [task_as_seen_by(runtime.register, caller, r) for r in rows], total)


@router.put("/Task/{task_id}", response_class=FhirResponse)
def replace_task(task_id: str, request: Request, body: RawBody, caller: TaskWrite,
                 session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    """Move the status (needs ``If-Match``). Only status elements may change."""
    require_media_type(request)
    row = _task_or_404(session, task_id, caller)
    check_if_match(request.headers.get("if-match"), row.version_id)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    return _apply(session, caller, runtime, row, document)


@router.patch("/Task/{task_id}", response_class=FhirResponse)
def patch_task(task_id: str, request: Request, body: RawBody, caller: TaskWrite,
               session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    """JSON Patch (``application/json-patch+json``) on the current Task, e.g. replace /status."""
    require_media_type(request, JSON_PATCH)
    row = _task_or_404(session, task_id, caller)
    check_if_match(request.headers.get("if-match"), row.version_id)
    operations = decode_json(body, runtime.settings.max_json_depth)
    if not isinstance(operations, list):
        raise BadRequest("a JSON Patch body is an array of operations")
    try:
        document = jsonpatch.apply_patch(render_task(row), operations)
    except jsonpatch.InvalidJsonPatch:  # RFC 5789 section 2.2: a malformed patch is a 400
        raise BadRequest("each JSON Patch operation is an object with a known 'op', a "
                         "'path' and, where the op needs it, 'value' or 'from' (RFC 6902)"
                         ) from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError,
            KeyError, ValueError):
        raise Unprocessable("the patch cannot be applied to the current Task") from None
    if not isinstance(document, dict):
        raise Unprocessable("the patched Task must stay a JSON object (a patch of the whole "
                            "document, path '', replaced it)")
    return _apply(session, caller, runtime, row, document)


def _apply(session: DbSession, caller: Caller, runtime: Runtime, row: TaskRow,
           document: dict) -> FhirResponse:
    if document.get("id") != row.id:
        raise BadRequest("the body's id must match the URL", expression="Task.id")
    validate_resource(Task, document)
    row = update_task(session, caller, runtime.register, row, document)
    return versioned(render_task(row), row.version_id)
