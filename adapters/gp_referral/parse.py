"""FHIR R4B ServiceRequest (a GP's referral) -> canonical :class:`schemas.Referral`.

Dutch GP systems send R4/R4B, with BSN and AGB either in a logical reference
(``{"identifier": {...}}``) or in a contained resource. Both are accepted; extensions the
gateway does not use are kept and ignored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from adapters.base import InvalidMessage, Issue
from adapters.fhir_validation import validate_resource
from schemas import (
    AGB_SYSTEMS,
    BSN_SYSTEMS,
    Identifier,
    Referral,
    Subject,
    is_valid_agb,
    is_valid_bsn,
)

SR = "ServiceRequest"
TEAM_REFERENCE_PREFIX = "Organization/"
REQUESTER_TYPES = frozenset({"Practitioner", "PractitionerRole"})
PATIENT_TYPES = frozenset({"Patient"})


def parse_service_request(document: dict[str, Any]) -> Referral:
    """Validate the referral and extract who it is about, who sent it and which team gets it."""
    resource = validate_resource(ServiceRequest, document)

    issues: list[Issue] = []
    contained = {c.id: (i, c) for i, c in enumerate(resource.contained or []) if c.id}
    if resource.status != "active":
        issues.append(Issue(f"{SR}.status", "a new referral must have status 'active'", "value"))
    subject = _subject(resource.subject, contained, issues)
    agb = _requester_agb(resource.requester, contained, issues)
    team_id = _team(resource.performer, issues)
    consent_index = _consent(resource.supportingInfo or [], contained, issues)
    if issues:
        raise InvalidMessage(issues)
    assert subject is not None and agb is not None and team_id is not None
    return Referral(
        identifier=_business_identifier(resource),
        subject=subject,
        requester_agb=agb,
        team_id=team_id,
        consent_index=consent_index,
        resource=document,
    )


def _business_identifier(resource: ServiceRequest) -> Identifier | None:
    for ident in resource.identifier or []:
        if ident.system and ident.value:
            return Identifier(system=ident.system, value=ident.value)
    return None


def _resolve_contained(
    reference: Any, expr: str, contained: dict[str, tuple[int, Any]], issues: list[Issue]
) -> tuple[str, Any] | None:
    """A ``#id`` reference -> (expression of the contained resource, resource)."""
    ref = reference.reference
    found = contained.get(ref[1:]) if ref.startswith("#") else None
    if found is None:
        issues.append(
            Issue(f"{expr}.reference", "reference cannot be resolved: only '#id' references to "
                  "contained resources, or a logical identifier, are accepted", "not-found")
        )
        return None
    index, target = found
    return f"{SR}.contained[{index}]", target


def _checked_reference(reference: Any, expr: str, allowed: frozenset[str], required: str,
                       contained: dict[str, tuple[int, Any]],
                       issues: list[Issue]) -> tuple[str, Any] | None:
    """Presence, type and, for ``#id``, the contained target of a reference.

    Returns ``(path, target)`` for a contained resource, ``("", None)`` for a logical
    reference (identifier only), or None after recording an issue.
    """
    kinds = " or ".join(sorted(allowed))
    if reference is None:
        issues.append(Issue(expr, required, "required"))
        return None
    if reference.type and reference.type not in allowed:
        issues.append(Issue(f"{expr}.type", f"must be a {kinds}", "value"))
        return None
    if not reference.reference:
        return "", None
    resolved = _resolve_contained(reference, expr, contained, issues)
    if resolved is not None and resolved[1].get_resource_type() not in allowed:
        issues.append(Issue(f"{expr}.reference", f"must be a {kinds}", "value"))
        return None
    return resolved


def _subject(
    reference: Any, contained: dict[str, tuple[int, Any]], issues: list[Issue]
) -> Subject | None:
    expr = f"{SR}.subject"
    checked = _checked_reference(reference, expr, PATIENT_TYPES, "the resident is required "
                                 "(BSN identifier or contained Patient)", contained, issues)
    if checked is None:
        return None
    path, patient = checked
    if patient is not None:
        return _subject_from_patient(path, patient, issues)
    if reference.identifier is None:
        issues.append(Issue(expr, "identify the resident by BSN identifier or contained Patient",
                            "required"))
        return None
    ident = reference.identifier
    if ident.system in BSN_SYSTEMS:
        bsn = _checked_bsn(ident.value, f"{expr}.identifier.value", issues)
        return Subject(bsn=bsn) if bsn else None
    if ident.system and ident.value:
        return Subject(local_id=Identifier(system=ident.system, value=ident.value))
    issues.append(Issue(f"{expr}.identifier", "identifier needs a system and a value", "required"))
    return None


