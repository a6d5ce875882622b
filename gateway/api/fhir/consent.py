"""``/fhir/Consent``: record consents and objections, read them back, revoke them."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request, Response

from gateway.api.callers import ConsentRead, ConsentWrite
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.consents import repository
from gateway.consents.service import render_consent, revoke_consent
from gateway.disclosure.consent_search import consents_found
from gateway.fhir import history
from gateway.fhir.common import RawBody, if_match, versioned
from gateway.fhir.prefer import written
from gateway.fhir.search import (
    SearchSpec,
    bundle_response,
    parse_search,
    reference_ids,
)
from gateway.involvements.access import require_involved_with
from gateway.persons import involved_person
from gateway.pipeline.consent import receive_consent
from gateway.platform.db.models import ConsentRow
from gateway.platform.errors import BadRequest, NotFound
from gateway.platform.fhir_json import (
    FhirResponse,
    decode_json_object,
    require_media_type,
    split_token,
)
from gateway.platform.unit_of_work import UnitOfWorkRoute
from schemas import ACTIVITY_SYSTEM, BSN_SYSTEMS, ROLE_SYSTEM, is_valid_bsn

router = APIRouter(prefix="/fhir", tags=["Consent"], route_class=UnitOfWorkRoute)
SEARCH = SearchSpec("Consent", frozenset({"patient", "status", "actor", "actor:identifier",
                                          "purpose"}), ConsentRow.recorded_at)


@router.post("/Consent", status_code=201, response_class=FhirResponse)
def create_consent(request: Request, body: RawBody, caller: ConsentWrite, session: DbSession,
                   runtime: RuntimeDep) -> Response:
    """Record a consent (``provision.type`` permit) or an objection (deny). Sending the same
    body again answers 200 with the consent it created."""
    require_media_type(request)
    row, created = receive_consent(session, caller, runtime.register, body,
                                   runtime.settings.max_json_depth, runtime.metrics)
    return written(request, render_consent(row), row.version, 201 if created else 200,
                   history.version_url(request, "Consent", row.consent_id, row.version))


@router.get("/Consent/{consent_id}", response_class=FhirResponse)
def read_consent(consent_id: str, caller: ConsentRead, session: DbSession) -> FhirResponse:
    row = _visible_or_404(session, caller, consent_id)
    return versioned(read_consent_row(session, caller, row), row.version)


@router.get("/Consent/{consent_id}/_history/{vid}", response_class=FhirResponse)
def vread_consent(consent_id: str, vid: str, caller: ConsentRead,
                  session: DbSession) -> FhirResponse:
    return history.vread("Consent", vid, _versions(session, caller, consent_id))


@router.get("/Consent/{consent_id}/_history", response_class=FhirResponse)
def consent_history(consent_id: str, request: Request, caller: ConsentRead,
                    session: DbSession) -> FhirResponse:
    return history.instance_history(request, "Consent", consent_id,
                                    _versions(session, caller, consent_id))


def _visible_or_404(session: DbSession, caller: Caller, consent_id: str) -> ConsentRow:
    """The current version, for a caller that may read it (recorded by it or its team: else
    404) and whose organisation helps the person now (else 403)."""
    row = repository.get_visible(session, caller, consent_id)
    if row is None:
        raise NotFound("no such Consent", expression="Consent.id")
    require_involved_with(session, caller, row.person_id, "consent.read_refused")
    return row


def _versions(session: DbSession, caller: Caller, consent_id: str) -> list[history.Version]:
    """consent_records rows are the versions (append-only); each read is logged."""
    _visible_or_404(session, caller, consent_id)
    return [history.Version(row.version, history.method_of(row.version),
                            row.recorded_at.isoformat(),
                            partial(read_consent_row, session, caller, row))
            for row in repository.versions(session, consent_id)]


@router.put("/Consent/{consent_id}", response_class=FhirResponse)
def update_consent(consent_id: str, request: Request, body: RawBody, caller: ConsentWrite,
                   session: DbSession, runtime: RuntimeDep) -> Response:
    """Revoke with ``status: inactive``: a new version is added, history is kept.
    ``If-Match`` is checked when sent (required in strict mode); revoking a revoked consent
    answers the same."""
    require_media_type(request)
    document = decode_json_object(body, runtime.settings.max_json_depth)
    row = revoke_consent(session, caller, consent_id, document,
                         if_match(request, runtime.settings.require_if_match))
    return written(request, render_consent(row), row.version)


@router.get("/Consent", response_class=FhirResponse)
def search_consents(request: Request, caller: ConsentRead, session: DbSession,
                    runtime: RuntimeDep) -> FhirResponse:
    """Current versions, by ``patient``, ``status``, ``actor`` (``Organization/{id}``),
    ``actor:identifier`` (a recipient role), ``purpose`` (an activity id), ``_lastUpdated``."""
    search = parse_search(request, SEARCH)
    params = search.params
    person_id = None
    if "patient" in params:  # asking about one person: only if involved (403 else)
        person_id = involved_person(session, caller, _patient(request, params["patient"]),
                                    "consent.read_refused").id
    query = consents_found(
        caller, status=params.get("status"), person_id=person_id,
        organizations=reference_ids(request, "actor", params["actor"], "Organization")
        if "actor" in params else None,
        roles=_codes(params["actor:identifier"], ROLE_SYSTEM)
        if "actor:identifier" in params else None,
        activities=_codes(params["purpose"], ACTIVITY_SYSTEM) if "purpose" in params else None)
    rows, total = search.rows(session, query, ConsentRow.recorded_at, ConsentRow.row_id)
    return bundle_response(request, search,
                           [read_consent_row(session, caller, r) for r in rows], total)


def read_consent_row(session: DbSession, caller: Caller, row: ConsentRow) -> dict:
    """A consent as read, and the read logged: a consent says who helps a person."""
    audit.record(session, kind="read", action="consent.read", activity_id=row.activity_id,
                 actor_id=caller.client_id, person_id=row.person_id,
                 details={"consent": row.consent_id})
    return render_consent(row)


def _codes(value: str, system: str) -> list[str]:
    """Comma-separated ``code`` or ``system|code`` of a token with one code system; another
    system (or ``|code``, no system) matches nothing, as the spec says."""
    return [code for given, code in map(split_token, value.split(",")) if given in (None, system)]


def _patient(request: Request, value: str) -> str:
    """``patient``: a BSN (alone or as ``system|value``, as AuditEvent's ``patient`` takes
    it), or a reference (``Patient/{id}``, the id, or its URL here)."""
    system, bsn = split_token(value)
    if system in (None, *BSN_SYSTEMS) and is_valid_bsn(bsn):
        return bsn
    ids = reference_ids(request, "patient", value, "Patient")
    if len(ids) != 1:
        raise BadRequest("patient names one person", expression="patient")
    return f"Patient/{ids[0]}"
