"""The FHIR side of the OpenAPI document: small resource schemas derived from the
fhir.resources R4B models, one realistic Dutch example per write, and the search parameters
and headers each interaction takes, derived from the CapabilityStatement table
(``gateway.api.fhir.metadata.SUPPORTED``) so the two documents cannot tell different stories.

A full JSON Schema of an R4B resource runs to megabytes (every datatype, recursively); an
integrator needs the resource type, the required elements and their codes, and a link to the
specification for the rest, so that is what the schemas hold."""

from __future__ import annotations

import typing
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from adapters.bindings import REQUIRED as REQUIRED_CODES
from gateway.api.fhir.metadata import SUPPORTED
from schemas.household import MEMBER_ROLE_EXTENSION, household_system

SPEC = "https://hl7.org/fhir/R4B"
FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
XML_BODY = {"schema": {"type": "string", "description": "The same resource as FHIR XML."}}
BSN = "http://fhir.nl/fhir/NamingSystem/bsn"
AGB = "http://fhir.nl/fhir/NamingSystem/agb-z"
ACTIVITY = "https://wijkgateway.nl/fhir/CodeSystem/processing-activity"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
# Resources the API returns but takes no writes of (the schemas name them all the same way).
READ_ONLY = ("Bundle", "OperationOutcome", "CapabilityStatement", "AuditEvent", "Organization")

# Common search parameters (FHIR R4B 3.1.1.5): (name, what it does); all strings on the wire.
COMMON_SEARCH = (
    ("_count", "Page size, 0 to 200 (default 50); `_count=0` answers only the total."),
    ("_offset", "Skip this many matches (the Bundle's `next` link carries it)."),
    ("_summary", "`count` for the total only (`false`: the default); other values answer 400."),
    ("_total", "`none`, `estimate` or `accurate`: accepted, and the total is always exact."),
    ("_totalMethod", "`count` (what fhirpy's `count()` sends): accepted, the total is always "
                     "exact."),
    ("_pretty", "`true` or `false`: accepted, as on a read; the JSON stays compact."),
    ("_elements", "Comma-separated top-level elements to return; the rest are left out "
                  "and the resource is tagged SUBSETTED."),
    ("_sort", "`_lastUpdated` or `-_lastUpdated` (ServiceRequest, Task, Consent)."),
    ("_lastUpdated", "Changed since (or before), with a prefix: `gt2026-11-01T00:00:00Z` "
                     "(ServiceRequest, Task, Consent)."),
    ("_include", "`Task:focus` on Task: adds each referral as a read of it would show it."),
    ("_revinclude", "`Task:focus` on ServiceRequest: adds the referrals' Tasks."),
    ("_format", "`json` or `xml` (instead of an Accept header)."),
)
READ_PARAMS = ("_format",)
TYPE_HELP = {
    "token": "A code or identifier: `system|value`, `value`, or `system|`; commas for OR.",
    "reference": "`Type/id`, the id, or the absolute URL of the resource.",
    "date": "A date with an optional prefix (`eq`, `gt`, `ge`, `lt`, `le`).",
    "string": "Starts with this text (case-insensitive).",
    "number": "A number.",
    "uri": "A URI, matched exactly.",
}


def _header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": {"type": "string", **schema}}


ACCEPT = _header("Accept", "FHIR JSON (the default); `application/fhir+xml` answers FHIR XML. "
                           "A `fhirVersion` parameter may be 4.0 or 4.3; other versions and "
                           "formats answer 406.",
                 enum=[FHIR_JSON, "application/json", f"{FHIR_JSON}; fhirVersion=4.0",
                       f"{FHIR_JSON}; fhirVersion=4.3", FHIR_XML, "*/*"])
IF_MATCH = _header("If-Match", 'The ETag of the version you change, e.g. `W/"3"`: a '
                               "different current version answers 412.",
                   pattern='^(W/)?"[0-9]{1,9}"$')
IF_NONE_EXIST = _header("If-None-Exist", "Conditional create: a search, e.g. "
                        "`identifier=urn:oid:2.16.528.1.1007.3.3.1234.1|ref-42`; a match "
                        "answers 200 with the existing resource instead of creating one.")
IDEMPOTENCY_KEY = _header("Idempotency-Key", "Makes a retry harmless: the same key with the "
                          "same body (compared as canonical JSON) answers the first result.",
                          pattern="^[\\x21-\\x7e]{1,255}$")
PREFER_WRITE = _header("Prefer", "`return=minimal`, `return=representation` (default) or "
                       "`return=OperationOutcome`.",
                       enum=["return=minimal", "return=representation",
                             "return=OperationOutcome"])
PREFER_SEARCH = _header("Prefer", "`handling=lenient` ignores unknown search parameters "
                        "(the Bundle says which); `handling=strict` (default) refuses them.",
                        enum=["handling=lenient", "handling=strict"])


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string"}}


