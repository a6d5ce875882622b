"""Data minimisation: keep only the elements a decision permits, drop everything else.

An allowlist, so an element nobody classified (an unknown extension, a new FHIR element) never
leaves the gateway by accident. ``resourceType``, ``id`` and ``meta`` always stay.
"""

from __future__ import annotations

from typing import Any

ALWAYS = frozenset({"resourceType", "id", "meta"})


def minimise(resource: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """``resource`` with only the elements in ``fields`` (``Type.element`` paths), including
    those of contained resources; a contained resource left with nothing is dropped."""
    kept = _keep(resource, fields)
    contained = [c for c in (_keep(c, fields) for c in resource.get("contained", ())) if
                 set(c) - ALWAYS]
    if contained:
        kept["contained"] = contained
    return kept


def _keep(resource: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    prefix = f"{resource.get('resourceType')}."
    return {name: value for name, value in resource.items()
            if name in ALWAYS or (name != "contained" and prefix + name in fields)}

