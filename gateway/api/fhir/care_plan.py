"""``/fhir/CarePlan``: the one household plan (docs/household-plan.md). Goals, actions, scores
and roles are contained in it; a change merges with the current version item by item; the
household's agreement (``$agree``) and a team leader's approval of each part (``$approve``)
make a draft active. Every read shows each member's goals as their consent allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from gateway.api.callers import CarePlanApprove, CarePlanRead, CarePlanWrite
from gateway.api.runtime import DbSession, Runtime, RuntimeDep
from gateway.auth.bearer import Caller
from gateway.fhir import history, merge_patch
from gateway.fhir.common import RawBody, check_if_match, if_match, versioned
from gateway.fhir.prefer import written
from gateway.fhir.resource_versions import kept
from gateway.fhir.search import SearchSpec, bundle_response, parse_search, reference_ids
from gateway.plans import service
from gateway.platform.db.models import CarePlanRow
from gateway.platform.errors import BadRequest
from gateway.platform.fhir_json import (
    FhirResponse,
    decode_json,
    decode_json_object,
    media_type,
    require_media_type,
    require_own_id,
)
from gateway.platform.unit_of_work import UnitOfWorkRoute
from schemas.plan_domains import DomainLists
from schemas.plans import PLAN_STATUSES

router = APIRouter(prefix="/fhir", tags=["CarePlan"], route_class=UnitOfWorkRoute)
SEARCH = SearchSpec("CarePlan", frozenset({"subject", "member", "status"}),
                    CarePlanRow.updated_at)


def _lists(runtime: Runtime) -> DomainLists:
    return DomainLists(tuple(runtime.settings.plan_domain_lists))


def _base(request: Request, runtime: Runtime) -> int | None:
    """The version ``If-Match`` names (the base of a three-way merge), if sent."""
    header = if_match(request, runtime.settings.require_if_match)
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise BadRequest('If-Match must look like W/"3"', expression="If-Match")
    return int(text)


@router.post("/CarePlan", status_code=201, response_class=FhirResponse)
def create_plan(request: Request, body: RawBody, caller: CarePlanWrite, session: DbSession,
                runtime: RuntimeDep) -> Response:
    """A household's plan, as a draft: ``subject`` the household (``Group/{id}``), goals,
    actions, scores and roles as contained resources. 409 when the household has one."""
    require_media_type(request)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    row = service.create(session, runtime.register, caller, _lists(runtime), document)
    return written(request, service.shown(session, runtime.register, caller, row),
                   row.version_id, 201,
                   history.version_url(request, "CarePlan", row.id, row.version_id))


@router.get("/CarePlan/{plan_id}", response_class=FhirResponse)
def read_plan(plan_id: str, caller: CarePlanRead, session: DbSession,
              runtime: RuntimeDep) -> FhirResponse:
    row = service.plan_of(session, caller, plan_id)
    return versioned(service.shown(session, runtime.register, caller, row), row.version_id)


@router.get("/CarePlan/{plan_id}/_history/{vid}", response_class=FhirResponse)
def vread_plan(plan_id: str, vid: str, caller: CarePlanRead, session: DbSession,
               runtime: RuntimeDep) -> FhirResponse:
    return history.vread("CarePlan", vid, _versions(session, caller, runtime, plan_id))


@router.get("/CarePlan/{plan_id}/_history", response_class=FhirResponse)
def plan_history(plan_id: str, request: Request, caller: CarePlanRead, session: DbSession,
                 runtime: RuntimeDep) -> FhirResponse:
    return history.instance_history(request, "CarePlan", plan_id,
                                    _versions(session, caller, runtime, plan_id))


def _versions(session: DbSession, caller: Caller, runtime: Runtime,
              plan_id: str) -> list[history.Version]:
    """Each version decided as a read of the plan is, as of now."""
    row = service.plan_of(session, caller, plan_id)
    return history.versions_of(
        [row.resource, *kept(session, "CarePlan", row.id)],
        lambda resource: service.shown(session, runtime.register, caller, row, resource))


@router.put("/CarePlan/{plan_id}", response_class=FhirResponse)
def replace_plan(plan_id: str, request: Request, body: RawBody, caller: CarePlanWrite,
                 session: DbSession, runtime: RuntimeDep) -> Response:
    """The plan as this system has it, made on the version ``If-Match`` names (else the one
    it last read or wrote): merged with the current one, 412 naming the items both
    changed."""
    require_media_type(request)
    row = service.locked(session, service.plan_of(session, caller, plan_id))
    document = decode_json_object(body, runtime.settings.max_json_depth)
    require_own_id(document, row.id, "CarePlan")
    return _changed(request, session, caller, runtime, row, document, _base(request, runtime))


@router.patch("/CarePlan/{plan_id}", response_class=FhirResponse)
def patch_plan(plan_id: str, request: Request, body: RawBody, caller: CarePlanWrite,
               session: DbSession, runtime: RuntimeDep) -> Response:
    """JSON Patch or JSON Merge Patch on the plan as this system sees it, in the version
    ``If-Match`` names (else the current one), then merged as a PUT is."""
    require_media_type(request, merge_patch.PATCH_TYPES)
    row = service.locked(session, service.plan_of(session, caller, plan_id))
    base = _base(request, runtime) or row.version_id
    patch = decode_json(body, runtime.settings.max_json_depth)
    seen = service.shown(session, runtime.register, caller, row, service.resource_at(
        session, row, base))
    document = merge_patch.apply(media_type(request), seen, patch, "CarePlan")
    require_own_id(document, row.id, "CarePlan")
    return _changed(request, session, caller, runtime, row, document, base)


def _changed(request: Request, session: DbSession, caller: Caller, runtime: Runtime,
             row: CarePlanRow, document: dict[str, Any], base: int | None) -> Response:
    row = service.change(session, runtime.register, caller, _lists(runtime), row, document,
                         base)
    return written(request, service.shown(session, runtime.register, caller, row),
                   row.version_id)


@router.post("/CarePlan/{plan_id}/$agree", response_class=FhirResponse)
def agree_plan(plan_id: str, request: Request, body: RawBody, caller: CarePlanWrite,
               session: DbSession, runtime: RuntimeDep) -> Response:
    """The household agreed to the plan as it is: a Parameters with ``who``, a
    ``valueReference`` to the member (16 or over) who agreed for the household. With
    ``If-Match``, 412 when the plan changed since that version."""
    require_media_type(request)
    row = service.locked(session, service.plan_of(session, caller, plan_id))
    check_if_match(request.headers.get("if-match"), row.version_id)  # agreed to what was read
    who = _who(decode_json_object(body, runtime.settings.max_json_depth))
    row = service.agree(session, runtime.register, caller, row, who)
    return written(request, service.shown(session, runtime.register, caller, row),
                   row.version_id)


def _who(parameters: dict[str, Any]) -> str:
    given = parameters.get("parameter") if parameters.get("resourceType") == "Parameters" \
        else None
    values = [p.get("valueReference") for p in given if isinstance(p, dict)
              and p.get("name") == "who"] if isinstance(given, list) else []
    if len(values) != 1 or not isinstance(values[0], dict) or \
            not isinstance(values[0].get("reference"), str):
        raise BadRequest("send a Parameters with one parameter 'who', a valueReference to "
                         "the member who agreed (Patient/{id})", expression="Parameters")
    return str(values[0]["reference"])


@router.post("/CarePlan/{plan_id}/$approve", response_class=FhirResponse)
def approve_plan(plan_id: str, request: Request, caller: CarePlanApprove, session: DbSession,
                 runtime: RuntimeDep) -> Response:
    """The acting team leader approves their unit's part (youth or adult) of a draft; the
    plan is active once the household agreed and every part is approved. With ``If-Match``,
    412 when the plan changed since that version."""
    row = service.locked(session, service.plan_of(session, caller, plan_id))
    check_if_match(request.headers.get("if-match"), row.version_id)  # approves what it read
    row = service.approve(session, runtime.register, caller, row)
    return written(request, service.shown(session, runtime.register, caller, row),
                   row.version_id)


@router.get("/CarePlan", response_class=FhirResponse)
def search_plans(request: Request, caller: CarePlanRead, session: DbSession,
                 runtime: RuntimeDep) -> FhirResponse:
    """By ``subject`` (``Group/{id}``), ``member`` (``Patient/{id}``: plans of the households
    they are or were in), ``status`` and ``_lastUpdated``."""
    search = parse_search(request, SEARCH)
    subject, member, status = (search.params.get(n) for n in ("subject", "member", "status"))
    statuses = None if status is None else status.split(",")
    if statuses and not set(statuses) <= set(PLAN_STATUSES):
        raise BadRequest(f"status is one of {', '.join(PLAN_STATUSES)}", expression="status")
    query = service.search_query(
        session, caller, reference_ids(request, "subject", subject, "Group") if subject else None,
        reference_ids(request, "member", member, "Patient") if member else None, statuses)
    rows, total = search.rows(session, query, CarePlanRow.created_at, CarePlanRow.id)
    return bundle_response(request, search, [service.shown(session, runtime.register, caller, r)
                                             for r in rows], total)


def _definition(code: str, title: str, description: str,
                parameters: list[dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    def build(base_url: str) -> dict[str, Any]:
        return {
            "resourceType": "OperationDefinition", "id": f"care-plan-{code}",
            "url": f"{DEFINITION_BASE}care-plan-{code}", "name": title.replace(" ", ""),
            "title": title, "status": "active", "kind": "operation", "code": code,
            "description": f"{description} See {base_url}/docs/household-plan.",
            "resource": ["CarePlan"], "system": False, "type": False, "instance": True,
            "affectsState": True, "parameter": [*parameters, {
                "name": "return", "use": "out", "min": 1, "max": "1", "type": "CarePlan",
                "documentation": "The plan as the caller may see it, with the gateway's "
                "agreement and approval extensions."}]}
    return build


DEFINITION_BASE = "https://wijkgateway.nl/fhir/OperationDefinition/"
DEFINITIONS = {
    "care-plan-agree": _definition(
        "agree", "Household agrees", "The household agreed to the plan as it is now (a draft): "
        "who agreed, a member of 16 or over. With every part approved the plan is active.",
        [{"name": "who", "use": "in", "min": 1, "max": "1", "type": "Reference",
          "documentation": "Patient/{id} of the member who agreed for the household."}]),
    "care-plan-approve": _definition(
        "approve", "Team leader approves", "The acting team leader (a token naming them) "
        "approves the part of the draft their unit has authority over: youth or adult.", []),
}
OPERATIONS = [{"name": key.removeprefix("care-plan-"), "definition": DEFINITION_BASE + key}
              for key in DEFINITIONS]
