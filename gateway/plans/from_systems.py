"""A registry-style system's plan (its adapter's ``ChangePlan``) applied as a FHIR change is:
the household by the system's own id for it, the persons as identity matching found them
(members of the household only), then a draft or a change merged three-way (service).

Such a system knows a goal's life domain in its own codes, and nothing of a mandatory mark:
a goal it sends keeps the list code and the mark the plan has for it, so a round trip through
its format changes nothing (docs/household-plan.md)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from adapters.base import InvalidMessage, Issue
from consent import Register
from gateway.auth.bearer import Caller
from gateway.households.repository import holders
from gateway.households.service import visible_household
from gateway.plans import fhir, service
from gateway.plans.present import Household, household_of, nameable, stored
from gateway.plans.visibility import ALL_LISTS
from gateway.platform.db.models import CarePlanRow
from gateway.platform.db.types import utcnow
from gateway.platform.errors import NotFound
from schemas.person import PersonClaim
from schemas.plan_domains import PRESETS
from schemas.plans import Action, ChangePlan, Goal, Party, PersonRef, Plan, Role

GATEWAY_CODES = PRESETS["gateway"][0].system
ROLES = "CarePlan.careTeam"


def apply_change(session: Session, register: Register, caller: Caller, message: ChangePlan,
                 persons: Mapping[PersonClaim, str]) -> CarePlanRow:
    """The system's plan for its household: a new draft, or a change of the open plan.
    ``persons``: the person id of each person the message names."""
    household = _household(session, caller, message)
    row = service.open_plan(session, household.id)
    current = stored(row.resource) if row is not None else None
    plan = _checked(_plan(message, household, persons, current))
    if row is None:
        return service.draft(session, register, caller, household, plan)
    return service.change_plan(session, register, caller, row, household, plan,
                               message.base_version)


def _checked(plan: Plan) -> Plan:
    """The plan held to every rule a FHIR change is (lengths, identifiers, limits), by
    reading it back as the CarePlan it renders to: one place decides what a plan may hold."""
    resource = fhir.render(plan, "checked", ALL_LISTS, [], {"versionId": "1"})
    return fhir.parse(resource, plan.household, ALL_LISTS,
                      lambda reference, _: str(reference["reference"]).removeprefix("Patient/"))


def _household(session: Session, caller: Caller, message: ChangePlan) -> Household:
    """The household the system registered under this id, if the caller may read it; 422
    naming it else (the same for one that is not there)."""
    found = holders(session, [message.household]).get(message.household)
    try:
        row = visible_household(session, caller, found or "")
    except NotFound:
        raise InvalidMessage([Issue("CarePlan.subject", "no household of yours with this id: "
                                    "register it first", "value")]) from None
    return household_of(session, row.id, utcnow().date())


def _plan(message: ChangePlan, household: Household, persons: Mapping[PersonClaim, str],
          current: Plan | None) -> Plan:
    allowed = nameable(household, current)

    def member(claim: PersonRef, expression: str) -> str:
        person = persons[claim] if isinstance(claim, PersonClaim) else claim
        if person not in allowed:
            raise InvalidMessage([Issue(expression, "names a member of the plan's household",
                                        "value")])
        return person
    kept = current.goals if current else {}
    goals = {}
    for claim in message.goals:
        before = kept.get(claim.id)
        same_domain = before is not None and \
            ALL_LISTS.life_domain(before.domain_system, before.domain_code) == claim.life_domain
        goals[claim.id] = Goal(
            id=claim.id, domain_system=before.domain_system if same_domain and before else
            GATEWAY_CODES, domain_code=before.domain_code if same_domain and before else
            claim.life_domain, description=claim.description, lifecycle=claim.status,
            member=member(claim.member, f"CarePlan.contained[id={claim.id}].subject")
            if claim.member else None, start=claim.start,
            achievement=before.achievement if before else None,
            mandatory=before.mandatory if before else None)
    actions = {a.id: Action(id=a.id, goal=a.goal, member=member(
        a.member, f"CarePlan.contained[id={a.id}].for"), owner=a.owner,
        description=a.description, status=a.status, due=a.due) for a in message.actions}
    for action in actions.values():
        if action.goal not in goals:
            raise InvalidMessage([Issue(f"CarePlan.contained[id={action.id}].reasonReference",
                                        "an action names a goal of the plan", "value")])
    for score in message.scores:
        if score.goal not in goals:
            raise InvalidMessage([Issue(f"CarePlan.contained[id={score.id}].focus",
                                        "a score names a goal of the plan", "value")])
    roles = tuple(Role(r.role, Party(reference=f"Patient/{member(r.member, ROLES)}",
                                     kind="Patient") if r.member else r.party or Party())
                  for r in message.roles)
    return Plan(household=household.id,
                status=message.status or (current.status if current else "draft"),
                title=current.title if current else None, goals=goals, actions=actions,
                scores={s.id: s for s in message.scores}, roles=roles)
