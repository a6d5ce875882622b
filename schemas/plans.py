"""The household plan in the gateway's own terms, whichever system wrote it: goals per life
domain, each for a member (or the whole household), actions per member under a goal, 1-5
self-reliance scores of a goal, and the roles around the plan. Every item has a stable id, so
two systems' changes merge item by item (``gateway.plans.merge``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, get_args

from schemas.person import PersonClaim
from schemas.reference import Identifier

if TYPE_CHECKING:
    from schemas.messages import LifeDomain

PlanStatus = Literal["draft", "active", "completed", "revoked"]
PLAN_STATUSES: tuple[PlanStatus, ...] = get_args(PlanStatus)
# regie: the resident by default; process and case director (who may work outside the team)
PlanRole = Literal["regiehouder", "procesregisseur", "casusregisseur", "contactpersoon"]
PLAN_ROLES: tuple[PlanRole, ...] = get_args(PlanRole)
ScoreKind = Literal["start", "current"]
Part = Literal["youth", "adult"]


@dataclass(frozen=True)
class Party:
    """Who holds a role or does an action: a member (``Patient/{id}``), someone of the social
    network (``RelatedPerson/{id}``), or an organisation or professional by identifier (a team,
    AGB, URA, or KvK for a housing corporation)."""

    reference: str | None = None
    system: str | None = None
    value: str | None = None
    kind: Literal["Organization", "Practitioner", "Patient", "RelatedPerson"] = "Organization"


@dataclass(frozen=True)
class Goal:
    id: str
    domain_system: str
    domain_code: str
    description: str
    lifecycle: str  # Goal.lifecycleStatus
    member: str | None = None  # a person id; None: the whole household
    start: date | None = None
    achievement: str | None = None  # Goal.achievementStatus code
    mandatory: str | None = None  # the owner of a mandatory goal (youth-protection)


@dataclass(frozen=True)
class Action:
    id: str
    goal: str
    member: str
    owner: Party
    description: str
    status: str  # Task.status
    due: date | None = None


@dataclass(frozen=True)
class Score:
    id: str
    goal: str
    kind: ScoreKind
    value: int
    at: date


@dataclass(frozen=True)
class Role:
    role: PlanRole
    party: Party


@dataclass(frozen=True)
class Agreement:
    """The household agreed to this plan: who (a member), when, in which version."""

    by: str
    at: datetime
    version: int


@dataclass(frozen=True)
class Approval:
    """A team leader signed off one part of the plan, in a version."""

    part: Part
    leader: str
    client: str
    at: datetime
    version: int


@dataclass(frozen=True)
class Plan:
    household: str
    status: PlanStatus
    title: str | None = None
    goals: dict[str, Goal] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)
    roles: tuple[Role, ...] = ()


# A registry-style system's plan (its adapter parsed it): persons as the system knows them
# (BSN, else its own id) or by the gateway's person id (as its plan notices name them), life
# domains in the gateway's codes.
PersonRef = PersonClaim | str  # a str: the gateway's person id


@dataclass(frozen=True)
class GoalClaim:
    id: str
    life_domain: LifeDomain
    description: str
    status: str
    member: PersonRef | None = None  # None: the whole household
    start: date | None = None


@dataclass(frozen=True)
class ActionClaim:
    id: str
    goal: str
    member: PersonRef
    owner: Party
    description: str
    status: str
    due: date | None = None


@dataclass(frozen=True)
class RoleClaim:
    role: PlanRole
    member: PersonRef | None = None
    party: Party | None = None


@dataclass(frozen=True)
class ChangePlan:
    """The household's plan as the system has it now, made on version ``base_version`` of
    the gateway's (None: the version the system last read or wrote). The household is the
    system's own id for it; a plan the household does not have yet starts as a draft."""

    message_id: str
    household: Identifier
    base_version: int | None
    goals: tuple[GoalClaim, ...] = ()
    actions: tuple[ActionClaim, ...] = ()
    scores: tuple[Score, ...] = ()
    roles: tuple[RoleClaim, ...] = ()
    status: PlanStatus | None = None  # None: as it is
    # the sender's path of each element (CarePlan.contained[id=g1] -> its XPath or pointer)
    where: Callable[[], Mapping[str, str]] | None = field(default=None, compare=False,
                                                          repr=False)

    @property
    def persons(self) -> list[PersonClaim]:
        """The persons to identify (those named by the gateway's id need not be)."""
        named = [g.member for g in self.goals] + [a.member for a in self.actions] + \
            [r.member for r in self.roles]
        return list(dict.fromkeys(p for p in named if isinstance(p, PersonClaim)))
