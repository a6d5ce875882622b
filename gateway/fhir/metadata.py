"""``/fhir/metadata``: a CapabilityStatement generated from one table of what is supported.
A test checks every listed interaction against the app's routes, so it stays truthful."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version
from typing import Any

from fastapi import APIRouter

from gateway.auth.scopes import SCOPES
from gateway.fhir_json import FhirResponse
from gateway.runtime import RuntimeDep
from gateway.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["metadata"], route_class=UnitOfWorkRoute)

# resource type -> (interactions, search parameters (name, type), extra flags)
SUPPORTED: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...], dict[str, Any]]] = {
    "ServiceRequest": (("create", "read", "search-type"), (("identifier", "token"),),
                       {"conditionalCreate": True, "versioning": "versioned"}),
    "Task": (("read", "update", "patch", "search-type"),
             (("focus", "reference"), ("status", "token")),
             {"versioning": "versioned-update", "updateCreate": False}),
    "Subscription": (("create", "read", "update", "delete", "search-type"), (),
                     {"updateCreate": False}),
    "Organization": (("read", "search-type"), (), {}),
    "Consent": (("create", "read", "update", "search-type"),
                (("patient", "reference"), ("status", "token"), ("actor", "reference"),
                 ("purpose", "token")), {"versioning": "versioned-update",
                                         "updateCreate": False}),
    "Patient": (("create",), (), {}),
    "RelatedPerson": (("create", "read"), (), {}),
    "AuditEvent": (("search-type",), (("patient", "reference"),), {}),
}


@lru_cache(maxsize=8)
def capability_statement(base_url: str, version: str) -> dict[str, Any]:
    resources = []
    for resource_type, (interactions, params, flags) in SUPPORTED.items():
        resources.append({
            "type": resource_type,
            "interaction": [{"code": code} for code in interactions],
            "searchParam": [{"name": n, "type": t} for n, t in
                            (*params, ("_count", "number"), ("_offset", "number"))],
            **flags,
        })
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "kind": "instance",
        "software": {"name": "wijkgateway", "version": version},
        "implementation": {"description": "wijkgateway FHIR API", "url": f"{base_url}/fhir"},
        "fhirVersion": "4.3.0",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "patchFormat": ["application/json-patch+json"],
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
                               "private_key_jwt). Scopes: " + ", ".join(SCOPES),
            },
            "resource": resources,
        }],
    }


@router.get("/metadata", response_class=FhirResponse)
def metadata(runtime: RuntimeDep) -> FhirResponse:
    return FhirResponse(capability_statement(runtime.settings.public_base_url,
                                             version("wijkgateway")))
