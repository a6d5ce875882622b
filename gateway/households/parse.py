"""A FHIR ``Group`` as a household registration: its identifiers, and each member as a
``Patient/{id}`` or as a person claim (a BSN or the source's own identifier). Roles and
periods are read as given; ``service`` checks them, for adapters' claims alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.group import Group, GroupMember

from adapters.fhir_validation import validate_resource
from gateway.platform.errors import Unprocessable
from schemas import BSN_SYSTEMS, Identifier, PersonClaim, is_valid_bsn
from schemas.household import MEMBER_ROLE_EXTENSION

PATIENT_PREFIX = "Patient/"


@dataclass(frozen=True)
class GroupEntry:
    """One ``Group.member``: ``person_id`` (``Patient/{id}``) or ``claim`` (by identifier)."""

    person_id: str | None
    claim: PersonClaim | None
    role: str | None
    start: date | None
    end: date | None


@dataclass(frozen=True)
class ParsedGroup:
    identifiers: tuple[Identifier, ...]
    members: tuple[GroupEntry, ...]


def parse_group(document: dict[str, Any]) -> ParsedGroup:
    """A household as ``Group`` (type person, actual true); 4xx naming the element else."""
    group = validate_resource(Group, document)
    if group.type != "person":
        raise Unprocessable("a household is a Group of type 'person'", expression="Group.type")
    if group.actual is not True:
        raise Unprocessable("a household is an actual Group (actual: true)",
                            expression="Group.actual")
    identifiers = []
    for i, identifier in enumerate(group.identifier or []):
        if not identifier.system or not identifier.value:
            raise Unprocessable("give the source system's household id as system and value",
                                expression=f"Group.identifier[{i}]")
        identifiers.append(Identifier(system=identifier.system, value=identifier.value))
    return ParsedGroup(tuple(identifiers),
                       tuple(_entry(i, member) for i, member in enumerate(group.member or [])))


def _entry(i: int, member: GroupMember) -> GroupEntry:
    path = f"Group.member[{i}]"
    person_id, claim = _entity(member.entity, f"{path}.entity")
    roles = [e.valueCode for e in member.extension or [] if e.url == MEMBER_ROLE_EXTENSION]
    if len(roles) > 1:
        raise Unprocessable("give the member's role once", expression=f"{path}.extension")
    period = member.period
    return GroupEntry(person_id, claim, roles[0] if roles else None,
                      _day(period.start if period else None, f"{path}.period.start"),
                      _day(period.end if period else None, f"{path}.period.end"))


def _entity(reference: Any, expr: str) -> tuple[str | None, PersonClaim | None]:
    """``Patient/{id}``, or an identifier: a BSN (elfproef) or the source's own id."""
    if (reference.reference or "").startswith(PATIENT_PREFIX):
        return reference.reference.removeprefix(PATIENT_PREFIX), None
    ident = reference.identifier
    if reference.reference is None and ident is not None and ident.system and ident.value:
        if ident.system in BSN_SYSTEMS:
            if not is_valid_bsn(ident.value):
                raise Unprocessable("not a valid BSN (9 digits passing the elfproef)",
                                    expression=f"{expr}.identifier.value")
            return None, PersonClaim(bsn=ident.value, local=None)
        return None, PersonClaim(bsn=None,
                                 local=Identifier(system=ident.system, value=ident.value))
    raise Unprocessable("a member is a Patient: 'Patient/{id}', or an identifier (a BSN or "
                        "your system's own id for the person)", expression=expr)


def _day(value: date | datetime | str | None, expr: str) -> date | None:
    """Memberships are kept by the day: a time is refused, not cut off, and so is a
    partial date (fhir.resources keeps ``2024-01`` as text)."""
    if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
        raise Unprocessable("give a full date (YYYY-MM-DD): memberships are kept by the day",
                            expression=expr)
    return value
