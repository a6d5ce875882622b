"""The household plan in the gateway's own terms, whichever system wrote it: goals per life
domain, each for a member (or the whole household), actions per member under a goal, 1-5
self-reliance scores of a goal, and the roles around the plan. Every item has a stable id, so
two systems' changes merge item by item (``gateway.plans.merge``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args

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