def _subject_from_patient(path: str, patient: Any, issues: list[Issue]) -> Subject | None:
    local_id = None
    for j, ident in enumerate(patient.identifier or []):
        if ident.system in BSN_SYSTEMS and ident.value is not None:
            bsn = _checked_bsn(ident.value, f"{path}.identifier[{j}].value", issues)
            return Subject(bsn=bsn, birth_date=_full_date(patient.birthDate)) if bsn else None
        if ident.system and ident.value and local_id is None and ident.system not in BSN_SYSTEMS:
            local_id = Identifier(system=ident.system, value=ident.value)
    has_demographics = bool(patient.name) and patient.birthDate is not None
    if not has_demographics:
        issues.append(Issue(path, "a Patient without BSN needs a name and a birthDate",
                            "required"))
        return None
    return Subject(local_id=local_id, has_demographics=True,
                   birth_date=_full_date(patient.birthDate))


def _full_date(value: Any) -> date | None:
    """FHIR allows a partial birthDate (``2011``); only a full one tells an age."""
    return value if isinstance(value, date) else None


def _consent(supporting: list[Any], contained: dict[str, tuple[int, Any]],
             issues: list[Issue]) -> int | None:
    """The contained Consent that ``supportingInfo`` points at: the resident's consent to this
    referral, which the gateway records before the team hears of it."""
    found = [contained[ref.reference[1:]][0] for ref in supporting
             if (ref.reference or "").startswith("#") and ref.reference[1:] in contained
             and contained[ref.reference[1:]][1].get_resource_type() == "Consent"]
    if len(found) > 1:
        issues.append(Issue(f"{SR}.supportingInfo", "reference one contained Consent",
                            "value"))
        return None
    return found[0] if found else None


def _checked_bsn(value: str | None, expr: str, issues: list[Issue]) -> str | None:
    if not value:
        issues.append(Issue(expr, "the BSN is absent or masked; send a contained Patient "
                            "with name and birthDate instead", "required"))
        return None
    if not is_valid_bsn(value):
        issues.append(Issue(expr, "not a valid BSN (9 digits passing the elfproef)", "value"))
        return None
    return value


def _requester_agb(
    reference: Any, contained: dict[str, tuple[int, Any]], issues: list[Issue]
) -> str | None:
    expr = f"{SR}.requester"
    checked = _checked_reference(reference, expr, REQUESTER_TYPES, "the referring GP is required "
                                 "(Practitioner or PractitionerRole with an AGB code)",
                                 contained, issues)
    if checked is None:
        return None
    path, target = checked
    candidates: list[tuple[str, Any]] = []
    if target is not None:
        candidates += [(f"{path}.identifier[{j}]", i) for j, i in
                       enumerate(target.identifier or [])]
        practitioner = getattr(target, "practitioner", None)
        if practitioner is not None and practitioner.identifier is not None:
            candidates.append((f"{path}.practitioner.identifier", practitioner.identifier))
    elif reference.identifier is not None:
        candidates.append((f"{expr}.identifier", reference.identifier))
    for path, ident in candidates:
        if ident.system in AGB_SYSTEMS:
            if ident.value and is_valid_agb(ident.value):
                return ident.value
            issues.append(Issue(f"{path}.value", "not a valid AGB code (8 digits)", "value"))
            return None
    issues.append(Issue(expr, "the requester needs an AGB code (system "
                        "http://fhir.nl/fhir/NamingSystem/agb-z)", "required"))
    return None


def _team(performers: list[Any] | None, issues: list[Issue]) -> str | None:
    expr = f"{SR}.performer"
    if not performers:
        issues.append(Issue(expr, "name the receiving neighbourhood team as "
                            "'Organization/{team-id}'", "required"))
        return None
    if len(performers) > 1:
        issues.append(Issue(expr, "a referral goes to exactly one team", "value"))
        return None
    ref = performers[0].reference or ""
    if not ref.startswith(TEAM_REFERENCE_PREFIX) or len(ref) == len(TEAM_REFERENCE_PREFIX):
        issues.append(Issue(f"{expr}[0].reference", "the receiving team must be referenced as "
                            "'Organization/{team-id}'", "value"))
        return None
    return ref[len(TEAM_REFERENCE_PREFIX):]
