"""A minimised resource that is still valid FHIR R4B, so that client libraries parse it.

Consent minimisation (``consent.minimise``) is an allowlist and may take away elements R4B
requires, the contained resources that references point to, or what a profile demands. Here
the result is made whole again without giving anything back:

- a required element that was taken away (``ServiceRequest.subject``) becomes a reference
  that identifies no one: only the data-absent-reason extension, ``masked``;
- a reference to a contained resource that was taken away is masked the same way, and a
  contained resource nothing refers to any more is dropped (FHIR's dom-3);
- a resource that lost anything carries the ``SUBSETTED`` tag (``meta.tag``) and no longer claims
  its profiles (it may not satisfy them).
"""

from __future__ import annotations

from typing import Any

MASKED = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                         "valueCode": "masked"}]}
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED", "display": "subsetted"}
REQUIRED_REFERENCES = {"ServiceRequest": ("subject",), "Task": (), "Consent": ()}


def subset_view(original: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    """``kept`` (minimised from ``original``) as a valid R4B resource; unchanged when nothing
    was taken away."""
    if kept == original:
        return kept
    view = dict(kept)
    for name in REQUIRED_REFERENCES.get(view.get("resourceType", ""), ()):
        view.setdefault(name, MASKED)
    contained = {c.get("id"): c for c in view.get("contained", ())}
    view = {name: _masked_dangling(value, contained) if name != "contained" else value
            for name, value in view.items()}
    referenced = _local_references(view)
    kept_contained = [c for c in view.get("contained", ()) if c.get("id") in referenced]
    view.pop("contained", None)
    if kept_contained:
        view["contained"] = kept_contained
    view["meta"] = _subsetted(view.get("meta") or {})
    return view


def _masked_dangling(value: Any, contained: dict[Any, Any]) -> Any:
    """References to contained resources that are gone become masked references."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith("#") \
                and reference[1:] not in contained:
            return MASKED
        return {k: _masked_dangling(v, contained) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_dangling(v, contained) for v in value]
    return value


def _local_references(value: Any) -> set[str]:
    """Ids of contained resources referred to (``#id``) anywhere in the resource."""
    if isinstance(value, dict):
        found = set().union(*(_local_references(v) for v in value.values())) if value else set()
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith("#"):
            found.add(reference[1:])
        return found
    if isinstance(value, list):
        return set().union(*(_local_references(v) for v in value)) if value else set()
    return set()


def _subsetted(meta: dict[str, Any]) -> dict[str, Any]:
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"]
    return {**{k: v for k, v in meta.items() if k != "profile"}, "tag": [*tags, SUBSETTED]}
