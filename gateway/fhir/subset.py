"""A minimised resource that is still valid FHIR R4B, so that client libraries parse it.

Consent minimisation (``consent.minimise``) is an allowlist and may take away elements R4B
requires, the contained resources that references point to, or what a profile demands. Here
the result is made whole again without giving anything back:

- a required element that was taken away (``ServiceRequest.subject``) becomes a reference
  that identifies no one: only the data-absent-reason extension, ``masked``;
- a reference to a contained resource that was taken away is masked the same way (also inside
  other contained resources), and a contained resource nothing refers to any more, directly or
  through another contained one, is dropped (FHIR's dom-3); a contained resource that lost
  elements drops its profile claims;
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
    present = {c.get("id") for c in view.get("contained", ())}
    view = _masked_dangling(view, present)
    kept_contained = _reachable(view, original)
    view.pop("contained", None)
    if kept_contained:
        view["contained"] = kept_contained
    view["meta"] = _subsetted(view.get("meta") or {})
    return view


def _masked_dangling(value: Any, present: set[Any]) -> Any:
    """References to contained resources that are gone become masked references (``#``
    alone names the container and stays)."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith("#") and reference != "#" \
                and reference[1:] not in present:
            return MASKED
        return {k: _masked_dangling(v, present) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_dangling(v, present) for v in value]
    return value


def _reachable(view: dict[str, Any], original: dict[str, Any]) -> list[dict[str, Any]]:
    """The contained resources the resource refers to, directly or through another contained
    one (dom-3); one that lost elements no longer claims its profiles."""
    contained = {c.get("id"): c for c in view.get("contained", ())}
    as_sent = {c.get("id"): c for c in original.get("contained", ())}
    wanted = _local_references({k: v for k, v in view.items() if k != "contained"})
    reached: set[Any] = set()
    while wanted - reached:
        reached |= wanted
        wanted = reached | set().union(*(_local_references(contained[i]) for i in reached
                                         if i in contained))
    return [c if c == as_sent.get(c.get("id")) else _without_profile(c)
            for c in view.get("contained", ()) if c.get("id") in reached]


def _without_profile(resource: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (resource.get("meta") or {}).items() if k != "profile"}
    rest = {k: v for k, v in resource.items() if k != "meta"}
    return {**rest, "meta": meta} if meta else rest


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
