"""``/fhir/metadata``: a CapabilityStatement generated from one table of what is supported.

Search parameters come from the routes' own ``SearchSpec``s, so a parameter a route accepts is
declared and one it does not accept cannot be; the table adds only their types and help.
tests/gateway/test_capability_conformance.py exercises every claim made here."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version
from typing import Any

from fastapi import APIRouter, Request

from gateway.api.fhir import (
    audit_event,
    care_plan,
    consent,
    group,
    organization,
    service_request,
    subscription,
    task,
    who_else_helps,
)
from gateway.auth.scopes import SCOPES
from gateway.fhir.base_url import public_base
from gateway.fhir.search import SearchSpec
from gateway.platform.errors import BadRequest
from gateway.platform.fhir_json import FhirResponse
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["metadata"], route_class=UnitOfWorkRoute)
HISTORY = ("vread", "history-instance")
NL_CORE = "http://nictiz.nl/fhir/StructureDefinition/"


@dataclass(frozen=True)
class Supported:
    """One resource type: its interactions, its search (a route's spec) and what a client
    should know about each parameter: ``params`` maps a name to (type, documentation)."""

    interactions: tuple[str, ...]
    search: SearchSpec | None = None
    params: dict[str, tuple[str, str]] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()

    def search_params(self) -> list[tuple[str, str, str]]:
        """(name, type, documentation) of every parameter the route accepts beyond the common
        ones; a modifier (``actor:identifier``) is documented on its parameter."""
        if self.search is None:
            return []
        names = sorted(n for n in self.search.params if ":" not in n)
        declared = [(n, *self.params[n]) for n in names]
        if self.search.last_updated is not None:
            declared.append(("_lastUpdated", "date", "When the resource last changed, with a "
                             "prefix (eq, gt, ge, lt, le); also `_sort=_lastUpdated` or "
                             "`-_lastUpdated`."))
        return declared


WHO_ELSE_HELPS = {"name": who_else_helps.NAME, "definition": who_else_helps.DEFINITION,
                  "documentation": who_else_helps.DOCUMENTATION}
SUPPORTED: dict[str, Supported] = {
    "ServiceRequest": Supported(
        ("create", "read", *HISTORY, "search-type"), service_request.SEARCH,
        {"identifier": ("token", "The referral's own identifier (`system|value`).")},
        {"conditionalCreate": True, "versioning": "versioned"}),
    "Task": Supported(
        ("read", *HISTORY, "update", "patch", "search-type"), task.SEARCH,
        {"focus": ("reference", "The referral (ServiceRequest) the Task is about."),
         "status": ("token", "Task status, with or without the system "
                    "http://hl7.org/fhir/task-status; commas for OR.")},
        {"versioning": "versioned-update", "updateCreate": False}),
    "Subscription": Supported(
        ("create", "read", *HISTORY, "update", "delete", "search-type"), subscription.SEARCH,
        flags={"versioning": "versioned-update", "updateCreate": False}),
    "Organization": Supported(
        ("read", "search-type"), organization.SEARCH,
        {"identifier": ("token", "A team's AGB or URA (http or OID system).")}),
    "Consent": Supported(
        ("create", "read", *HISTORY, "update", "search-type"), consent.SEARCH,
        {"patient": ("reference", "`Patient/{id}`, or the resident's BSN (nine digits, "
                     "alone or as `system|value`)."),
         "status": ("token", "active or inactive."),
         "actor": ("reference", "The organisation the consent names (`Organization/{id}`); "
                   "also `actor:identifier=system|value`."),
         "purpose": ("token", "The processing activity (`system|code`).")},
        {"versioning": "versioned-update", "updateCreate": False}),
    "Patient": Supported(("create", "read", *HISTORY),
                         profiles=(f"{NL_CORE}nl-core-Patient",),
                         flags={"operation": [WHO_ELSE_HELPS]}),
    "RelatedPerson": Supported(("create", "read", *HISTORY),
                               profiles=(f"{NL_CORE}nl-core-ContactPerson",)),
    "Group": Supported(
        ("create", "read", *HISTORY, "update", "search-type"), group.SEARCH,
        {"member": ("reference", "`Patient/{id}`: every household the person is or was in."),
         "identifier": ("token", "A source system's own id for the household "
                        "(`system|value`).")},
        {"versioning": "versioned-update", "updateCreate": False,
         "operation": [WHO_ELSE_HELPS]}),
    "CarePlan": Supported(
        ("create", "read", *HISTORY, "update", "patch", "search-type"), care_plan.SEARCH,
        {"subject": ("reference", "The household: `Group/{id}`."),
         "member": ("reference", "`Patient/{id}`: the plans of every household the person is "
                    "or was in."),
         "status": ("token", "draft, active, completed or revoked; commas for OR.")},
        {"versioning": "versioned-update", "updateCreate": False,
         "operation": care_plan.OPERATIONS}),
    "OperationDefinition": Supported(("read",)),
    "AuditEvent": Supported(
        ("search-type",), audit_event.SEARCH,
        {"patient": ("token", "Required: the resident's BSN as `system|value` (a token, not a "
                     "reference: the processing log keeps no Patient ids).")}),
}


def _resource(resource_type: str, supported: Supported) -> dict[str, Any]:
    spec = supported.search
    return {
        "type": resource_type,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
        **({"supportedProfile": list(supported.profiles)} if supported.profiles else {}),
        "interaction": [{"code": code} for code in supported.interactions],
        # vread answers every kept version, not only the current one
        **({"readHistory": True} if "vread" in supported.interactions else {}),
        **supported.flags,
        **({"searchInclude": sorted(spec.include)} if spec and spec.include else {}),
        **({"searchRevInclude": sorted(spec.revinclude)} if spec and spec.revinclude else {}),
        **({"searchParam": [{"name": n, "type": t, "documentation": d}
                            for n, t, d in supported.search_params()]}
           if supported.search_params() else {}),
    }


@lru_cache(maxsize=8)
def capability_statement(base_url: str, version: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "kind": "instance",
        "software": {"name": "wijkgateway", "version": version},
        "implementation": {"description": "wijkgateway FHIR API", "url": f"{base_url}/fhir"},
        "fhirVersion": "4.3.0",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "patchFormat": ["application/json-patch+json", "application/merge-patch+json"],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "SMART-on-FHIR"}]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": f"{base_url}/oauth/token"}]}],
                "description": "OAuth2 client credentials (client_secret_basic or "
                               "private_key_jwt), then a token exchange naming the acting "
                               "person. Scopes: " + ", ".join(SCOPES),
            },
            "resource": [_resource(t, s) for t, s in SUPPORTED.items()],
        }],
    }


@router.get("/metadata", response_class=FhirResponse)
def metadata(request: Request) -> FhirResponse:
    return FhirResponse(capability_statement(public_base(request), version("wijkgateway")))


@router.get("/{resource_type}/_history", include_in_schema=False)
def type_history(resource_type: str) -> None:
    """Declared only per instance (``history-instance``): without this route a type's
    ``_history`` (HAPI's way to poll) would be read as a resource id and answer 'no such'."""
    raise BadRequest("the history of a whole type is not supported: read one resource's at "
                     "{type}/{id}/_history, or search with _lastUpdated=gt{time} for what "
                     "changed", expression="_history")
