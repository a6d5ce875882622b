"""What a change to a plan may do, and what it sets in motion (docs/household-plan.md):

- a plan starts as a draft and becomes active only when the household has agreed and a team
  leader has approved each of its parts (youth, adult), all on the same version;
- an active plan whose goals or actions change in substance (one added or removed, or its
  domain, member, description, owner or goal changed) is a draft again until agreed and
  approved anew; progress does not need that (the status of a goal or action, a score, a due
  date, the title, the roles);
- completed and revoked are final; a plan holding a mandatory goal is ended by that goal's
  owner only (ending it would lift the goal);
- a mandatory goal (youth protection's minimum requirements, *bodemeisen*) is set, changed
  and lifted by its owner only;
- an adult's goal open longer than six months is due for review (the adult unit's limit)."""

from __future__ import annotations

from datetime import date, timedelta

from adapters.base import InvalidMessage, Issue
from schemas.plan_domains import DomainLists
from schemas.plans import Action, Goal, Part, Plan

ADULT_LIMIT = timedelta(days=183)  # six months, the adult unit's limit
YOUTH_DOMAINS = frozenset({"parenting", "education"})
# who owns a mandatory goal, by the client's recipient role
OWNERS = {"youth-protection": "jeugdbescherming"}
FINAL = ("completed", "revoked")
_MOVES = {"draft": {"draft", "revoked"}, "active": {"active", "completed", "revoked"}}


def check_new(plan: Plan) -> None:
    if plan.status != "draft":
        raise InvalidMessage([Issue("CarePlan.status", "a plan starts as a draft; it becomes "
                                    "active when the household agreed and a team leader "
                                    "approved it ($agree, $approve)", "value")])


def check_change(before: Plan, after: Plan, role: str) -> None:
    """422 naming the element when ``after`` may not follow ``before`` for a client whose
    recipient role is ``role``."""
    if before.status in FINAL:
        raise InvalidMessage([Issue("CarePlan.status", f"this plan is {before.status}: a "
                                    "final status; draft a new plan for the household",
                                    "business-rule")], status=409)
    if after.status not in _MOVES[before.status]:
        raise InvalidMessage([Issue("CarePlan.status", f"a {before.status} plan cannot become "
                                    f"{after.status} by a change" + (
                                        "; it becomes active by $agree and $approve"
                                        if after.status == "active" else ""),
                                    "business-rule")])
    issues = [Issue(f"CarePlan.contained[id={goal_id}]", "a mandatory goal of "
                    f"{owner} is set, changed and lifted by {owner} only", "business-rule")
              for goal_id, owner in _mandatory_changes(before, after)
              if OWNERS.get(owner) != role]
    if after.status in FINAL and after.status != before.status:
        # ending the plan would lift its mandatory goals with it
        issues += [Issue("CarePlan.status", f"this plan holds a mandatory goal of {owner}: "
                         f"only {owner} ends it ({after.status})", "business-rule")
                   for owner in sorted({g.mandatory for g in before.goals.values()
                                        if g.mandatory}) if OWNERS.get(owner) != role]
    if issues:
        raise InvalidMessage(issues)


def _mandatory_changes(before: Plan, after: Plan) -> list[tuple[str, str]]:
    changed = []
    for goal_id in sorted(before.goals.keys() | after.goals.keys()):
        old, new = before.goals.get(goal_id), after.goals.get(goal_id)
        owner = (old and old.mandatory) or (new and new.mandatory)
        if owner and old != new:
            changed.append((goal_id, owner))
    return changed


def _substance(item: Goal | Action) -> tuple[object, ...]:
    if isinstance(item, Goal):
        return (item.domain_system, item.domain_code, item.member, item.description,
                item.mandatory)
    return (item.goal, item.member, item.owner, item.description)


def changed_parts(before: Plan, after: Plan, part_of: dict[str, Part]) -> set[Part]:
    """The parts whose goals or actions changed in substance. ``part_of``: each goal's part,
    of both versions."""
    changed: set[Part] = set()
    for key in before.goals.keys() | after.goals.keys():
        old_goal, new_goal = before.goals.get(key), after.goals.get(key)
        if old_goal is None or new_goal is None or _substance(old_goal) != _substance(new_goal):
            changed.add(part_of.get(key, "adult"))
    for key in before.actions.keys() | after.actions.keys():
        old_action, new_action = before.actions.get(key), after.actions.get(key)
        either = old_action or new_action
        assert either is not None  # the key is in one of the two
        if old_action is None or new_action is None or \
                _substance(old_action) != _substance(new_action):
            changed.add(part_of.get(either.goal, "adult"))
    return changed


def parts(plan: Plan, minors: frozenset[str], lists: DomainLists) -> dict[str, Part]:
    """Each goal's part: youth for a minor's goal, adult for an adult's; a goal of the whole
    household is youth on upbringing and school, adult otherwise."""
    result: dict[str, Part] = {}
    for goal in plan.goals.values():
        if goal.member is not None:
            result[goal.id] = "youth" if goal.member in minors else "adult"
        else:
            domain = lists.find(goal.domain_system, goal.domain_code)
            result[goal.id] = "youth" if domain and domain.life_domain in YOUTH_DOMAINS \
                else "adult"
    return result


def review_due(plan: Plan, minors: frozenset[str], today: date) -> frozenset[str]:
    """Goals of adults, open since more than six months: due for review, not refused."""
    return frozenset(g.id for g in plan.goals.values()
                     if g.member is not None and g.member not in minors and g.start
                     and g.lifecycle in ("active", "accepted", "planned")
                     and today - g.start > ADULT_LIMIT)