def search_parameters(resource_type: str) -> list[dict[str, Any]]:
    """The resource's own search parameters as the CapabilityStatement declares them (with
    their documentation), then the common ones this search accepts (its route's spec)."""
    entry = SUPPORTED[resource_type]
    own = [_query(name, f"{documentation} {TYPE_HELP.get(kind, '')}".strip())
           for name, kind, documentation in entry.search_params()]
    own += [_query(name, f"`{name.partition(':')[0]}` with the `:{name.partition(':')[2]}` "
                         f"modifier. {TYPE_HELP['token']}")
            for name in sorted(n for n in (entry.search.params if entry.search else ())
                               if ":" in n)]  # a query key of its own, e.g. actor:identifier
    names = {p["name"] for p in own}
    accepted = (entry.search.names() if entry.search else frozenset()) | {"_format"}
    return [*own, *(_query(n, d) for n, d in COMMON_SEARCH
                    if n not in names and n in accepted), ACCEPT, PREFER_SEARCH]


def read_parameters() -> list[dict[str, Any]]:
    return [*(_query(n, d) for n, d in COMMON_SEARCH if n in READ_PARAMS), ACCEPT]


def write_headers(method: str, resource_type: str) -> list[dict[str, Any]]:
    """Headers of a create, update or patch; a retry-safe create is one the CapabilityStatement
    calls conditional."""
    headers = [ACCEPT, PREFER_WRITE]
    if method in ("put", "patch"):
        headers.append(IF_MATCH)
    if method == "post" and flags(resource_type).get("conditionalCreate"):
        headers += [IF_NONE_EXIST, IDEMPOTENCY_KEY]
    return headers


def flags(resource_type: str) -> dict[str, Any]:
    entry = SUPPORTED.get(resource_type)
    return dict(entry.flags) if entry else {}


# ---- schemas -------------------------------------------------------------------------------

def _element_schema(resource_type: str, name: str, field: Any) -> dict[str, Any]:
    """A loose schema for one element: its JSON shape and, for a required code, its values
    (from adapters.bindings: fhir.resources' own lists are cut short with a '+')."""
    extra = field.json_schema_extra or {}
    annotation = field.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    inner = args[0] if args else annotation
    shape: dict[str, Any]
    if typing.get_origin(inner) in (list, typing.List):  # noqa: UP006 (what the models use)
        shape = {"type": "array", "items": {"type": "object"}, "minItems": 1}
    elif extra.get("element_required") or extra.get("enum_values"):
        shape = {"type": "string"}
    else:
        shape = {"type": "object"}
    if (resource_type, name) in REQUIRED_CODES:
        shape["enum"] = list(REQUIRED_CODES[(resource_type, name)])
    if field.title:
        shape["description"] = field.title
    return shape


def resource_schema(resource_type: str) -> dict[str, Any]:
    """resourceType, id, meta and the elements R4B requires (with their codes); other
    elements are allowed and described by the specification."""
    model = get_fhir_model_class(resource_type)
    required = {(f.alias or n): f for n, f in model.model_fields.items()
                if f.is_required() or (f.json_schema_extra or {}).get("element_required")}
    return {
        "type": "object",
        "description": f"FHIR R4B {resource_type}: {SPEC}/{resource_type.lower()}.html",
        "properties": {
            "resourceType": {"type": "string", "enum": [resource_type]},
            "id": {"type": "string", "pattern": "^[A-Za-z0-9\\-.]{1,64}$"},
            "meta": {"type": "object"},
            **{name: _element_schema(resource_type, name, field)
               for name, field in required.items()},
        },
        "required": ["resourceType", *required],
        "additionalProperties": True,
    }


def fhir_schemas(resource_types: typing.Iterable[str]) -> dict[str, dict[str, Any]]:
    return {t: resource_schema(t) for t in sorted({*resource_types, *READ_ONLY})}


PATCH_SCHEMAS: dict[str, dict[str, Any]] = {
    JSON_PATCH: {"type": "array", "description": "JSON Patch (RFC 6902) operations.",
                 "items": {"type": "object", "required": ["op", "path"], "properties": {
                     "op": {"type": "string", "enum": ["add", "remove", "replace", "move",
                                                       "copy", "test"]},
                     "path": {"type": "string"}, "from": {"type": "string"}, "value": {}}}},
    MERGE_PATCH: {"type": "object", "description": "JSON Merge Patch (RFC 7396): the "
                  "elements to change; `null` removes one."},
}


# ---- examples (test BSNs only; names and texts invented) -------------------------------------

