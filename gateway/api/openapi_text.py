"""What a person wrote for the OpenAPI document (``gateway/api/openapi.py`` applies it): the
summaries, what each error status means, an example per JSON write (test BSNs only), the
fixed schemas of errors and tokens, and the headers every operation takes."""

from __future__ import annotations

from typing import Any

from gateway.auth.token_endpoint import TOKEN_PATH

ACTING_PERSON = ("Every scope but {system} reads or changes a resident's data and needs a token "
                 "that names the worker the system acts for: exchange the system's token for "
                 "one with the acting person (RFC 8693 token exchange, "
                 "`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`; see "
                 "docs/acting-person.md). Swagger UI's Authorize button gets a plain "
                 "client-credentials token, enough for the system scopes.")

# Written by a person; FHIR interactions without an entry get one from ``INTERACTIONS``.
SUMMARIES: dict[tuple[str, str], str] = {
    ("get", "/healthz"): "Check that the gateway is alive",
    ("get", "/readyz"): "Check that the gateway can reach its database",
    ("get", "/metrics"): "Prometheus metrics",
    ("post", TOKEN_PATH): "Get an access token (client credentials or token exchange)",
    ("get", "/oauth/jwks"): "Public keys that sign the access tokens",
    ("get", "/.well-known/smart-configuration"): "SMART discovery: token endpoint and scopes",
    ("get", "/fhir/.well-known/smart-configuration"):
        "SMART discovery at the FHIR base: token endpoint and scopes",
    ("get", "/processing-activities"): "The register of processing activities (AVG art. 30)",
    ("get", "/fhir/metadata"): "What the FHIR API supports (CapabilityStatement)",
    ("post", "/fhir/ServiceRequest"): "Send a referral",
    ("get", "/fhir/ServiceRequest"): "Search referrals you sent or received",
    ("get", "/fhir/ServiceRequest/{resource_id}"): "Read a referral",
    ("get", "/fhir/Task"): "Follow referral statuses",
    ("get", "/fhir/Task/{task_id}"): "Read a referral's status",
    ("put", "/fhir/Task/{task_id}"): "Move a referral's status (whole Task)",
    ("patch", "/fhir/Task/{task_id}"): "Move a referral's status (patch)",
    ("post", "/fhir/Subscription"): "Register a webhook",
    ("get", "/fhir/Subscription"): "List your webhooks",
    ("get", "/fhir/Subscription/{subscription_id}"): "Read a webhook",
    ("delete", "/fhir/Subscription/{subscription_id}"): "Remove a webhook",
    ("get", "/fhir/Organization"): "List the teams that receive referrals",
    ("get", "/fhir/Organization/{organization_id}"): "Read a team",
    ("post", "/fhir/Consent"): "Record a consent or an objection",
    ("get", "/fhir/Consent"): "Search consents your team recorded",
    ("get", "/fhir/Consent/{consent_id}"): "Read a consent",
    ("put", "/fhir/Consent/{consent_id}"): "Revoke a consent",
    ("post", "/fhir/Patient"): "Register a resident's birth date",
    ("post", "/fhir/RelatedPerson"): "Register a parent or guardian",
    ("get", "/fhir/RelatedPerson/{related_id}"): "Read a parent or guardian",
    ("get", "/fhir/AuditEvent"): "One resident's processing log as AuditEvents",
    ("post", "/consent/decisions"): "Ask who may receive what about a resident",
    ("get", "/audit/entries"): "Search the processing log",
    ("get", "/audit/entries.csv"): "Export the processing log as CSV",
    ("get", "/audit/access-report"): "A resident's access report (inzage)",
    ("get", "/plans/{plan_id}/print"): "The household plan to print (HTML or PDF)",
    ("post", "/involvements"): "Register an organisation's involvement with a resident",
    ("get", "/involvements"): "List a resident's involvements",
    ("post", "/involvements/{involvement_id}/end"): "End an involvement",
    ("get", "/identity/reviews"): "List conflicting identity facts",
    ("post", "/identity/reviews/{review_id}/resolve"): "Resolve an identity conflict",
}
INTERACTIONS = {  # (method, shape of the path after the type) -> summary template
    ("get", ""): "Search {t} resources", ("post", ""): "Create a {t}",
    ("get", "{}"): "Read a {t}", ("put", "{}"): "Update a {t}", ("patch", "{}"): "Patch a {t}",
    ("delete", "{}"): "Delete a {t}", ("get", "_history"): "History of all {t} resources",
    ("get", "{}/_history"): "History of a {t}", ("get", "{}/_history/{}"): "Read a {t} version",
}
# Every operation takes these (gateway/platform/request_context.py); an ill-formed value is
# replaced.
TRACING: dict[str, dict[str, Any]] = {
    "XRequestId": {"name": "X-Request-Id", "in": "header", "required": False,
                   "description": "Your id for this request, echoed on the response and "
                                  "logged; a new one is made when absent or ill-formed.",
                   "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"}},
    "XCorrelationId": {"name": "X-Correlation-Id", "in": "header", "required": False,
                       "description": "Ties requests of one exchange together in the logs.",
                       "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"}},
    "Traceparent": {"name": "traceparent", "in": "header", "required": False,
                    "description": "W3C Trace Context.", "schema": {
                        "type": "string",
                        "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"}},
}
# One example per JSON (non-FHIR) write; test BSNs only.
JSON_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/consent/decisions"): {
        "activity": "casusoverleg", "patient": "999990019",
        "recipients": [{"organization": "school-de-regenboog", "role": "casusoverleg-deelnemer"},
                       {"organization": "huisarts-1", "role": "huisarts"}]},
    ("post", "/involvements"): {"organization": "wijkteam-noord", "patient": "999990019",
                                "start": "2026-12-01T09:00:00+01:00"},
    ("post", "/involvements/{involvement_id}/end"): {"end": "2027-03-31T17:00:00+02:00"},
    ("post", "/identity/reviews/{review_id}/resolve"): {
        "resolution": "claimed-is-right",
        "comment": "Geboortedatum nagevraagd bij de huisarts: de nieuwe waarde klopt."},
    ("post", "/identity/merges"): {
        "survivor": "Patient/41d2c7a0-5b1e-4c3e-9f0a-2b7d8e6c1a90",
        "merged": "Patient/9b1e0f3c-7a2d-4e58-b6c1-0d4f2a8e7b35",
        "comment": "Zelfde persoon, bevestigd door het jeugdteam."},
    ("post", "/identity/merges/{merge_id}/undo"): {
        "comment": "Toch twee personen: de vader bevestigt een tweeling."},
    ("post", "/identity/household-merges"): {
        "survivor": "Group/3f6a2c1e-8b4d-4a7e-9c20-5d1b7e0f4a63",
        "merged": "Group/c81d4e2a-0f3b-4c59-a6e7-2b9d1f8c3e54",
        "comment": "Eén gezin: ZCD en MensCentraal registreerden het elk."},
    ("post", "/identity/household-merges/{merge_id}/undo"): {
        "comment": "Toch twee huishoudens: de ouders wonen apart."},
}
SUCCESS = {"If-None-Exist matched": "If-None-Exist matched a resource you sent before: that "
                                    "resource, and nothing created."}
