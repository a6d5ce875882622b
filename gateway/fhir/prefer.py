"""What a create, update or patch answers, as the client's ``Prefer`` header asks (FHIR
RESTful API, RFC 7240): ``return=representation`` (the default) the resource,
``return=minimal`` headers only, ``return=OperationOutcome`` an informational outcome.
A preference the gateway does not know is ignored, as RFC 7240 says."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, Response

from adapters.base import Issue
from gateway.fhir.render import etag
from gateway.platform.fhir_json import FhirResponse, operation_outcome

REPRESENTATION, MINIMAL, OUTCOME = "representation", "minimal", "OperationOutcome"
_RETURNS = {REPRESENTATION.lower(): REPRESENTATION, MINIMAL.lower(): MINIMAL,
            OUTCOME.lower(): OUTCOME}


def preferences(request: Request, name: str) -> list[str]:
    """The values (lower case, unquoted) given for preference ``name`` in every ``Prefer``
    header. RFC 7240 separates preferences by commas and puts a preference's parameters after
    ``;``; clients also write ``return=minimal; handling=lenient``, so both separate here."""
    values = []
    for header in request.headers.getlist("prefer"):
        for preference in re.split(r"[,;]", header):
            given, _, value = preference.partition("=")
            if given.strip().lower() == name:
                values.append(value.strip().strip('"').lower())
    return values


def return_preference(request: Request) -> str:
    """The first known ``return=`` preference, else representation."""
    known = [_RETURNS[v] for v in preferences(request, "return") if v in _RETURNS]
    return known[0] if known else REPRESENTATION


def lenient(request: Request) -> bool:
    """``Prefer: handling=lenient``: a search ignores the parameters it does not know."""
    return "lenient" in preferences(request, "handling")


def written(request: Request, resource: dict[str, Any], version_id: int,
            status_code: int = 200, location: str | None = None) -> Response:
    """The answer to a write: ETag (and Location for a create) always, the body as preferred."""
    headers = {"ETag": etag(version_id)}
    if location:
        headers["Location"] = location
    preference = return_preference(request)
    if preference != REPRESENTATION:
        headers["Preference-Applied"] = f"return={preference}"
    if preference == MINIMAL:
        return Response(status_code=status_code, headers=headers)
    if preference == OUTCOME:
        done = "created" if status_code == 201 else "stored"
        message = f"{done} {resource['resourceType']}/{resource['id']} version {version_id}"
        outcome = operation_outcome([Issue("", message, "informational")], "information")
        return FhirResponse(outcome, status_code=status_code, headers=headers)
    return FhirResponse(resource, status_code=status_code, headers=headers)