_CONSENT_BASE: dict[str, Any] = {
    "resourceType": "Consent", "status": "active",
    "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                          "code": "patient-privacy"}]},
    "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
    "patient": {"reference": "Patient/7f3c2a9e"},
    "performer": [{"reference": "Patient/7f3c2a9e"}],
    "provision": {"type": "permit", "period": {"start": "2026-12-01"},
                  "purpose": [{"system": ACTIVITY, "code": "gp-referral-to-wijkteam"}]},
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "ServiceRequest": {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "identifier": [{"system": "urn:oid:2.16.528.1.1007.3.3.1234.1", "value": "ref-2026-0042"}],
        "subject": {"type": "Patient", "identifier": {"system": BSN, "value": "999990019"}},
        "requester": {"type": "Practitioner", "identifier": {"system": AGB, "value": "01234567"}},
        "performer": [{"reference": "Organization/wijkteam-noord"}],
        "reasonCode": [{"text": "Zorgen over opvoeding en schulden"}],
        "note": [{"text": "Moeder vraagt hulp bij de administratie"}],
    },
    "Task": {
        "resourceType": "Task", "id": "6b1d0c52", "status": "accepted", "intent": "order",
        "focus": {"reference": "ServiceRequest/4e8a1f30"},
        "owner": {"reference": "Organization/wijkteam-noord"},
        "statusReason": {"text": "Intake gepland"},
    },
    "Subscription": {
        "resourceType": "Subscription", "status": "requested", "reason": "Terugkoppeling",
        "criteria": "Task",
        "channel": {"type": "rest-hook", "endpoint": "https://his.huisartsen-noord.example/hook",
                    "payload": FHIR_JSON, "header": ["X-Praktijk: noord"]},
    },
    "Consent": _CONSENT_BASE,
    "Patient": {"resourceType": "Patient", "identifier": [{"system": BSN, "value": "999998456"}],
                "birthDate": "2011-04-03"},
    "RelatedPerson": {
        "resourceType": "RelatedPerson", "patient": {"reference": "Patient/7f3c2a9e"},
        "relationship": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "MTH"}]}],
    },
    "Group": {
        "resourceType": "Group", "type": "person", "actual": True,
        "identifier": [{"system": household_system("zcd"), "value": "gezin-4711"}],
        "member": [
            {"extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "parent"}],
             "entity": {"reference": "Patient/7f3c2a9e"},
             "period": {"start": "2015-04-01"}},
            {"extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": "child"}],
             "entity": {"reference": "Patient/2b7d91c4"}, "period": {"start": "2016-02-03"}}],
    },
}
EXAMPLES["CarePlan"] = {
    "resourceType": "CarePlan", "status": "draft", "intent": "plan",
    "title": "Plan van het gezin",
    "subject": {"reference": "Group/5c0e7a12"},
    "contained": [
        {"resourceType": "Goal", "id": "schulden", "lifecycleStatus": "active",
         "category": [{"coding": [{
             "system": "https://wijkgateway.nl/fhir/CodeSystem/life-domain-zrm",
             "code": "financien"}]}],
         "description": {"text": "Schulden op een rij"},
         "subject": {"reference": "Patient/7f3c2a9e"}},
        {"resourceType": "Task", "id": "budget", "status": "requested", "intent": "plan",
         "description": "Budgetplan maken", "for": {"reference": "Patient/7f3c2a9e"},
         "owner": {"type": "Organization", "identifier": {
             "system": "https://wijkgateway.nl/fhir/NamingSystem/team",
             "value": "wijkteam-noord"}},
         "reasonReference": {"reference": "#schulden"},
         "restriction": {"period": {"end": "2027-01-31"}}}],
    "goal": [{"reference": "#schulden"}],
    "activity": [{"reference": {"reference": "#budget"}}],
}
# the request body of an instance operation that takes one (``$approve`` takes none)
_AGREE = {"schema": {"type": "object", "required": ["resourceType", "parameter"]},
          "example": {"resourceType": "Parameters", "parameter": [
              {"name": "who", "valueReference": {"reference": "Patient/7f3c2a9e"}}]}}
OPERATION_BODIES: dict[str, dict[str, Any]] = {"$agree": {"required": True, "content": {
    FHIR_JSON: _AGREE, "application/json": _AGREE}}}
UPDATE_EXAMPLES: dict[str, dict[str, Any]] = {
    "Consent": {**_CONSENT_BASE, "id": "c91f04d7", "status": "inactive"},
}
PATCH_EXAMPLES: dict[str, dict[str, Any]] = {
    JSON_PATCH: {"summary": "Accept the referral",
                 "value": [{"op": "replace", "path": "/status", "value": "accepted"}]},
    MERGE_PATCH: {"summary": "Accept the referral", "value": {"status": "accepted"}},
}


def write_body(method: str, resource_type: str) -> dict[str, Any]:
    """The requestBody of a create or update (FHIR JSON) or a patch (JSON Patch or Merge
    Patch)."""
    if method == "patch":
        return {"required": True, "content": {
            media: {"schema": PATCH_SCHEMAS[media], "examples": {"accept": PATCH_EXAMPLES[media]}}
            for media in (JSON_PATCH, MERGE_PATCH)}}
    example = (UPDATE_EXAMPLES if method == "put" else {}).get(resource_type) \
        or EXAMPLES.get(resource_type)
    if method == "put" and example is not None and "id" not in example:
        example = {"resourceType": resource_type, "id": "3f9a1c27", **example}  # the URL's id
    media: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{resource_type}"}}
    if example is not None:
        media["example"] = example
    return {"required": True, "content": {FHIR_JSON: media, "application/json": media}}
