"""FHIR JSON in and out: media types, decoding with limits, OperationOutcome, Bundle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from adapters.base import Issue
from gateway.platform.errors import BadRequest, UnsupportedMediaType

FHIR_JSON = "application/fhir+json"
ACCEPTED_JSON_TYPES = frozenset({FHIR_JSON, "application/json"})
XML_TYPES = frozenset({"application/fhir+xml", "application/xml", "text/xml"})
FHIR_VERSIONS = ("4.0", "4.3")
SUPPORTED_VERSIONS = "supported fhirVersion values: 4.0 (R4) and 4.3 (R4B)"


class FhirResponse(Response):
    media_type = f"{FHIR_JSON}; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower-cased (``""`` when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def split_token(token: str) -> tuple[str | None, str]:
    """A FHIR token ``system|value`` -> (system, value); without ``|``, (None, value)."""
    system, sep, value = token.partition("|")
    return (system, value) if sep else (None, token)


def media_range(text: str) -> tuple[str, dict[str, str]]:
    """``type/sub; a=1; b="2"`` -> (``type/sub``, {a: 1, b: 2}); names lower-cased."""
    kind, *parts = text.split(";")
    params = {}
    for part in parts:
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), params


def fhir_version_ok(params: dict[str, str]) -> bool:
    """No ``fhirVersion``, or one naming R4 or R4B (``4.0``, ``4.0.1``, ``4.3``, ``4.3.0``):
    Dutch R4 clients send 4.0, and R4B's JSON is R4's for everything the gateway serves."""
    version = params.get("fhirversion")
    return version is None or ".".join(version.split(".")[:2]) in FHIR_VERSIONS


def require_media_type(request: Request, accepted: frozenset[str] = ACCEPTED_JSON_TYPES) -> None:
    """415 unless the body is one of ``accepted`` with, if it names one, a supported
    ``fhirVersion``. The FHIR API reads JSON only; an adapter whose system speaks XML accepts
    its own XML media type."""
    kind, params = media_range(request.headers.get("content-type", ""))
    if kind in XML_TYPES and kind not in accepted:
        raise UnsupportedMediaType("XML request bodies are not accepted; send "
                                   f"{', '.join(sorted(accepted))}", expression="Content-Type")
    if kind not in accepted:
        raise UnsupportedMediaType(
            f"Content-Type must be one of {', '.join(sorted(accepted))}",
            expression="Content-Type",
        )
    if not fhir_version_ok(params):
        raise UnsupportedMediaType(SUPPORTED_VERSIONS, expression="Content-Type")


def require_own_id(document: dict[str, Any], resource_id: str, resource_type: str) -> None:
    """An update names the resource it changes: a body without the URL's id, or with another,
    is a 400 (FHIR RESTful API, update), the same for every type."""
    if document.get("id") != resource_id:
        raise BadRequest("the body's id must be the id in the URL",
                         expression=f"{resource_type}.id")


def json_depth(value: Any) -> int:
    """Nesting depth, computed without recursion so a hostile body cannot exhaust the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def decode_json(body: bytes, max_depth: int) -> Any:
    """Bytes -> JSON value, or a 400 that says what is wrong (never echoing the content)."""
    if not body:
        raise BadRequest("the request body is empty")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if "recursion" in str(error).lower():
            raise BadRequest(f"JSON nesting deeper than {max_depth} levels") from None
        raise BadRequest(f"the body is not valid JSON (at character {error.pos})") from None
    if json_depth(document) > max_depth:
        raise BadRequest(f"JSON nesting deeper than {max_depth} levels")
    return document


def decode_json_object(body: bytes, max_depth: int) -> dict[str, Any]:
    document = decode_json(body, max_depth)
    if not isinstance(document, dict):
        raise BadRequest("the body must be a JSON object (a FHIR resource)")
    return document


def operation_outcome(issues: list[Issue], severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": issue.code,
                "diagnostics": issue.message,
                **({"expression": [issue.expression]} if issue.expression else {}),
            }
            for issue in issues
        ],
    }


def searchset(base_url: str, links: dict[str, str], total: int,
              matches: Sequence[dict[str, Any]], included: Sequence[dict[str, Any]] = (),
              outcome: dict[str, Any] | None = None) -> dict[str, Any]:
    """A searchset Bundle: ``links`` by relation (self, next, previous); entries in search
    mode match, include, and an outcome entry when there is something to warn about."""
    entries = [*({"fullUrl": f"{base_url}/fhir/{r['resourceType']}/{r['id']}", "resource": r,
                  "search": {"mode": mode}}
                 for mode, group in (("match", matches), ("include", included))
                 for r in group),
               *([{"resource": outcome, "search": {"mode": "outcome"}}] if outcome else [])]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links.items()],
        **({"entry": entries} if entries else {}),
    }
