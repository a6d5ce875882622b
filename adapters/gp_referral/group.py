"""FHIR R4B ``Group`` (a household a client registers or replaces) -> canonical
:class:`schemas.GroupClaim`: its identifiers, and each member as ``Patient/{id}`` or as a
person claim (a BSN or the client's own identifier), with its role and period. Every
problem of the form is named at once; the household service checks the claim against the
persons and households it knows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.group import Group, GroupMember

from adapters.base import InvalidMessage, Issue
from adapters.fhir_validation import validate_resource
from adapters.gp_referral.identifiers import INVALID_BSN
from schemas import BSN_SYSTEMS, GroupClaim, GroupMemberClaim, Identifier, PersonClaim, is_valid_bsn
from schemas.household import MEMBER_ROLE_EXTENSION, MEMBER_ROLES

PATIENT_PREFIX = "Patient/"


def parse_group(document: dict[str, Any]) -> GroupClaim:
    """A household as ``Group`` (type person, actual true); every problem named at once."""
    group = validate_resource(Group, document)
    issues: list[Issue] = []
    if group.type != "person":
        issues.append(Issue("Group.type", "a household is a Group of type 'person'", "value"))
    if group.actual is not True:
        issues.append(Issue("Group.actual", "a household is an actual Group (actual: true)",
                            "value"))
    identifiers = []
    for i, identifier in enumerate(group.identifier or []):
        if identifier.system and identifier.value:
            identifiers.append(Identifier(system=identifier.system, value=identifier.value))
        else:
            issues.append(Issue(f"Group.identifier[{i}]", "give the source system's household "
                                "id as system and value", "required"))
    if not group.member:
        issues.append(Issue("Group.member", "a household has at least one member", "required"))
    members = [_member(f"Group.member[{i}]", member, issues)
               for i, member in enumerate(group.member or [])]
    if issues:
        raise InvalidMessage(issues)
    return GroupClaim(identifiers=tuple(identifiers),
                      members=tuple(m for m in members if m is not None))


def _member(path: str, member: GroupMember, issues: list[Issue]) -> GroupMemberClaim | None:
    known = len(issues)
    person_id, person = _entity(member.entity, f"{path}.entity", issues)
    roles = [e.valueCode for e in member.extension or [] if e.url == MEMBER_ROLE_EXTENSION]
    if not roles:
        issues.append(Issue(f"{path}.extension", "give the member's role in extension "
                            f"{MEMBER_ROLE_EXTENSION}", "required"))
    elif len(roles) > 1:
        issues.append(Issue(f"{path}.extension", "give the member's role once", "value"))
    elif roles[0] not in MEMBER_ROLES:
        issues.append(Issue(f"{path}.extension", "unknown member role; give one of "
                            f"{', '.join(MEMBER_ROLES)}", "code-invalid"))
    period = member.period
    start = _day(period.start if period else None, f"{path}.period.start", issues)
    end = _day(period.end if period else None, f"{path}.period.end", issues)
    if start is not None and end is not None and end < start:
        issues.append(Issue(f"{path}.period.end", "the membership ends before it starts",
                            "value"))
    if len(issues) > known:
        return None
    return GroupMemberClaim(person_id=person_id, person=person, role=roles[0], start=start,
                            end=end)


def _entity(reference: Any, expr: str,
            issues: list[Issue]) -> tuple[str | None, PersonClaim | None]:
    """``Patient/{id}``, or an identifier: a BSN (elfproef) or the source's own id."""
    if (reference.reference or "").startswith(PATIENT_PREFIX):
        return reference.reference.removeprefix(PATIENT_PREFIX), None
    ident = reference.identifier
    if reference.reference is None and ident is not None and ident.system and ident.value:
        if ident.system not in BSN_SYSTEMS:
            return None, PersonClaim(bsn=None,
                                     local=Identifier(system=ident.system, value=ident.value))
        if is_valid_bsn(ident.value):
            return None, PersonClaim(bsn=ident.value, local=None)
        issues.append(Issue(f"{expr}.identifier.value", INVALID_BSN, "value"))
        return None, None
    issues.append(Issue(expr, "a member is a Patient: 'Patient/{id}', or an identifier (a BSN "
                        "or your system's own id for the person)", "value"))
    return None, None


def _day(value: date | datetime | str | None, expr: str, issues: list[Issue]) -> date | None:
    """Memberships are kept by the day: a time is refused, not cut off, and so is a
    partial date (fhir.resources keeps ``2024-01`` as text)."""
    if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
        issues.append(Issue(expr, "give a full date (YYYY-MM-DD): memberships are kept by the "
                            "day", "value"))
        return None
    return value
