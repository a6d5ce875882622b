"""The household plan as FHIR R4B: a ``CarePlan`` whose subject is the household ``Group``, with
its goals (``Goal``), actions (``Task``, for a member, owned by an organisation, due by
``restriction.period.end``, under a goal by ``reasonReference``), self-reliance scores
(``Observation``, 1-5, ``focus`` the goal) and roles (one ``CareTeam``) as contained resources.

Contained, because they have no life of their own: the plan is one document the household owns,
versioned as a whole, and its items merge by their ids (docs/household-plan.md says why). What
the gateway manages (agreement, approvals, the review flag) is rendered as extensions and never
read from a client."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from fhir.resources.R4B.careplan import CarePlan

from adapters.base import InvalidMessage, Issue
from adapters.fhir_validation import validate_resource
from schemas import safe_name
from schemas.plan_domains import DomainLists
from schemas.plans import PLAN_ROLES, Action, Goal, Party, Plan, Role, Score

ROLE_SYSTEM = "https://wijkgateway.nl/fhir/CodeSystem/plan-role"
SCORE_SYSTEM = "https://wijkgateway.nl/fhir/CodeSystem/self-reliance"
EXTENSION = "https://wijkgateway.nl/fhir/StructureDefinition/"
MANDATORY = EXTENSION + "plan-mandatory-goal"
AGREEMENT = EXTENSION + "plan-agreement"
APPROVAL = EXTENSION + "plan-approval"
REVIEW_DUE = EXTENSION + "plan-review-due"
ROLES_ID = "roles"
REDACTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
            "code": "REDACTED", "display": "redacted"}
ITEM_TYPES = ("Goal", "Task", "Observation", "CareTeam")
# What the registries' formats carry (the youth dossier's XSD, the adult records' schema): a
# plan the gateway keeps must reach them, so it holds no more than this
MAX_TEXT = 2000
MAX_ITEMS = {"Goal": 500, "Task": 1000, "Observation": 1000}
MAX_ROLES = 50
PARTY = re.compile(r"[!-~]{1,300}")  # system|value: visible ASCII, as the registries name one

# (the reference or identifier as sent, its expression) -> a person id of the household
Members = Callable[[dict[str, Any], str], str | None]


def parse(document: dict[str, Any], household: str, lists: DomainLists,
          member_of: Members) -> Plan:
    """``document`` (a CarePlan) as a plan, or 422 naming every element that is wrong.
    ``household``: the Group its subject must name; ``member_of`` resolves a member."""
    validate_resource(CarePlan, document)
    return read(document, household, lists, member_of)


def read(document: dict[str, Any], household: str, lists: DomainLists,
         member_of: Members) -> Plan:
    """``parse`` without the FHIR validation, for what the gateway rendered itself (a stored
    version, a view of one): valid already, and validating costs more than the rest."""
    issues: list[Issue] = []
    _check_subject(document, household, issues)
    by_type: dict[str, list[tuple[int, dict[str, Any]]]] = {t: [] for t in ITEM_TYPES}
    for i, item in enumerate(document.get("contained", [])):
        kind = item["resourceType"]
        if kind not in by_type:
            issues.append(Issue(f"CarePlan.contained[{i}]", "a plan contains Goals, Tasks, "
                                "Observations (scores) and one CareTeam (roles), not "
                                f"{safe_name(kind)}", "not-supported"))
        elif not item.get("id"):
            issues.append(Issue(f"CarePlan.contained[{i}].id", "each contained item needs an "
                                "id: it is how a change names it", "required"))
        else:
            by_type[kind].append((i, item))
    _check_unique_ids(by_type, issues)
    _check_sizes(by_type, issues)
    goals = {g.id: g for i, item in by_type["Goal"]
             if (g := _goal(i, item, household, lists, member_of, issues))}
    actions = {a.id: a for i, item in by_type["Task"]
               if (a := _action(i, item, goals, member_of, issues))}
    scores = {s.id: s for i, item in by_type["Observation"]
              if (s := _score(i, item, goals, issues))}
    roles = _roles(by_type["CareTeam"], member_of, issues)
    if issues:
        raise InvalidMessage(issues)
    return Plan(household=household, status=document["status"], title=document.get("title"),
                goals=goals, actions=actions, scores=scores, roles=roles)


def _check_subject(document: dict[str, Any], household: str, issues: list[Issue]) -> None:
    if document.get("intent") != "plan":
        issues.append(Issue("CarePlan.intent", "a household plan's intent is 'plan'", "value"))
    reference = (document.get("subject") or {}).get("reference")
    if reference != f"Group/{household}":
        issues.append(Issue("CarePlan.subject", "the subject is the household: Group/{id} of a "
                            "household you can read" + ("" if reference is None else
                                                        ", and this plan's own"), "value"))


def _check_unique_ids(by_type: dict[str, list[tuple[int, dict[str, Any]]]],
                      issues: list[Issue]) -> None:
    seen: set[str] = set()
    for items in by_type.values():
        for i, item in items:
            if item["id"] in seen:
                issues.append(Issue(f"CarePlan.contained[{i}].id", "ids of contained items "
                                    "are unique in the plan", "value"))
            seen.add(item["id"])


def _check_sizes(by_type: dict[str, list[tuple[int, dict[str, Any]]]],
                 issues: list[Issue]) -> None:
    for kind, limit in MAX_ITEMS.items():
        if len(by_type[kind]) > limit:
            issues.append(Issue("CarePlan.contained", f"a plan holds at most {limit} items of "
                                f"type {kind}: what the registries' formats carry", "too-long"))
    if sum(len(team.get("participant") or []) for _, team in by_type["CareTeam"]) > MAX_ROLES:
        issues.append(Issue("CarePlan.contained", f"a plan holds at most {MAX_ROLES} roles",
                            "too-long"))
    texts = [(f"CarePlan.contained[{i}].description.text", item["description"].get("text"))
             for i, item in by_type["Goal"]] + \
        [(f"CarePlan.contained[{i}].description", item.get("description"))
         for i, item in by_type["Task"]]
    issues.extend(Issue(expr, f"at most {MAX_TEXT} characters: what the registries' formats "
                        "carry", "too-long") for expr, text in texts
                  if len(text or "") > MAX_TEXT)


def _local(reference: dict[str, Any] | None) -> str | None:
    value = (reference or {}).get("reference")
    return value[1:] if isinstance(value, str) and value.startswith("#") else None


def _goal(i: int, item: dict[str, Any], household: str, lists: DomainLists,
          member_of: Members, issues: list[Issue]) -> Goal | None:
    expr = f"CarePlan.contained[{i}]"
    codings = [c for cat in item.get("category", []) for c in cat.get("coding", [])]
    domains = [d for c in codings if (d := lists.find(c.get("system"), c.get("code")))]
    if len(domains) != 1:
        issues.append(Issue(f"{expr}.category", "a goal names exactly one life domain from the "
                            f"lists this gateway accepts ({', '.join(lists.systems())}); "
                            "docs/household-plan.md lists the codes", "code-invalid"))
        return None
    member = None
    subject = item.get("subject")
    if subject is not None and subject.get("reference", "").startswith("Group/"):
        if subject["reference"] != f"Group/{household}":
            issues.append(Issue(f"{expr}.subject", "a goal of the whole household names the "
                                "plan's own Group", "value"))
            return None
    elif subject is not None:
        member = member_of(subject, f"{expr}.subject")
        if member is None:
            return None
    start = _day(item["startDate"], f"{expr}.startDate", issues) \
        if item.get("startDate") else None
    achievement = next((c.get("code") for c in
                        (item.get("achievementStatus") or {}).get("coding", [])), None)
    mandatory = next((e.get("valueCode") for e in item.get("extension", [])
                      if e.get("url") == MANDATORY), None)
    return Goal(id=item["id"], domain_system=domains[0].system, domain_code=domains[0].code,
                description=item["description"].get("text", ""),
                lifecycle=item["lifecycleStatus"], member=member,
                start=start, achievement=achievement,
                mandatory=mandatory)


def _action(i: int, item: dict[str, Any], goals: dict[str, Goal], member_of: Members,
            issues: list[Issue]) -> Action | None:
    expr = f"CarePlan.contained[{i}]"
    goal = _local(item.get("reasonReference"))
    if goal is None or goal not in goals:
        issues.append(Issue(f"{expr}.reasonReference", "an action names the goal it serves: "
                            "'#{id}' of a contained Goal", "value"))
        return None
    if item.get("for") is None:
        issues.append(Issue(f"{expr}.for", "an action is for a member of the household",
                            "required"))
        return None
    member = member_of(item["for"], f"{expr}.for")
    owner = _party(item.get("owner"), f"{expr}.owner", issues, organisations_only=True)
    if member is None or owner is None:
        return None
    due = ((item.get("restriction") or {}).get("period") or {}).get("end")
    return Action(id=item["id"], goal=goal, member=member, owner=owner,
                  description=item.get("description", ""), status=item["status"],
                  due=_day(due, f"{expr}.restriction.period.end", issues) if due else None)


def _score(i: int, item: dict[str, Any], goals: dict[str, Goal],
           issues: list[Issue]) -> Score | None:
    expr = f"CarePlan.contained[{i}]"
    codings = [c for c in (item.get("code") or {}).get("coding", [])
               if c.get("system") == SCORE_SYSTEM and c.get("code") in ("start", "current")]
    focus = [_local(f) for f in item.get("focus", [])]
    value = item.get("valueInteger")
    if len(codings) != 1:
        issues.append(Issue(f"{expr}.code", f"a score is coded {SCORE_SYSTEM} 'start' or "
                            "'current'", "code-invalid"))
    elif len(focus) != 1 or focus[0] not in goals:
        issues.append(Issue(f"{expr}.focus", "a score has one focus: '#{id}' of a contained "
                            "Goal", "value"))
    elif not isinstance(value, int) or not 1 <= value <= 5:
        issues.append(Issue(f"{expr}.valueInteger", "a self-reliance score is a whole number "
                            "from 1 (acute problems) to 5 (fully self-reliant)", "value"))
    elif not item.get("effectiveDateTime"):
        issues.append(Issue(f"{expr}.effectiveDateTime", "a score has the date it was given",
                            "required"))
    elif at := _day(item["effectiveDateTime"], f"{expr}.effectiveDateTime", issues):
        return Score(id=item["id"], goal=str(focus[0]), kind=codings[0]["code"], value=value,
                     at=at)
    return None


def _day(value: str, expr: str, issues: list[Issue]) -> date | None:
    """A full date (or a dateTime's day): FHIR also allows a year or a month alone, which a
    plan's dates (a start, a due date, a score's day) cannot be compared by."""
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        issues.append(Issue(expr, "a full date: YYYY-MM-DD", "value"))
        return None


def _roles(teams: list[tuple[int, dict[str, Any]]], member_of: Members,
           issues: list[Issue]) -> tuple[Role, ...]:
    if len(teams) > 1:
        issues.append(Issue(f"CarePlan.contained[{teams[1][0]}]", "a plan has one CareTeam: "
                            "its roles", "value"))
    roles: list[Role] = []
    for i, team in teams[:1]:
        for j, participant in enumerate(team.get("participant", [])):
            expr = f"CarePlan.contained[{i}].participant[{j}]"
            codes = [c.get("code") for r in participant.get("role", [])
                     for c in r.get("coding", []) if c.get("system") == ROLE_SYSTEM]
            if len(codes) != 1 or codes[0] not in PLAN_ROLES:
                issues.append(Issue(f"{expr}.role", f"one role of {ROLE_SYSTEM}: "
                                    f"{', '.join(PLAN_ROLES)}", "code-invalid"))
                continue
            member = participant.get("member")
            party = _member_party(member, f"{expr}.member", member_of, issues)
            if party is not None:
                roles.append(Role(codes[0], party))
    return tuple(roles)


def _member_party(member: dict[str, Any] | None, expr: str, member_of: Members,
                  issues: list[Issue]) -> Party | None:
    reference = (member or {}).get("reference", "")
    if reference.startswith("Patient/") or ((member or {}).get("type") == "Patient"):
        person = member_of(member or {}, expr)
        return Party(reference=f"Patient/{person}", kind="Patient") if person else None
    if reference.startswith("RelatedPerson/"):
        return Party(reference=reference, kind="RelatedPerson")
    return _party(member, expr, issues, organisations_only=False)


def _party(reference: dict[str, Any] | None, expr: str, issues: list[Issue],
           organisations_only: bool) -> Party | None:
    """An organisation (or, for a role, a professional) by identifier: a team, AGB, URA, KvK."""
    identifier = (reference or {}).get("identifier") or {}
    kind = (reference or {}).get("type", "Organization")
    allowed = ("Organization",) if organisations_only else ("Organization", "Practitioner")
    if not identifier.get("system") or not identifier.get("value") or kind not in allowed:
        issues.append(Issue(expr, f"names {' or '.join(allowed)} by identifier (system and "
                            "value: a team, AGB, URA, or KvK for a housing corporation)",
                            "required"))
        return None
    if not PARTY.fullmatch(f"{identifier['system']}|{identifier['value']}"):
        issues.append(Issue(f"{expr}.identifier", "an identifier's system and value are "
                            "visible ASCII without spaces, 300 characters together at most "
                            "(a code, as the registries carry it)", "value"))
        return None
    return Party(system=identifier["system"], value=identifier["value"], kind=kind)


def render(plan: Plan, plan_id: str, lists: DomainLists, extensions: list[dict[str, Any]],
           meta: dict[str, Any], review_due: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The plan as a CarePlan, items in id order (a stable rendering: the same plan, the same
    JSON, so versions compare). ``review_due``: goals flagged for review."""
    goals = [_render_goal(g, lists, plan, g.id in review_due)
             for g in sorted(plan.goals.values(), key=lambda g: g.id)]
    actions = [_render_action(a) for a in sorted(plan.actions.values(), key=lambda a: a.id)]
    scores = [_render_score(s) for s in sorted(plan.scores.values(), key=lambda s: s.id)]
    team = [{"resourceType": "CareTeam", "id": ROLES_ID,
             "participant": [_render_role(r) for r in plan.roles]}] if plan.roles else []
    return {
        "resourceType": "CarePlan", "id": plan_id, "meta": meta,
        **({"extension": extensions} if extensions else {}),
        **({"contained": [*team, *goals, *actions, *scores]}
           if team or goals or actions or scores else {}),
        "status": plan.status, "intent": "plan",
        **({"title": plan.title} if plan.title else {}),
        "subject": {"reference": f"Group/{plan.household}", "type": "Group"},
        **({"careTeam": [{"reference": f"#{ROLES_ID}"}]} if team else {}),
        **({"goal": [{"reference": f"#{g['id']}"} for g in goals]} if goals else {}),
        **({"activity": [{"reference": {"reference": f"#{a['id']}", "type": "Task"}}
                         for a in actions]} if actions else {}),
    }


