"""``/fhir/ServiceRequest``: GPs send referrals and read them back."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from gateway.api.callers import ServiceRequestRead, ServiceRequestWrite
from gateway.api.runtime import DbSession, Runtime, RuntimeDep
from gateway.auth.bearer import Caller
from gateway.disclosure.service import referral_as_seen_by, task_as_seen_by
from gateway.fhir import history
from gateway.fhir.common import RawBody, versioned
from gateway.fhir.prefer import written
from gateway.fhir.render import render_service_request
from gateway.fhir.resource_versions import kept
from gateway.fhir.search import SearchSpec, bundle_response, parse_search
from gateway.pipeline import receive_referral
from gateway.platform.db.models import ServiceRequestRow
from gateway.platform.errors import NotFound
from gateway.platform.fhir_json import FhirResponse, require_media_type
from gateway.platform.unit_of_work import UnitOfWorkRoute
from gateway.referrals import repository

router = APIRouter(prefix="/fhir", tags=["ServiceRequest"], route_class=UnitOfWorkRoute)
SEARCH = SearchSpec("ServiceRequest", frozenset({"identifier"}), ServiceRequestRow.updated_at,
                    revinclude=frozenset({"Task:focus", "Task:focus:ServiceRequest"}))


@router.post("/ServiceRequest", status_code=201, response_class=FhirResponse)
def create_service_request(request: Request, body: RawBody, caller: ServiceRequestWrite,
                           session: DbSession, runtime: RuntimeDep) -> Response:
    """Send a referral. Retries are safe with ``If-None-Exist`` or ``Idempotency-Key``."""
    require_media_type(request)
    accepted = receive_referral(session, caller, body, runtime.settings.max_json_depth,
                                request.headers.get("if-none-exist"),
                                request.headers.get("idempotency-key"), runtime.register,
                                runtime.known_teams, runtime.metrics)
    row = accepted.row
    if accepted.created_now:
        runtime.metrics.referrals.inc()
    return written(request, render_service_request(row), row.version_id, accepted.status_code,
                   history.version_url(request, "ServiceRequest", row.id, row.version_id))


@router.get("/ServiceRequest/{resource_id}", response_class=FhirResponse)
def read_service_request(resource_id: str, caller: ServiceRequestRead, session: DbSession,
                         runtime: RuntimeDep) -> FhirResponse:
    """The sender reads what it sent; a team's system what the consent decision permits it."""
    row = _referral_or_404(session, resource_id, caller)
    return versioned(referral_as_seen_by(session, runtime.register, caller, row),
                     row.version_id)


@router.get("/ServiceRequest/{resource_id}/_history/{vid}", response_class=FhirResponse)
def vread_service_request(resource_id: str, vid: str, caller: ServiceRequestRead,
                          session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    return history.vread("ServiceRequest", vid,
                         _versions(session, caller, runtime, resource_id))


@router.get("/ServiceRequest/{resource_id}/_history", response_class=FhirResponse)
def service_request_history(resource_id: str, request: Request, caller: ServiceRequestRead,
                            session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    return history.instance_history(request, "ServiceRequest", resource_id,
                                    _versions(session, caller, runtime, resource_id))


def _referral_or_404(session: DbSession, resource_id: str, caller: Caller) -> ServiceRequestRow:
    row = repository.get_visible(session, ServiceRequestRow, resource_id, caller)
    if row is None:
        raise NotFound("no such ServiceRequest", expression="ServiceRequest.id")
    return row


def _versions(session: DbSession, caller: Caller, runtime: Runtime,
              resource_id: str) -> list[history.Version]:
    """Each version decided, minimised and logged as a read, under today's consent."""
    row = _referral_or_404(session, resource_id, caller)
    return history.versions_of(
        [render_service_request(row), *kept(session, "ServiceRequest", row.id)],
        lambda resource: referral_as_seen_by(session, runtime.register, caller, row, resource))


@router.get("/ServiceRequest", response_class=FhirResponse)
def search_service_requests(request: Request, caller: ServiceRequestRead, session: DbSession,
                            runtime: RuntimeDep) -> FhirResponse:
    """By ``identifier`` (token), ``_lastUpdated``; ``_revinclude=Task:focus`` adds the
    referrals' Tasks as the caller reads them."""
    search = parse_search(request, SEARCH)
    query = repository.referrals_found(caller, identifier=search.params.get("identifier"))
    rows, total = search.rows(session, query, ServiceRequestRow.created_at, ServiceRequestRow.id)
    tasks = repository.tasks_of(session, caller, [r.id for r in rows]) if search.revinclude else []
    return bundle_response(request, search,
                           [referral_as_seen_by(session, runtime.register, caller, r)
                            for r in rows], total,
                           [task_as_seen_by(runtime.register, caller, t) for t in tasks])