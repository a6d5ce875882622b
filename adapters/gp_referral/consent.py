"""FHIR R4B Consent (``POST /fhir/Consent``, or contained in a referral) -> canonical
:class:`schemas.ConsentClaim`.

``provision.purpose`` names the processing activity, ``provision.type`` permit or deny (an
objection), ``provision.actor`` the recipient (``Organization/{id}``, or every organisation
in a role by identifier), ``provision.code`` the data categories (none: all of the
activity), ``provision.period`` the validity. ``patient`` and ``performer`` stay references:
the gateway resolves them, and checks activity, role and categories against its register.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.servicerequest import ServiceRequest

from adapters.base import InvalidMessage, Issue
from adapters.fhir_validation import validate_resource
from adapters.gp_referral.identifiers import reference_of
from adapters.gp_referral.persons import representation_claim
from schemas import (
    ACTIVITY_SYSTEM,
    CATEGORY_SYSTEM,
    RECORDED_BY_EXTENSION,
    ROLE_SYSTEM,
    ConsentClaim,
    Reference,
    RepresentationClaim,
)

ORGANIZATION_PREFIX = "Organization/"
# Narrowings of a permit the gateway does not record (it records an activity, a recipient, data
# categories and a period): a permit stored without them would disclose more than was agreed.
# An objection stored without them withholds more, which is safe, so a deny keeps them unread.
_UNENFORCEABLE = (("action", "action"), ("securityLabel", "securityLabel"),
                  ("class_fhir", "class"), ("dataPeriod", "dataPeriod"), ("data", "data"),
                  ("provision", "provision"))


def parse_consent(document: dict[str, Any]) -> ConsentClaim:
    """A new consent or objection; every problem of its form named at once."""
    issues: list[Issue] = []
    claim = consent_claim(validate_resource(Consent, document), "Consent", issues)
    if claim is None:
        raise InvalidMessage(issues)
    return claim


def consent_claim(resource: Consent, base: str, issues: list[Issue]) -> ConsentClaim | None:
    """The claim a Consent makes (``base`` names it in issues), or None after recording its
    problems in ``issues``. A purpose the gateway cannot read is a 400 at once: the resource
    is no consent the gateway records."""
    known = len(issues)
    if resource.status != "active":
        issues.append(Issue(f"{base}.status", "a new consent has status 'active'", "value"))
    if resource.patient is None:
        issues.append(Issue(f"{base}.patient", "name the person the consent is about",
                            "required"))
    if not resource.performer:
        issues.append(Issue(f"{base}.performer", "name who gave the consent: the person "
                            "(Patient) or a parent or guardian (RelatedPerson)", "required"))
    provision = resource.provision
    if provision is None or provision.type not in ("permit", "deny"):
        issues.append(Issue(f"{base}.provision.type", "say 'permit' (consent) or 'deny' "
                            "(objection)", "required"))
        return None
    activity_id = _activity(provision.purpose or [], f"{base}.provision.purpose")
    organization, role = _recipient(provision.actor or [], f"{base}.provision.actor", issues)
    categories = _categories(provision.code or [], f"{base}.provision.code", issues)
    start, end = _period(provision.period, f"{base}.provision.period", issues)
    if provision.type == "permit":
        issues += _unenforceable(provision, f"{base}.provision")
    if len(issues) > known:
        return None
    patient = reference_of(resource.patient)
    assert patient is not None
    return ConsentClaim(
        patient=patient,
        performers=tuple(reference_of(p) or Reference() for p in resource.performer),
        verdict=provision.type, activity_id=activity_id, recipient_organization=organization,
        recipient_role=role, categories=categories, start=start, end=end,
        worker=recorded_by(resource.extension or []))


def referral_consent(referral: ServiceRequest, index: int, contained: dict[str, tuple[int, Any]],
                     issues: list[Issue]) -> tuple[ConsentClaim | None,
                                                   tuple[RepresentationClaim | None, ...]]:
    """The Consent contained at ``index`` of a referral, and who gave it: per performer, None
    for the resident (the subject's own reference), else the contained RelatedPerson it
    references (a parent or guardian the sender declares). It must be about the subject."""
    base = f"ServiceRequest.contained[{index}]"
    resource = referral.contained[index]
    claim = consent_claim(resource, base, issues)
    patient, subject = resource.patient, referral.subject
    if patient is not None and subject is not None and not (
            patient.reference == subject.reference if patient.reference else
            patient.identifier is not None and patient.identifier == subject.identifier):
        issues.append(Issue(f"{base}.patient", "the consent must be about the referred resident "
                            "(the same reference as ServiceRequest.subject)", "value"))
    grantors = tuple(_grantor(reference, f"{base}.performer[{i}]", subject, contained, issues)
                     for i, reference in enumerate(resource.performer or []))
    return claim, grantors


def _grantor(reference: Any, expr: str, subject: Any, contained: dict[str, tuple[int, Any]],
             issues: list[Issue]) -> RepresentationClaim | None:
    if reference.reference and subject is not None and reference.reference == subject.reference:
        return None
    _, target = contained.get((reference.reference or "").removeprefix("#"), (None, None))
    if target is not None and target.get_resource_type() == "RelatedPerson":
        return representation_claim(target, expr, issues)
    issues.append(Issue(expr, "the performer is the resident ('#' reference to the subject's "
                        "contained Patient) or a contained RelatedPerson", "value"))
    return None


def recorded_by(extensions: list[Any]) -> str | None:
    """The worker who recorded the consent (extension recorded-by), as ``system|value``."""
    for extension in extensions:
        if extension.url == RECORDED_BY_EXTENSION and extension.valueIdentifier is not None:
            ident = extension.valueIdentifier
            return f"{ident.system or ''}|{ident.value or ''}"[:255]
    return None


def _unenforceable(provision: Any, expr: str) -> list[Issue]:
    return [Issue(f"{expr}.{name}", "the gateway cannot enforce this narrowing of a permit; "
                  "narrow it by data category (provision.code), recipient (provision.actor) "
                  "and period instead", "not-supported")
            for attribute, name in _UNENFORCEABLE if getattr(provision, attribute, None)]


def _activity(purposes: list[Any], expr: str) -> str:
    codes = [p.code for p in purposes if p.system == ACTIVITY_SYSTEM]
    if len(codes) != 1 or not codes[0]:
        raise InvalidMessage([Issue(expr, f"give exactly one purpose with system "
                                    f"{ACTIVITY_SYSTEM} and a processing activity id as code",
                                    "required")], status=400)
    return str(codes[0])


def _recipient(actors: list[Any], expr: str,
               issues: list[Issue]) -> tuple[str | None, str | None]:
    """``Organization/{id}`` or a role identifier; no actor: every recipient of the activity."""
    if not actors:
        return None, None
    if len(actors) > 1:
        issues.append(Issue(expr, "name one recipient per consent", "value"))
        return None, None
    reference = actors[0].reference
    ref, ident = reference.reference or "", reference.identifier
    if ref.startswith(ORGANIZATION_PREFIX) and len(ref) > len(ORGANIZATION_PREFIX):
        return ref.removeprefix(ORGANIZATION_PREFIX)[:64], None
    if ident is not None and ident.system == ROLE_SYSTEM and ident.value:
        return None, ident.value
    issues.append(Issue(f"{expr}[0].reference", "the recipient is 'Organization/{id}' or an "
                        f"identifier with system {ROLE_SYSTEM} and one of the activity's roles "
                        "(GET /processing-activities)", "value"))
    return None, None


def _categories(codes: list[Any], expr: str, issues: list[Issue]) -> tuple[tuple[str, ...], ...]:
    """Per ``provision.code[i]``, its data-category codes (a coding without a code would
    widen a permit to every category: refused)."""
    found = []
    for i, concept in enumerate(codes):
        codings = [c for c in concept.coding or [] if c.system == CATEGORY_SYSTEM]
        if any(not c.code for c in codings):
            issues.append(Issue(f"{expr}[{i}]", "give the data category's code", "required"))
        found.append(tuple(str(c.code) for c in codings if c.code))
    return tuple(found)


def _period(period: Any, expr: str, issues: list[Issue]) -> tuple[datetime | None,
                                                                  datetime | None]:
    if period is None:
        return None, None
    start, end = (_instant(period.start, f"{expr}.start", issues),
                  _instant(period.end, f"{expr}.end", issues))
    if start and end and end <= start:
        issues.append(Issue(expr, "the period ends before it starts", "value"))
    return start, end


def _instant(value: Any, expr: str, issues: list[Issue]) -> datetime | None:
    """A FHIR date or dateTime -> an aware datetime (a date starts at midnight UTC). Partial
    dates (``2026-05``) are refused: a consent's validity must be exact."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            issues.append(Issue(expr, "a date-time needs a time zone", "value"))
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 lies before the first UTC instant
            issues.append(Issue(expr, "a date-time between the years 1 and 9999 in UTC",
                                "value"))
            return None
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    issues.append(Issue(expr, "give a full date (YYYY-MM-DD) or date-time", "value"))
    return None