def _member_reference(person: str | None, household: str) -> dict[str, str]:
    if person is None:
        return {"reference": f"Group/{household}", "type": "Group"}
    return {"reference": f"Patient/{person}", "type": "Patient"}


def _render_goal(goal: Goal, lists: DomainLists, plan: Plan, due: bool) -> dict[str, Any]:
    domain = lists.find(goal.domain_system, goal.domain_code)
    coding = {"system": goal.domain_system, "code": goal.domain_code,
              **({"display": domain.display} if domain else {})}
    scores = sorted((s for s in plan.scores.values() if s.goal == goal.id), key=lambda s: s.id)
    extensions = ([{"url": MANDATORY, "valueCode": goal.mandatory}] if goal.mandatory else []) \
        + ([{"url": REVIEW_DUE, "valueBoolean": True}] if due else [])
    return {
        "resourceType": "Goal", "id": goal.id,
        **({"extension": extensions} if extensions else {}),
        "lifecycleStatus": goal.lifecycle,
        **({"achievementStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
            "code": goal.achievement}]}} if goal.achievement else {}),
        "category": [{"coding": [coding]}],
        "description": {"text": goal.description},
        "subject": _member_reference(goal.member, plan.household),
        **({"startDate": goal.start.isoformat()} if goal.start else {}),
        **({"outcomeReference": [{"reference": f"#{s.id}"} for s in scores]} if scores else {}),
    }


