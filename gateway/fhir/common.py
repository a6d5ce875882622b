"""Pieces every FHIR route uses: raw body, versioned responses, If-Match (search: search.py)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request

from gateway.fhir.render import etag
from gateway.platform.errors import BadRequest, PreconditionFailed, PreconditionRequired
from gateway.platform.fhir_json import FhirResponse

_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


def versioned(resource: dict[str, Any], version_id: int, status_code: int = 200,
              location: str | None = None) -> FhirResponse:
    headers = {"ETag": etag(version_id)}
    if location:
        headers["Location"] = location
    return FhirResponse(resource, status_code=status_code, headers=headers)


def if_match(request: Request, required: bool) -> str | None:
    """The ``If-Match`` header. Optional, as on HAPI FHIR; a strict deployment
    (``WIJKGATEWAY_REQUIRE_IF_MATCH``) makes every update name its version (428 without)."""
    header = request.headers.get("if-match")
    if header is None and required:
        raise PreconditionRequired("send If-Match with the ETag of the version you change",
                                   expression="If-Match")
    return header


def check_if_match(header: str | None, version_id: int) -> None:
    """An update that names a version changes only that one, so no team overwrites another's
    change unseen (412). Without ``If-Match`` it applies; the body's ``meta.versionId`` is
    ignored, as the spec says."""
    if header is None:
        return
    match = _ETAG.match(header.strip())
    if not match:
        raise BadRequest('If-Match must look like W/"3"', expression="If-Match")
    if int(match.group(1)) != version_id:
        raise PreconditionFailed(f"the resource changed: current version is {version_id}",
                                 expression="If-Match")
