"""FHIR R4B Consent in and out.

In: ``provision.purpose`` names the processing activity, ``provision.type`` permit or deny
(an objection), ``provision.actor`` the recipient (``Organization/{id}``, or every
organisation in a role by identifier), ``provision.code`` the data categories (none: all of
the activity), ``provision.period`` the validity. ``patient`` and ``performer`` stay
references here; the service resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from fhir.resources.R4B.consent import Consent

from adapters.base import InvalidMessage, Issue
from adapters.fhir_validation import validate_resource
from consent import Register
from gateway.platform.db.models import ConsentRow
from gateway.platform.errors import BadRequest
from schemas import (
    ACTIVITY_SYSTEM,
    CATEGORY_SYSTEM,
    RECIPIENT_ACTOR_ROLE,
    RECORDED_BY_EXTENSION,
    ROLE_SYSTEM,
    shown,
)

ORGANIZATION_PREFIX = "Organization/"


@dataclass(frozen=True)
class ConsentSubmission:
    patient: Any  # the Reference, as sent
    performers: list[tuple[str, Any]]  # (expression, Reference)
    activity_id: str
    verdict: str
    recipient_organization: str | None
    recipient_role: str | None
    categories: frozenset[str]
    start: datetime | None
    end: datetime | None
    worker: str | None


def parse_consent(document: dict[str, Any], register: Register,
                  base: str = "Consent") -> ConsentSubmission:
    """A new consent or objection, checked against the register; every problem named."""
    resource = validate_resource(Consent, document)
    issues: list[Issue] = []
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
        raise InvalidMessage(issues)
    activity_id = _activity(provision.purpose or [], register, f"{base}.provision.purpose")
    activity = register.activity(activity_id)
    assert activity is not None
    organization, role = _recipient(provision.actor or [], activity.recipient_roles,
                                    f"{base}.provision.actor", issues)
    categories = _categories(provision.code or [], register, activity.data_categories,
                             f"{base}.provision.code", issues)
    start, end = _period(provision.period, f"{base}.provision.period", issues)
    if provision.type == "permit":
        issues += _unenforceable(provision, f"{base}.provision")
    if issues:
        raise InvalidMessage(issues)
    return ConsentSubmission(
        patient=resource.patient,
        performers=[(f"{base}.performer[{i}]", p) for i, p in enumerate(resource.performer)],
        activity_id=activity_id, verdict=provision.type, recipient_organization=organization,
        recipient_role=role, categories=categories, start=start, end=end,
        worker=recorded_by(resource.extension or []))


# Narrowings of a permit the gateway does not record (it records an activity, a recipient, data
# categories and a period): a permit stored without them would disclose more than was agreed.
# An objection stored without them withholds more, which is safe, so a deny keeps them unread.
_UNENFORCEABLE = (("action", "action"), ("securityLabel", "securityLabel"),
                  ("class_fhir", "class"), ("dataPeriod", "dataPeriod"), ("data", "data"),
                  ("provision", "provision"))


def _unenforceable(provision: Any, expr: str) -> list[Issue]:
    return [Issue(f"{expr}.{name}", "the gateway cannot enforce this narrowing of a permit; "
                  "narrow it by data category (provision.code), recipient (provision.actor) "
                  "and period instead", "not-supported")
            for attribute, name in _UNENFORCEABLE if getattr(provision, attribute, None)]


def _activity(purposes: list[Any], register: Register, expr: str) -> str:
    codes = [p.code for p in purposes if p.system == ACTIVITY_SYSTEM]
    if len(codes) != 1 or not codes[0]:
        raise BadRequest(f"give exactly one purpose with system {ACTIVITY_SYSTEM} and a "
                         "processing activity id as code", expression=expr)
    if register.activity(codes[0]) is None:
        raise BadRequest(f"unknown processing activity {shown(codes[0])}; see "
                         "GET /processing-activities", expression=expr)
    return codes[0]


def _recipient(actors: list[Any], roles: frozenset[str], expr: str,
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
    if ident is not None and ident.system == ROLE_SYSTEM and ident.value in roles:
        return None, ident.value
    issues.append(Issue(f"{expr}[0].reference", "the recipient is 'Organization/{id}' or an "
                        f"identifier with system {ROLE_SYSTEM} and one of the activity's roles: "
                        f"{', '.join(sorted(roles))}", "value"))
    return None, None


def _categories(codes: list[Any], register: Register, allowed: frozenset[str], expr: str,
                issues: list[Issue]) -> frozenset[str]:
    found: set[str] = set()
    for i, concept in enumerate(codes):
        for coding in concept.coding or []:
            if coding.system != CATEGORY_SYSTEM:
                continue
            if coding.code not in register.categories:
                raise BadRequest(f"unknown data category {shown(coding.code)}",
                                 expression=f"{expr}[{i}]")
            if coding.code not in allowed:
                issues.append(Issue(f"{expr}[{i}]", f"data category {coding.code} is not "
                                    "part of this activity", "value"))
            found.add(coding.code)
    return frozenset(found)


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


def recorded_by(extensions: list[Any]) -> str | None:
    for extension in extensions:
        if extension.url == RECORDED_BY_EXTENSION and extension.valueIdentifier is not None:
            ident = extension.valueIdentifier
            return f"{ident.system or ''}|{ident.value or ''}"[:255]
    return None


def consent_resource(row: ConsentRow, person_id: str,
                     performers: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored form of a consent: references resolved to the gateway's ids."""
    provision: dict[str, Any] = {"type": row.verdict,
                                 "purpose": [{"system": ACTIVITY_SYSTEM,
                                              "code": row.activity_id}]}
    if row.period_start or row.period_end:
        provision["period"] = {k: v.isoformat() for k, v in
                               (("start", row.period_start), ("end", row.period_end)) if v}
    if row.recipient_organization or row.recipient_role:
        reference = ({"reference": f"{ORGANIZATION_PREFIX}{row.recipient_organization}"}
                     if row.recipient_organization else
                     {"type": "Organization",
                      "identifier": {"system": ROLE_SYSTEM, "value": row.recipient_role}})
        provision["actor"] = [{"role": RECIPIENT_ACTOR_ROLE, "reference": reference}]
    if row.categories:
        provision["code"] = [{"coding": [{"system": CATEGORY_SYSTEM, "code": c}]}
                             for c in row.categories.split()]
    return {"patient": {"reference": f"Patient/{person_id}"}, "performer": performers,
            "provision": provision}
