"""FHIR R4B ServiceRequest (a GP's referral) -> canonical :class:`schemas.Referral`.

Dutch GP systems send R4/R4B, with BSN and AGB either in a logical reference
(``{"identifier": {...}}``) or in a contained resource. Both are accepted; extensions the
gateway does not use are kept and ignored. The nl-core shapes (PractitionerRole requester,
UZI-only professional, team by URA or AGB, OID systems) are in docs/referral-shapes.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest

from adapters.base import InvalidMessage, Issue
from adapters.fhir_validation import validate_resource
from adapters.gp_referral.consent import referral_consent
from adapters.gp_referral.identifiers import INVALID_BSN
from schemas import (
    BSN_SYSTEMS,
    Identifier,
    Referral,
    Subject,
    is_valid_bsn,
    kind_of_system,
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
    requester = _requester(resource.requester, contained, issues)
    team_id, team_identifier = _team(resource.performer, issues)
    consent_index = _consent(resource.supportingInfo or [], contained, issues)
    consent, grantors = referral_consent(resource, consent_index, contained, issues) \
        if consent_index is not None else (None, ())
    if issues:
        raise InvalidMessage(issues)
    assert subject is not None and requester is not None
    return Referral(
        identifier=_business_identifier(resource),
        subject=subject,
        requester=requester[0],
        requester_organization=requester[1],
        team_id=team_id,
        team_identifier=team_identifier,
        consent_index=consent_index,
        consent=consent,
        consent_grantors=grantors,
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
            return Subject(bsn=bsn, birth_date=_full_date(patient.birthDate),
                           **_match_facts(patient)) if bsn else None
        if ident.system and ident.value and local_id is None and ident.system not in BSN_SYSTEMS:
            local_id = Identifier(system=ident.system, value=ident.value)
    has_demographics = bool(patient.name) and patient.birthDate is not None
    if not has_demographics:
        issues.append(Issue(path, "a Patient without BSN needs a name and a birthDate",
                            "required"))
        return None
    return Subject(local_id=local_id, has_demographics=True,
                   birth_date=_full_date(patient.birthDate), **_match_facts(patient))


def _match_facts(patient: Any) -> dict[str, str | None]:
    """The first name's surname and given name, and the first postcode: what the gateway
    reads to find a probable match (it stores a digest of them, never the names)."""
    name = (patient.name or [None])[0]
    return {"family_name": name.family if name else None,
            "given_name": (name.given or [None])[0] if name else None,
            "postcode": next((a.postalCode for a in patient.address or [] if a.postalCode),
                             None)}


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
        issues.append(Issue(expr, INVALID_BSN, "value"))
        return None
    return value


PERSONAL_KINDS = ("agb", "uzi")  # who refers, preferred first
PRACTICE_KINDS = ("agb", "ura")  # the practice they refer for
Found = list[tuple[str, Any]]  # (expression of an Identifier, the Identifier)


def _requester(reference: Any, contained: dict[str, tuple[int, Any]],
               issues: list[Issue]) -> tuple[str | None, str | None] | None:
    """The referring professional (personal AGB, else UZI) and their practice (AGB, else
    URA), as ``agb:...`` tokens; at least one is needed. A Practitioner carries its own
    identifiers; an nl-core PractitionerRole carries them on its ``practitioner`` and
    ``organization`` (contained, or logical by identifier). Every AGB, UZI and URA is checked."""
    expr = f"{SR}.requester"
    checked = _checked_reference(reference, expr, REQUESTER_TYPES, "the referring GP is required "
                                 "(Practitioner or PractitionerRole with an AGB code or UZI "
                                 "number)", contained, issues)
    if checked is None:
        return None
    path, target = checked
    known_issues = len(issues)
    personal: Found = []
    practice: Found = []
    if target is None:
        if reference.identifier is not None:
            personal.append((f"{expr}.identifier", reference.identifier))
    else:
        personal += [(f"{path}.identifier[{j}]", i) for j, i in enumerate(target.identifier or [])]
        if target.get_resource_type() == "PractitionerRole":
            personal += _identifiers(target.practitioner, f"{path}.practitioner", "Practitioner",
                                     contained, issues)
            practice += _identifiers(target.organization, f"{path}.organization",
                                     "Organization", contained, issues)
    person = _first_valid(personal, PERSONAL_KINDS, issues)
    organization = _first_valid(practice, PRACTICE_KINDS, issues)
    if len(issues) > known_issues:
        return None
    if person is None and organization is None:
        issues.append(Issue(expr, "the requester needs an AGB code (system "
                            "http://fhir.nl/fhir/NamingSystem/agb-z) or a UZI number (system "
                            "http://fhir.nl/fhir/NamingSystem/uzi-nr-pers), or its practice's "
                            "AGB or URA", "required"))
        return None
    return person, organization


def _identifiers(reference: Any, expr: str, resource_type: str,
                 contained: dict[str, tuple[int, Any]], issues: list[Issue]) -> Found:
    """The identifiers a reference carries: those of the contained resource it points at, or
    its own logical identifier."""
    if reference is None:
        return []
    if reference.reference:
        resolved = _resolve_contained(reference, expr, contained, issues)
        if resolved is None:
            return []
        path, target = resolved
        if target.get_resource_type() != resource_type:
            issues.append(Issue(f"{expr}.reference", f"must be a {resource_type}", "value"))
            return []
        return [(f"{path}.identifier[{j}]", i) for j, i in enumerate(target.identifier or [])]
    return [(f"{expr}.identifier", reference.identifier)] if reference.identifier else []


def _first_valid(found: Found, prefixes: tuple[str, ...], issues: list[Issue]) -> str | None:
    """The token of the first identifier of the most preferred kind; a malformed AGB, UZI or
    URA is an issue wherever it stands."""
    tokens: dict[str, str] = {}
    for path, ident in found:
        kind = kind_of_system(ident.system)
        if kind is None or kind.prefix not in prefixes:
            continue
        if not ident.value or not kind.is_valid(ident.value):
            issues.append(Issue(f"{path}.value", f"not a valid {kind.label} "
                                f"({kind.digits} digits)", "value"))
            continue
        tokens.setdefault(kind.prefix, kind.token(ident.value))
    return next((tokens[p] for p in prefixes if p in tokens), None)


TEAM_KINDS = ("agb", "ura")


def _team(performers: list[Any] | None, issues: list[Issue]) -> tuple[str | None, str | None]:
    """``(team id, None)`` for ``Organization/{id}``, ``(None, "ura:...")`` for a logical
    reference by the AGB or URA of the team's organisation."""
    expr = f"{SR}.performer"
    if not performers:
        issues.append(Issue(expr, "name the receiving neighbourhood team as "
                            "'Organization/{team-id}' or by its AGB or URA identifier",
                            "required"))
        return None, None
    if len(performers) > 1:
        issues.append(Issue(expr, "a referral goes to exactly one team", "value"))
        return None, None
    performer = performers[0]
    if performer.reference or performer.identifier is None:
        ref = performer.reference or ""
        if not ref.startswith(TEAM_REFERENCE_PREFIX) or len(ref) == len(TEAM_REFERENCE_PREFIX):
            issues.append(Issue(f"{expr}[0].reference", "the receiving team must be referenced "
                                "as 'Organization/{team-id}' or by identifier", "value"))
            return None, None
        return ref[len(TEAM_REFERENCE_PREFIX):], None
    ident = performer.identifier
    kind = kind_of_system(ident.system)
    if kind is None or kind.prefix not in TEAM_KINDS:
        issues.append(Issue(f"{expr}[0].identifier.system", "name the team's organisation by "
                            "its AGB (http://fhir.nl/fhir/NamingSystem/agb-z) or URA "
                            "(http://fhir.nl/fhir/NamingSystem/ura)", "value"))
        return None, None
    if not ident.value or not kind.is_valid(ident.value):
        issues.append(Issue(f"{expr}[0].identifier.value",
                            f"not a valid {kind.label} ({kind.digits} digits)", "value"))
        return None, None
    return None, kind.token(ident.value)
