"""Identifiers and references as the gp-referral adapter reads them from FHIR: a BSN passes
the elfproef, a reference keeps what the gateway resolves."""

from __future__ import annotations

from typing import Any

from adapters.base import Issue
from schemas import BSN_SYSTEM, BSN_SYSTEMS, Identifier, Reference, is_valid_bsn

INVALID_BSN = "not a valid BSN (9 digits passing the elfproef)"


def bsn_of(identifiers: list[Any], expr: str, issues: list[Issue]) -> str | None:
    """The first BSN among ``identifiers`` (FHIR Identifiers at ``expr``); an issue when it
    is not valid, or when there is none."""
    for i, ident in enumerate(identifiers):
        if ident.system in BSN_SYSTEMS:
            if ident.value and is_valid_bsn(ident.value):
                return str(ident.value)
            issues.append(Issue(f"{expr}[{i}].value", INVALID_BSN, "value"))
            return None
    issues.append(Issue(expr, f"give a BSN identifier (system {BSN_SYSTEM})", "required"))
    return None


def reference_of(reference: Any) -> Reference | None:
    """A FHIR Reference as :class:`schemas.Reference` (an identifier without both system
    and value is left out: nothing can be found by it)."""
    if reference is None:
        return None
    ident = reference.identifier
    return Reference(reference=reference.reference,
                     identifier=Identifier(system=ident.system, value=ident.value)
                     if ident is not None and ident.system and ident.value else None)
