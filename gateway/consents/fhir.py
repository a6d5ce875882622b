"""A client's Consent, parsed by the gp-referral adapter (``schemas.ConsentClaim``), checked
against the register of processing activities; and the stored form of a consent."""

from __future__ import annotations

from typing import Any

from adapters.base import InvalidMessage, Issue
from consent import Register
from gateway.platform.db.models import ConsentRow
from gateway.platform.errors import BadRequest
from schemas import (
    ACTIVITY_SYSTEM,
    CATEGORY_SYSTEM,
    RECIPIENT_ACTOR_ROLE,
    ROLE_SYSTEM,
    ConsentClaim,
    Reference,
    shown,
)

ORGANIZATION_PREFIX = "Organization/"


def check_consent(claim: ConsentClaim, register: Register, base: str = "Consent") -> None:
    """A known activity (400 else, as an unknown data category), a recipient role of it and
    categories it processes (422 naming each element else)."""
    activity = register.activity(claim.activity_id)
    if activity is None:
        raise BadRequest(f"unknown processing activity {shown(claim.activity_id)}; see "
                         "GET /processing-activities", expression=f"{base}.provision.purpose")
    issues = []
    if claim.recipient_role is not None and claim.recipient_role not in activity.recipient_roles:
        issues.append(Issue(f"{base}.provision.actor[0].reference", "the recipient is "
                            f"'Organization/{{id}}' or an identifier with system {ROLE_SYSTEM} "
                            "and one of the activity's roles: "
                            f"{', '.join(sorted(activity.recipient_roles))}", "value"))
    for i, codes in enumerate(claim.categories):
        for code in codes:
            if code not in register.categories:
                raise BadRequest(f"unknown data category {shown(code)}",
                                 expression=f"{base}.provision.code[{i}]")
            if code not in activity.data_categories:
                issues.append(Issue(f"{base}.provision.code[{i}]", f"data category {code} is "
                                    "not part of this activity", "value"))
    if issues:
        raise InvalidMessage(issues)


def named_performers(claim: ConsentClaim, base: str) -> list[tuple[str, Reference]]:
    """Each performer with the expression that names it."""
    return [(f"{base}.performer[{i}]", p) for i, p in enumerate(claim.performers)]


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