def _identifier_reference(party: Party) -> dict[str, Any]:
    if party.reference:
        return {"reference": party.reference, "type": party.kind}
    return {"type": party.kind, "identifier": {"system": party.system, "value": party.value}}


def _render_action(action: Action) -> dict[str, Any]:
    return {
        "resourceType": "Task", "id": action.id, "status": action.status, "intent": "plan",
        **({"description": action.description} if action.description else {}),
        "for": {"reference": f"Patient/{action.member}", "type": "Patient"},
        "owner": _identifier_reference(action.owner),
        "reasonReference": {"reference": f"#{action.goal}"},
        **({"restriction": {"period": {"end": action.due.isoformat()}}} if action.due else {}),
    }


def _render_score(score: Score) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": score.id, "status": "final",
        "code": {"coding": [{"system": SCORE_SYSTEM, "code": score.kind,
                             "display": "zelfredzaamheid " + (
                                 "bij de start" if score.kind == "start" else "nu")}]},
        "focus": [{"reference": f"#{score.goal}"}],
        "effectiveDateTime": score.at.isoformat(), "valueInteger": score.value,
    }


def _render_role(role: Role) -> dict[str, Any]:
    return {"role": [{"coding": [{"system": ROLE_SYSTEM, "code": role.role}]}],
            "member": _identifier_reference(role.party)}


def without(resource: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """A rendered plan with these items (``Goal/g1``, ``Task/t1``, ...) taken out, and the
    references to them; ``meta.security`` then says something was withheld."""
    if not hidden:
        return resource
    gone = {key.split("/", 1)[1] for key in hidden}

    def kept(references: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``{"reference": "#g1"}``, or an activity's ``{"reference": {"reference": ...}}``."""
        return [r for r in references if _local(r if isinstance(r.get("reference"), str)
                                               else r.get("reference")) not in gone]
    contained = [{**item, **({"outcomeReference": kept(item["outcomeReference"])}
                             if item.get("outcomeReference") else {})}
                 for item in resource.get("contained", [])
                 if f"{item['resourceType']}/{item['id']}" not in hidden]
    result = {**resource, "meta": {**resource["meta"], "security": [REDACTED]},
              "contained": contained, "goal": kept(resource.get("goal", [])),
              "activity": kept(resource.get("activity", []))}
    for name in ("contained", "goal", "activity"):
        if not result[name]:
            del result[name]
    for item in contained:
        if "outcomeReference" in item and not item["outcomeReference"]:
            del item["outcomeReference"]
    return result
