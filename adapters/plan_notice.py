"""A household plan (the FHIR ``CarePlan`` the gateway sends, with its contained goals,
actions, scores and roles) read into plain items, which each registry-style adapter writes in
its own format: the youth dossier's ``plan`` element, the adult records' ``plan`` object.
Only what the recipient may see is in the CarePlan; ``incomplete`` says that more exists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.base import organization_name
from schemas import AGB_SYSTEM, AGB_SYSTEMS, URA_SYSTEM
from schemas.plan_domains import PRESETS, DomainLists
from schemas.plans import Party

_LISTS = DomainLists(tuple(PRESETS))
_EXTENSION = "https://wijkgateway.nl/fhir/StructureDefinition/"
TEAM_SYSTEM = "https://wijkgateway.nl/fhir/NamingSystem/team"
_NAMED = AGB_SYSTEMS | {URA_SYSTEM, TEAM_SYSTEM}


@dataclass(frozen=True)
class GoalItem:
    id: str
    life_domain: str  # the gateway's code
    member: str | None  # a person id; None: the whole household
    description: str
    status: str
    start: str | None
    mandatory: str | None
    review_due: bool


@dataclass(frozen=True)
class ActionItem:
    id: str
    goal: str
    member: str
    organization: str
    description: str
    status: str
    due: str | None


@dataclass(frozen=True)
class ScoreItem:
    id: str
    goal: str
    kind: str  # start or current
    value: int
    at: str


@dataclass(frozen=True)
class RoleItem:
    role: str
    member: str | None  # a person id
    party: str | None  # an organisation or professional, as the gateway names it


@dataclass(frozen=True)
class PlanNotice:
    id: str
    version: str
    status: str
    household: str
    incomplete: bool
    goals: list[GoalItem]
    actions: list[ActionItem]
    scores: list[ScoreItem]
    roles: list[RoleItem]


def read_plan(plan_id: str, content: Mapping[str, Any]) -> PlanNotice:
    items: dict[str, list[dict[str, Any]]] = {}
    for item in content.get("contained") or ():
        items.setdefault(str(item.get("resourceType")), []).append(item)
    security = (content.get("meta") or {}).get("security") or ()
    return PlanNotice(
        id=plan_id, version=str((content.get("meta") or {}).get("versionId", "1")),
        status=str(content.get("status", "draft")),
        household=str((content.get("subject") or {}).get("reference", "")).removeprefix(
            "Group/"),
        incomplete=any(s.get("code") == "REDACTED" for s in security),
        goals=[_goal(g) for g in items.get("Goal", [])],
        actions=[_action(t) for t in items.get("Task", [])],
        scores=[_score(o) for o in items.get("Observation", [])],
        roles=[_role(p) for team in items.get("CareTeam", [])
               for p in team.get("participant") or ()])


def _person(reference: Mapping[str, Any] | None) -> str | None:
    text = str((reference or {}).get("reference", ""))
    return text.removeprefix("Patient/") if text.startswith("Patient/") else None


def _local(reference: Mapping[str, Any] | None) -> str:
    return str((reference or {}).get("reference", "")).removeprefix("#")


def _goal(goal: Mapping[str, Any]) -> GoalItem:
    coding = goal["category"][0]["coding"][0]
    extensions = {e.get("url"): e for e in goal.get("extension") or ()}
    mandatory = extensions.get(_EXTENSION + "plan-mandatory-goal")
    return GoalItem(
        id=str(goal["id"]), life_domain=_LISTS.life_domain(coding["system"], coding["code"]),
        member=_person(goal.get("subject")), description=str(goal["description"]["text"]),
        status=str(goal["lifecycleStatus"]), start=goal.get("startDate"),
        mandatory=mandatory.get("valueCode") if mandatory else None,
        review_due=_EXTENSION + "plan-review-due" in extensions)


def _action(task: Mapping[str, Any]) -> ActionItem:
    due = ((task.get("restriction") or {}).get("period") or {}).get("end")
    return ActionItem(
        id=str(task["id"]), goal=_local(task.get("reasonReference")),
        member=_person(task.get("for")) or "", organization=_party(task.get("owner") or {}),
        description=str(task.get("description", "")), status=str(task["status"]),
        due=str(due)[:10] if due else None)


def _score(observation: Mapping[str, Any]) -> ScoreItem:
    return ScoreItem(
        id=str(observation["id"]), goal=_local((observation.get("focus") or [{}])[0]),
        kind=str(observation["code"]["coding"][0]["code"]),
        value=int(observation["valueInteger"]), at=str(observation["effectiveDateTime"])[:10])


def _role(participant: Mapping[str, Any]) -> RoleItem:
    member = participant.get("member") or {}
    person = _person(member)
    return RoleItem(role=str(participant["role"][0]["coding"][0]["code"]), member=person,
                    party=None if person else _party(member))


def _party(reference: Mapping[str, Any]) -> str:
    """An organisation as the gateway names it; another identifier (a KvK number, a
    RelatedPerson) as ``system|value`` or its reference."""
    if reference.get("reference"):
        return str(reference["reference"])
    identifier = reference.get("identifier") or {}
    if identifier.get("system") in _NAMED:
        return organization_name(reference)
    return f"{identifier.get('system', '')}|{identifier.get('value', '')}"


def party_of(text: str) -> Party:
    """A party as a registry system writes it (the inverse of what it receives): a team id,
    ``agb:``/``ura:`` and the number, or ``system|value``."""
    kind, _, number = text.partition(":")
    if kind == "agb" and number:
        return Party(system=AGB_SYSTEM, value=number)
    if kind == "ura" and number:
        return Party(system=URA_SYSTEM, value=number)
    if "|" in text:
        system, _, value = text.partition("|")
        return Party(system=system, value=value)
    return Party(system=TEAM_SYSTEM, value=text)
