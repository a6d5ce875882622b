"""``/fhir/AuditEvent``: the processing log of one person as FHIR R4B AuditEvents."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.api.officer import Officer
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.audit import log as audit
from gateway.fhir.search import SearchSpec, bundle_response, parse_search
from gateway.oversight.queries import entries_about
from gateway.platform.db.models import ProcessingLogEntry
from gateway.platform.errors import BadRequest
from gateway.platform.fhir_json import FhirResponse, split_token
from gateway.platform.unit_of_work import UnitOfWorkRoute
from schemas import BSN_SYSTEMS, is_valid_bsn

router = APIRouter(prefix="/fhir", tags=["AuditEvent"], route_class=UnitOfWorkRoute)
BASE = "https://wijkgateway.nl/fhir"
# The kind of processing -> FHIR AuditEvent.action (C create, R read, U update, E execute).
ACTIONS = {"write": "C", "read": "R", "view": "R", "disclosure": "E", "denial": "E",
           "override": "E", "login": "E", "review": "U", "purge": "D", "verify": "E"}
OUTCOMES = {"ok": "0", "denied": "4", "error": "8"}
SEARCH = SearchSpec("AuditEvent", frozenset({"patient"}))


@router.get("/AuditEvent", response_class=FhirResponse)
def search_audit_events(request: Request, caller: Officer, session: DbSession,
                        runtime: RuntimeDep) -> FhirResponse:
    """``patient``: the person's BSN (``system|value`` or the value; another system matches
    nothing). Newest first."""
    search_params = parse_search(request, SEARCH)
    system, bsn = split_token(search_params.params.get("patient", ""))
    if not is_valid_bsn(bsn):
        raise BadRequest("patient is the person's BSN (optionally with the BSN system)",
                         expression="patient")
    identifier = audit.subject_identifier(bsn)
    known = system in (None, *BSN_SYSTEMS)  # a token of another system matches nothing
    query = entries_about(tuple(runtime.audit.pseudonymiser.every_pseudonym(identifier))
                          if known else ())
    rows, total = search_params.rows(session, query, ProcessingLogEntry.seq.desc())
    audit.record(session, kind="read", action="audit.fhir_export", actor_id=caller.client_id,
                 subject=identifier)
    return bundle_response(request, search_params, [audit_event(r) for r in rows], total)


def audit_event(entry: ProcessingLogEntry) -> dict[str, Any]:
    """One entry as an AuditEvent; the data subject appears only as its pseudonym."""
    event: dict[str, Any] = {
        "resourceType": "AuditEvent", "id": entry.id,
        "type": {"system": f"{BASE}/CodeSystem/processing-kind", "code": entry.kind},
        "subtype": [{"system": f"{BASE}/CodeSystem/processing-action", "code": entry.action}],
        "action": ACTIONS.get(entry.kind, "E"), "recorded": entry.recorded_at,
        "outcome": OUTCOMES.get(entry.outcome, "8"),
        "agent": [{"type": {"text": entry.actor_type}, "requestor": True,
                   "who": {"identifier": {"system": f"{BASE}/NamingSystem/client",
                                          "value": entry.actor_id or entry.actor_type}}}],
        "source": {"observer": {"display": "wijkgateway"},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/"
                             "security-source-type", "code": "4"}]},
        "entity": [{"what": {"identifier": {"system": f"{BASE}/NamingSystem/subject-pseudonym",
                                            "value": entry.subject}},
                    "type": {"system": "http://terminology.hl7.org/CodeSystem/"
                             "audit-entity-type", "code": "1"},
                    "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                       "v3-Confidentiality",
                                       "code": "R" if entry.confidentiality == "confidential"
                                       else "N"}],
                    "detail": [{"type": "hash", "valueString": entry.hash}]}],
    }
    if entry.activity_id:
        event["purposeOfEvent"] = [{"coding": [{"system": f"{BASE}/CodeSystem/"
                                                "processing-activity",
                                                "code": entry.activity_id}],
                                    "text": entry.purpose}]
    if entry.acting_person:  # the worker the system acted for (NEN 7513)
        event["agent"].append({
            "type": {"text": entry.acting_role or "worker"}, "requestor": True,
            "who": {"identifier": {"system": f"{BASE}/NamingSystem/worker/{entry.actor_id}",
                                   "value": entry.acting_person}},
            **({"role": [{"text": entry.acting_unit}]} if entry.acting_unit else {})})
    if entry.recipient:
        event["agent"].append({"type": {"text": entry.recipient_role or "recipient"},
                               "requestor": False,
                               "who": {"identifier": {"value": entry.recipient}}})
    if entry.details:
        event["entity"][0]["detail"].append(
            {"type": "details", "valueString": entry.details})
    return event
