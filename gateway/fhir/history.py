"""Versions of a resource, for vread and ``_history``.

The current version stays in the resource's own row; the service that makes a new version
keeps the one it replaces (``gateway.fhir.resource_versions``). Consents need no copy: each
consent_records row is a version.

A reader gets each version the way it gets the current one (``Version.show`` is the plain
read's own function: decided, minimised and logged as of now). An old version is therefore
decided under today's consent and never shows more than a read of the current one would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import Request

from gateway.fhir.base_url import public_base
from gateway.fhir.common import versioned
from gateway.fhir.render import etag
from gateway.platform.errors import BadRequest, Gone, NotFound
from gateway.platform.fhir_json import FhirResponse
from schemas import loggable, safe_name, shown

_RESPONSE = {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}


@dataclass(frozen=True)
class Version:
    """One version as this reader may see it: ``show`` renders (and logs) it on demand; a
    deletion has none."""

    version_id: int
    method: str  # the interaction that made it: POST, PUT or DELETE
    last_updated: str
    show: Callable[[], dict[str, Any]] | None


def method_of(version_id: int) -> str:
    return "POST" if version_id == 1 else "PUT"


def version_number(vid: str) -> int:
    """The ``{vid}`` of ``_history/{vid}``: the gateway's version ids are whole numbers."""
    if not vid.isascii() or not vid.isdigit() or len(vid) > 9:
        raise BadRequest("a version id is a whole number, as in meta.versionId and the ETag",
                         expression="vid")
    return int(vid)


def pick(versions: list[Version], resource_type: str, vid: str) -> Version:
    """The asked version of a resource's versions; 404 naming it when there is none, 410 for
    the version that deleted it."""
    number = version_number(vid)
    for version in versions:
        if version.version_id == number:
            if version.show is None:
                raise Gone(f"version {number} of this {resource_type} is its deletion",
                           expression="vid")
            return version
    raise NotFound(f"no version {loggable(number)} of this {resource_type}; the newest is "
                   f"{versions[0].version_id}", expression="vid")


def history_bundle(base_url: str, resource_type: str, resource_id: str,
                   versions: list[Version]) -> dict[str, Any]:
    """An R4B ``history`` Bundle, newest first, each entry with its ``request`` and
    ``response`` (a deletion without a resource)."""
    url = f"{resource_type}/{resource_id}"
    return {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(versions),
        "link": [{"relation": "self", "url": f"{base_url}/fhir/{url}/_history"}],
        "entry": [_entry(base_url, resource_type, url, version) for version in versions],
    }


def _entry(base_url: str, resource_type: str, url: str, version: Version) -> dict[str, Any]:
    entry: dict[str, Any] = {"fullUrl": f"{base_url}/fhir/{url}"}
    if version.show is not None:
        entry["resource"] = version.show()
    entry["request"] = {"method": version.method,
                        "url": resource_type if version.method == "POST" else url}
    entry["response"] = {"status": _RESPONSE[version.method],
                         "etag": etag(version.version_id),
                         "lastModified": version.last_updated}
    return entry


def versions_of(resources: list[dict[str, Any]], show: Callable[[dict[str, Any]], dict[str, Any]]
                ) -> list[Version]:
    """Versions of rendered resources (newest first), each shown through ``show`` (the plain
    read's own decide-minimise-log function)."""
    return [Version(int(r["meta"]["versionId"]), method_of(int(r["meta"]["versionId"])),
                    r["meta"]["lastUpdated"], partial(show, r)) for r in resources]


def vread(resource_type: str, vid: str, versions: list[Version]) -> FhirResponse:
    """``GET [type]/[id]/_history/[vid]``: that version, as this reader may see it."""
    version = pick(versions, resource_type, vid)
    assert version.show is not None  # pick refuses a deletion
    return versioned(version.show(), version.version_id)


def instance_history(request: Request, resource_type: str, resource_id: str,
                     versions: list[Version]) -> FhirResponse:
    """``GET [type]/[id]/_history``: every version, newest first. Takes no parameters (a
    resource has a handful of versions); one sent is a 400 rather than silently ignored. The
    error repeats the name only in its sanitised form: a client can put a BSN in it."""
    for name in request.query_params:
        raise BadRequest(f"instance history takes no parameters; {shown(name)} is not "
                         "supported", expression=safe_name(name[:40]))
    return FhirResponse(history_bundle(public_base(request), resource_type, resource_id,
                                       versions))


def version_url(request: Request, resource_type: str, resource_id: str, version_id: int) -> str:
    """The ``Location`` of a create: the version it made, which a vread answers."""
    return f"{public_base(request)}/fhir/{resource_type}/{resource_id}/_history/{version_id}"
