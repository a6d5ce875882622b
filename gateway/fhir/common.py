"""Pieces every FHIR route uses: raw body, search paging, versioned responses, If-Match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request

from gateway.errors import BadRequest, PreconditionFailed, PreconditionRequired
from gateway.fhir_json import FhirResponse, searchset
from gateway.referrals.render import etag

MAX_COUNT = 200
DEFAULT_COUNT = 50
MAX_OFFSET = 100_000
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


@dataclass(frozen=True)
class Search:
    params: dict[str, str]
    count: int
    offset: int


def parse_search(request: Request, allowed: frozenset[str]) -> Search:
    """Known parameters only, each once; ``_count`` and ``_offset`` for paging."""
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed | {"_count", "_offset"}:
            supported = ", ".join(sorted(allowed | {"_count", "_offset"}))
            raise BadRequest(f"unsupported search parameter {name[:40]!r}; supported: {supported}",
                             expression=name[:40])
        if name in params:
            raise BadRequest("give each search parameter once", expression=name)
        params[name] = value
    count = bounded_int(params.pop("_count", None), "_count", DEFAULT_COUNT, 1, MAX_COUNT)
    offset = bounded_int(params.pop("_offset", None), "_offset", 0, 0, MAX_OFFSET)
    return Search(params, count, offset)


def bounded_int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}", expression=name)
    return int(value)


def bundle_response(request: Request, base_url: str, search: Search,
                    resources: list[dict[str, Any]], total: int) -> FhirResponse:
    path = f"{base_url}{request.url.path}"
    query = {**search.params, "_count": search.count}
    self_link = f"{path}?{urlencode({**query, '_offset': search.offset})}"
    next_link = None
    if search.offset + search.count < total:
        next_link = f"{path}?{urlencode({**query, '_offset': search.offset + search.count})}"
    return FhirResponse(searchset(base_url, self_link, resources, total, next_link))


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