ERRORS: dict[str, str] = {
    "400": "The request is malformed: a parameter, header or body the gateway cannot read; "
           "`expression` names it.",
    "401": "No valid access token.",
    "403": "The token lacks the scope, or names no acting person where one is needed.",
    "404": "No such resource, or not one you may see.",
    "406": "The Accept header asks for a format or FHIR version the gateway does not serve.",
    "409": "A concurrent request created the same resource; retry.",
    "410": "The resource was deleted.",
    "412": "If-Match names another version than the current one.",
    "413": "The body is larger than the gateway accepts.",
    "415": "The Content-Type is not one this operation takes.",
    "422": "The resource breaks a FHIR or gateway rule; `expression` names the element.",
    "428": "This deployment needs If-Match on updates.",
    "429": "Too many requests; wait the seconds in Retry-After.",
    "503": "The database is busy or the processing log needs an administrator; retry later. "
           "(A PDF: this gateway has no Chromium, or it failed; the HTML still works.)",
}
OPERATION_OUTCOME = {
    "type": "object",
    "description": "FHIR R4B OperationOutcome: every error but the token endpoint's.",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["severity", "code"],
            "properties": {
                "severity": {"type": "string", "enum": ["fatal", "error", "warning",
                                                        "information"]},
                "code": {"type": "string", "description": "IssueType, e.g. `invalid`, "
                                                          "`required`, `code-invalid`."},
                "diagnostics": {"type": "string"},
                "expression": {"type": "array", "items": {"type": "string"},
                               "description": "The element or parameter at fault."}}}}},
    "example": {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "required", "diagnostics": "subject is required",
        "expression": ["ServiceRequest.subject"]}]},
}
OAUTH_ERROR = {
    "type": "object", "required": ["error"], "description": "RFC 6749 section 5.2.",
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
AUDIT_FILTERS = {
    "subject": "The resident's BSN.", "household": "The BSN of one member of the household.",
    "activity": "A processing activity code (GET /processing-activities).",
    "recipient": "An organisation or client id.", "kind": "The kind of processing, e.g. `read`.",
    "outcome": "`ok`, `denied` or `error`.", "from": "First day (YYYY-MM-DD).",
    "to": "Last day (YYYY-MM-DD).", "_count": "Page size, 1 to 200.",
    "_offset": "Skip this many entries.",
}
TEXT = {"schema": {"type": "string"}}
MEDIA: dict[tuple[str, str], dict[str, Any]] = {  # what FastAPI cannot tell from the route
    ("get", "/metrics"): {"text/plain; version=0.0.4": TEXT},
    ("get", "/audit/entries.csv"): {"text/csv": TEXT},
    ("get", "/audit/access-report"): {"application/json": {"schema": {"type": "object"}},
                                      "text/html": TEXT},
    ("get", "/plans/{plan_id}/print"): {"text/html": TEXT, "application/pdf": {
        "schema": {"type": "string", "format": "binary"}}},
}
READYZ_DOWN = {"description": "The database cannot be reached.", "content": {
    "application/json": {"schema": {"type": "object"}, "example": {
        "status": "unavailable", "database": "unreachable"}}}}
AUDIT_SEARCHES = frozenset({"/audit/entries", "/audit/entries.csv"})
TOKEN_RESPONSE = {
    "type": "object", "required": ["access_token", "token_type", "expires_in"],
    "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string"},
                   "expires_in": {"type": "integer"}, "scope": {"type": "string"},
                   "issued_token_type": {"type": "string"}},
}
