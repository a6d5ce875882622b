"""PATCH bodies: JSON Patch (RFC 6902, ``application/json-patch+json``) and JSON Merge Patch
(RFC 7396, ``application/merge-patch+json``). fhirpy's ``patch()`` sends the changed elements
as a partial resource with ``Content-Type: application/json`` (``requests``/``aiohttp``
``json=``); that, and ``application/fhir+json``, is read as a merge patch too."""

from __future__ import annotations

from typing import Any

import jsonpatch

from gateway.platform.errors import BadRequest, Unprocessable

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH_TYPES = frozenset({"application/merge-patch+json", "application/fhir+json",
                               "application/json"})
PATCH_TYPES = MERGE_PATCH_TYPES | {JSON_PATCH}


def apply(media_type: str, current: dict[str, Any], body: Any, resource_type: str
          ) -> dict[str, Any]:
    """``current`` changed by ``body`` (decoded JSON) as ``media_type`` says (one of
    ``PATCH_TYPES``). A malformed patch is 400, one that cannot apply 422 (RFC 5789 2.2)."""
    if media_type == JSON_PATCH:
        return _json_patch(current, body, resource_type)
    if not isinstance(body, dict):
        raise BadRequest("a JSON Merge Patch body is a JSON object of the elements to change "
                         "(null removes one) (RFC 7396)")
    return merge(current, body)


def merge(target: Any, patch: Any) -> Any:
    """RFC 7396 section 2, MergePatch(Target, Patch). Depth is bounded by the JSON decoder's
    limit (``max_json_depth``)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge(result.get(name), value)
    return result


def _json_patch(current: dict[str, Any], operations: Any, resource_type: str) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise BadRequest("a JSON Patch body is an array of operations")
    try:
        document = jsonpatch.apply_patch(current, operations)
    except jsonpatch.InvalidJsonPatch:
        raise BadRequest("each JSON Patch operation is an object with a known 'op', a "
                         "'path' and, where the op needs it, 'value' or 'from' (RFC 6902)"
                         ) from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError,
            KeyError, ValueError):
        raise Unprocessable(f"the patch cannot be applied to the current {resource_type}"
                            ) from None
    if not isinstance(document, dict):
        raise Unprocessable(f"the patched {resource_type} must stay a JSON object (a patch of "
                            "the whole document, path '', replaced it)")
    return document
