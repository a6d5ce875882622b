"""A household as one source system registers it: its own id for the household, and each
member as that system names them, with a role and the period they belong to it. The gateway
turns the members into persons (identity matching) and the claim into one household."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.person import PersonClaim
from schemas.reference import Identifier, Reference

BASE = "https://wijkgateway.nl/fhir"
# R4B Group.member has no role: it travels in this extension (valueCode: a MemberRole)
MEMBER_ROLE_EXTENSION = f"{BASE}/StructureDefinition/household-member-role"
# RelatedPerson.relationship coding of a legal representation (consent.representation)
REPRESENTATION_SYSTEM = f"{BASE}/CodeSystem/representation"
RepresentationKind = Literal["parental-authority", "guardian", "mentor", "curator",
                             "financial-administrator"]
REPRESENTATION_KINDS: tuple[RepresentationKind, ...] = (
    "parental-authority", "guardian", "mentor", "curator", "financial-administrator")
HOUSEHOLD_SYSTEM_PREFIX = f"{BASE}/NamingSystem/household/"

MemberRole = Literal["parent", "child", "partner", "other", "unborn"]
MEMBER_ROLES: tuple[MemberRole, ...] = ("parent", "child", "partner", "other", "unborn")
# Whose presence together makes two registrations one household (docs/households.md)
ADULT_ROLES: frozenset[MemberRole] = frozenset({"parent", "partner"})
# Over whom a parent may hold parental authority
CHILD_ROLES: frozenset[MemberRole] = frozenset({"child"})


def household_system(source: str) -> str:
    """The identifier system of a source system's own household ids (one per source)."""
    return f"{HOUSEHOLD_SYSTEM_PREFIX}{source}"


@dataclass(frozen=True)
class MemberClaim:
    """One member as the source names them. An unborn child has role ``unborn``, no birth
    date and no BSN: the source's local id for the expected child identifies it."""

    person: PersonClaim
    role: MemberRole
    start: date | None = None  # the membership's period; None: since ever / until further
    end: date | None = None


@dataclass(frozen=True)
class HouseholdClaim:
    """A household as one source registers it. ``local`` is the source's own id for the
    household (a household system per source, ``household_system``); without one, only the
    members can tell whether the gateway knows the household already."""

    local: Identifier | None
    members: tuple[MemberClaim, ...]


class GroupMemberClaim(BaseModel):
    """One member of a household as a client's FHIR Group names them: a person the gateway
    knows (``person_id``, from ``Patient/{id}``) or a person claim (a BSN or the client's own
    id), with a role and the period they belong to it."""

    model_config = ConfigDict(frozen=True)

    role: MemberRole
    person_id: str | None = None
    person: PersonClaim | None = None
    start: date | None = None  # by the day; None: since ever / until further notice
    end: date | None = None


class GroupClaim(BaseModel):
    """A household as a client registers or replaces it: its ids for the household and the
    members."""

    model_config = ConfigDict(frozen=True)

    identifiers: tuple[Identifier, ...] = ()
    members: tuple[GroupMemberClaim, ...] = ()


class RepresentationClaim(BaseModel):
    """A parent, guardian or other legal representative of a person (a FHIR RelatedPerson):
    whom they represent, how (a parent's or guardian's v3 RoleCode, a legal representation,
    or both), who they are (a BSN, or an organisation's ``ura:``/``agb:`` token) and for
    when (instants; a date as an end includes the whole day). The gateway checks it against
    the person: their age, a parent's household."""

    model_config = ConfigDict(frozen=True)

    patient: Reference | None = None
    relationship: str | None = None
    representation: RepresentationKind | None = None
    bsn: str | None = None
    organization: str | None = None
    start: datetime | None = None
    end: datetime | None = None
