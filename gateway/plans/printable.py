"""The household plan on paper, for the household meeting and the household's own copy
(docs/household-plan.md, "On paper"): made from the plan as the caller may see it
(``service.shown``: withheld goals are not there to leave out, and the read is logged like any
read), in plain Dutch. Members are named by their place in the household (ouder 1, kind), never
by BSN or id; the gateway stores no names. The template only lays this out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import Register
from gateway.auth.bearer import Caller
from gateway.plans import repository, service
from gateway.plans.fhir import AGREEMENT, APPROVAL, REDACTED, REVIEW_DUE
from gateway.plans.present import stored
from gateway.plans.score_chart import ScoreChart, score_chart
from gateway.plans.visibility import ALL_LISTS
from gateway.platform.db.models import CarePlanRow
from schemas.identifiers import AGB_SYSTEMS, BSN_SYSTEMS, URA_SYSTEM
from schemas.plans import Goal, Party, Plan, Score

MEMBER_ROLES = {"parent": "ouder", "child": "kind", "partner": "partner",
                "other": "gezinslid", "unborn": "ongeboren kind"}
PLAN_STATUSES = {"draft": "concept: nog niet vastgesteld", "active": "vastgesteld",
                 "completed": "afgerond", "revoked": "ingetrokken"}
GOAL_STATUSES = {"proposed": "voorgesteld", "planned": "gepland", "accepted": "afgesproken",
                 "active": "loopt", "on-hold": "staat stil", "completed": "afgerond",
                 "cancelled": "gestopt", "entered-in-error": "vervallen",
                 "rejected": "niet gekozen"}
ACTION_STATUSES = {"draft": "nog niet gevraagd", "requested": "gevraagd",
                   "received": "ontvangen", "accepted": "afgesproken", "rejected": "afgewezen",
                   "ready": "kan beginnen", "cancelled": "gestopt", "in-progress": "bezig",
                   "on-hold": "staat stil", "failed": "niet gelukt", "completed": "gedaan",
                   "entered-in-error": "vervallen"}
ROLES = {"regiehouder": "Houdt de regie", "procesregisseur": "Procesregisseur",
         "casusregisseur": "Casusregisseur", "contactpersoon": "Contactpersoon"}
PARTS = {"youth": "het deel over de kinderen (jeugd)", "adult": "het deel over de volwassenen"}
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")
HOUSEHOLD = "het hele gezin"


@dataclass(frozen=True)
class GoalLine:
    text: str
    who: str
    domain: str
    status: str
    since: str | None
    mandatory: bool  # youth protection's minimum requirement (bodemeis)
    review_due: bool
    start: int | None
    now: int | None
    chart: ScoreChart | None


@dataclass(frozen=True)
class DomainGoals:
    name: str
    goals: list[GoalLine]


@dataclass(frozen=True)
class ActionLine:
    text: str
    goal: str
    owner: str
    due: str | None
    status: str


@dataclass(frozen=True)
class MemberActions:
    who: str
    actions: list[ActionLine]


@dataclass(frozen=True)
class PrintablePlan:
    title: str
    status: str
    version: str
    updated: str
    printed: str
    printed_by: str
    redacted: bool  # meta.security says REDACTED: parts were left out
    roles: list[tuple[str, str]]  # (role, who), regie first
    domains: list[DomainGoals]
    scored: list[GoalLine]
    actions: list[MemberActions]
    agreement: str | None
    approvals: list[str]


def printable(session: Session, register: Register, caller: Caller, row: CarePlanRow,
              today: date) -> PrintablePlan:
    """The plan as ``caller`` may see it, ready to print."""
    resource = service.shown(session, register, caller, row)
    plan = stored(resource)
    names = member_names([(m.person_id, m.role) for m, _ in
                          repository.members(session, row.household_id)])
    goals = {g.id: _goal_line(g, plan, names, _flagged(resource, g.id))
             for g in sorted(plan.goals.values(), key=lambda g: g.id)}
    by_domain: dict[str, list[GoalLine]] = defaultdict(list)
    for line in goals.values():
        by_domain[line.domain].append(line)
    meta = resource["meta"]
    return PrintablePlan(
        title=plan.title or "Gezinsplan", status=PLAN_STATUSES.get(plan.status, plan.status),
        version=meta["versionId"], updated=dutch_date(meta["lastUpdated"]),
        printed=dutch_date(today), printed_by=caller.team_id or caller.organization,
        redacted=REDACTED in meta.get("security", []),
        roles=_roles(plan, names),
        domains=[DomainGoals(name, by_domain[name]) for name in sorted(by_domain)],
        scored=[line for line in goals.values() if line.chart is not None],
        actions=_actions(plan, names, goals), agreement=_agreement(resource, names),
        approvals=_approvals(resource))


def member_names(members: list[tuple[str, str]]) -> dict[str, str]:
    """Each member (person id, role) by their place in the household, numbered when it is
    shared: ouder 1, ouder 2, kind."""
    count: dict[str, int] = defaultdict(int)
    for _, role in members:
        count[role] += 1
    seen: dict[str, int] = defaultdict(int)
    names = {}
    for person, role in members:
        seen[role] += 1
        name = MEMBER_ROLES.get(role, "gezinslid")
        names[person] = f"{name} {seen[role]}" if count[role] > 1 else name
    return names


def dutch_date(value: str | date) -> str:
    """2027-01-31 (or a dateTime) as "31 januari 2027"."""
    day = value if isinstance(value, date) else datetime.fromisoformat(value).date()
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _flagged(resource: dict[str, Any], goal_id: str) -> bool:
    item = next((i for i in resource.get("contained", []) if i["id"] == goal_id), {})
    return any(e.get("url") == REVIEW_DUE for e in item.get("extension", []))


def _latest(scores: list[Score], kind: str) -> int | None:
    chosen = max((s for s in scores if s.kind == kind), key=lambda s: (s.at, s.id), default=None)
    return chosen.value if chosen else None


def _goal_line(goal: Goal, plan: Plan, names: dict[str, str], review_due: bool) -> GoalLine:
    domain = ALL_LISTS.find(goal.domain_system, goal.domain_code)
    scores = [s for s in plan.scores.values() if s.goal == goal.id]
    start, now = _latest(scores, "start"), _latest(scores, "current")
    return GoalLine(
        text=goal.description, who=names.get(goal.member, "gezinslid") if goal.member
        else HOUSEHOLD, domain=domain.display if domain else goal.domain_code,
        status=GOAL_STATUSES.get(goal.lifecycle, goal.lifecycle),
        since=dutch_date(goal.start) if goal.start else None,
        mandatory=goal.mandatory is not None, review_due=review_due, start=start, now=now,
        chart=score_chart(start, now) if scores else None)


def _party(party: Party, names: dict[str, str]) -> str:
    """Who: a member by their place, an organisation by its identifier, and never a BSN."""
    if party.kind == "Patient" and party.reference:
        return names.get(party.reference.removeprefix("Patient/"), "gezinslid")
    if party.kind == "RelatedPerson":
        return "iemand uit het netwerk van het gezin"
    if party.system in BSN_SYSTEMS:
        return "een hulpverlener" if party.kind == "Practitioner" else "een organisatie"
    label = "AGB " if party.system in AGB_SYSTEMS else "URA " if party.system == URA_SYSTEM \
        else "KvK " if (party.system or "").endswith("/kvk") else ""
    return f"{label}{party.value}"


def _roles(plan: Plan, names: dict[str, str]) -> list[tuple[str, str]]:
    ordered = sorted(plan.roles, key=lambda r: list(ROLES).index(r.role))
    roles = [(ROLES[r.role], _party(r.party, names)) for r in ordered]
    if not any(r.role == "regiehouder" for r in plan.roles):
        roles.insert(0, (ROLES["regiehouder"], "het gezin zelf"))
    return roles


def _actions(plan: Plan, names: dict[str, str], goals: dict[str, GoalLine]
             ) -> list[MemberActions]:
    by_member: dict[str, list[ActionLine]] = defaultdict(list)
    for action in sorted(plan.actions.values(), key=lambda a: (a.due or date.max, a.id)):
        by_member[names.get(action.member, "gezinslid")].append(ActionLine(
            text=action.description, goal=goals[action.goal].text,
            owner=_party(action.owner, names),
            due=dutch_date(action.due) if action.due else None,
            status=ACTION_STATUSES.get(action.status, action.status)))
    return [MemberActions(who, by_member[who]) for who in sorted(by_member)]


def _extension(resource: dict[str, Any], url: str) -> list[dict[str, Any]]:
    """The parts (``url`` -> value) of each of the plan's extensions ``url``."""
    return [{part["url"]: next(v for k, v in part.items() if k.startswith("value"))
             for part in e.get("extension", [])}
            for e in resource.get("extension", []) if e.get("url") == url]


def _agreement(resource: dict[str, Any], names: dict[str, str]) -> str | None:
    for agreed in _extension(resource, AGREEMENT):
        who = names.get(agreed["by"]["reference"].removeprefix("Patient/"), "een gezinslid")
        return f"Het gezin stemde op {dutch_date(agreed['at'])} in met dit plan ({who})."
    return None


def _approvals(resource: dict[str, Any]) -> list[str]:
    return [f"Teamleider {a['leader']} keurde {PARTS.get(a['part'], a['part'])} goed op "
            f"{dutch_date(a['at'])}." for a in _extension(resource, APPROVAL)]
