"""FHIR R4B Patient and RelatedPerson, as clients write them to the FHIR API (a RelatedPerson
also comes contained in a referral's Consent) -> canonical claims: a resident's BSN and birth
date (``schemas.PersonClaim``), a representative (``schemas.RepresentationClaim``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson

from adapters.base import InvalidMessage, Issue
from adapters.fhir_validation import validate_resource
from adapters.gp_referral.identifiers import bsn_of, reference_of
from schemas import (
    REPRESENTATIVE_CODES,
    ROLE_CODE_SYSTEM,
    PersonClaim,
    RepresentationClaim,
    kind_of_system,
)
from schemas.household import REPRESENTATION_KINDS, REPRESENTATION_SYSTEM

ORGANIZATION_KINDS = frozenset({"agb", "ura"})  # a certified institution, a bewindvoerder's firm


def parse_patient(document: dict[str, Any]) -> PersonClaim:
    """A resident's BSN and full birth date: what the gateway records of a Patient."""
    patient = validate_resource(Patient, document)
    issues: list[Issue] = []
    bsn = bsn_of(patient.identifier or [], "Patient.identifier", issues)
    if not isinstance(patient.birthDate, date):  # absent, or partial (kept as text)
        issues.append(Issue("Patient.birthDate", "give the full birth date (YYYY-MM-DD)",
                            "required"))
    if issues:
        raise InvalidMessage(issues)
    return PersonClaim(bsn=bsn, local=None, birth_date=patient.birthDate)


def parse_related_person(document: dict[str, Any]) -> RepresentationClaim:
    """A parent, guardian or other representative; every problem named at once."""
    issues: list[Issue] = []
    claim = representation_claim(validate_resource(RelatedPerson, document), "RelatedPerson",
                                 issues)
    if claim is None:
        raise InvalidMessage(issues)
    return claim


def representation_claim(related: RelatedPerson, expr: str,
                         issues: list[Issue]) -> RepresentationClaim | None:
    """The claim a RelatedPerson makes, or None after recording its problems in ``issues``;
    ``expr`` names it (a contained one: the element that references it)."""
    known = len(issues)
    organization = _organization(related.identifier or [], expr, issues)
    bsn = bsn_of(related.identifier, f"{expr}.identifier", issues) \
        if related.identifier and organization is None and len(issues) == known else None
    codes = [(c.system, c.code) for concept in related.relationship or []
             for c in concept.coding or []]
    roles = sorted({code for system, code in codes if system == ROLE_CODE_SYSTEM}
                   & REPRESENTATIVE_CODES)
    kinds = [code for system, code in codes if system == REPRESENTATION_SYSTEM]
    if len(kinds) > 1 or (kinds and kinds[0] not in REPRESENTATION_KINDS):
        issues.append(Issue(f"{expr}.relationship", "give one legal representation "
                            f"({REPRESENTATION_SYSTEM}): {', '.join(REPRESENTATION_KINDS)}",
                            "value"))
    elif not roles and not kinds:
        issues.append(Issue(f"{expr}.relationship", f"give the relationship as "
                            f"{ROLE_CODE_SYSTEM} code: a parent (PRN, MTH, FTH) or a guardian "
                            "(GUARD); only they consent for a minor; or a legal representation "
                            f"({REPRESENTATION_SYSTEM})", "required"))
    period = related.period
    start = _instant(period.start if period else None, f"{expr}.period.start", issues)
    end = _instant(period.end if period else None, f"{expr}.period.end", issues, end=True)
    if start is not None and end is not None and end <= start:
        issues.append(Issue(f"{expr}.period.end", "the period ends before it starts", "value"))
    if len(issues) > known:
        return None
    return RepresentationClaim(patient=reference_of(related.patient),
                               relationship=roles[0] if roles else None,
                               representation=kinds[0] if kinds else None, bsn=bsn,
                               organization=organization, start=start, end=end)


def _organization(identifiers: list[Any], expr: str, issues: list[Issue]) -> str | None:
    """The URA or AGB of an organisation that represents (``ura:12345678``), if given."""
    for i, identifier in enumerate(identifiers):
        kind = kind_of_system(identifier.system)
        if kind is not None and kind.prefix in ORGANIZATION_KINDS:
            if identifier.value and kind.is_valid(identifier.value):
                return kind.token(identifier.value)
            issues.append(Issue(f"{expr}.identifier[{i}].value",
                                f"not a valid {kind.label} ({kind.digits} digits)", "value"))
            return None
    return None


def _instant(value: Any, expr: str, issues: list[Issue], end: bool = False) -> datetime | None:
    """A period bound as an instant. A date starts at its first moment (UTC) and, as an
    end, includes the whole day (FHIR Period), so it ends at the next day's first moment;
    a partial date is refused."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1 if end else 0), time(), UTC)
    issues.append(Issue(expr, "give a full date (YYYY-MM-DD) or a date-time with a time zone",
                        "value"))
    return None
