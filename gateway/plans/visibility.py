"""What a system sees of a household plan: each goal is decided for the member it concerns
(every member, for a goal of the whole household) under ``household-plan``, for
identification and the category of its life domain, so upbringing and debt are decided apart;
an action also for its own member; a score goes with its goal. The unit that added an item
sees it whatever consent says (it is its own record), an action only with its goal (alone it
would name a goal withheld). Each read is logged per member: what was shown, and what was
withheld."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from consent import Recipient, Register
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.consents.decisions import decide_for
from schemas.events import ACTIVITY_PLAN
from schemas.plan_domains import PRESETS, DomainLists
from schemas.plans import Goal, Plan

IDENTIFICATION = "identification"
ALL_LISTS = DomainLists(tuple(PRESETS))  # stored plans keep codes of lists since switched off


@dataclass(frozen=True)
class Reader:
    """Who reads: a client, and the recipient it stands for (a team in a role: a unit)."""

    client_id: str
    recipient: Recipient

    @property
    def unit(self) -> str:
        """The unit an item it writes is from; the unit sees its own items whatever consent
        says, through any of its systems (its registry, its plan system)."""
        return f"{self.recipient.organization}/{self.recipient.role}"


def reader_of(caller: Caller) -> Reader:
    return Reader(caller.client_id, Recipient(caller.team_id or caller.client_id, caller.role))


@dataclass(frozen=True)
class View:
    """The keys (``Goal/g1``, ``Task/t1``, ...) a system sees, and those withheld from it."""

    shown: frozenset[str]
    hidden: frozenset[str]


class _Decider:
    """One consent decision per (person, category) for one reader, remembered for the read."""

    def __init__(self, session: Session, register: Register, reader: Reader) -> None:
        self.session, self.register, self.recipient = session, register, reader.recipient
        self.permitted: dict[str, set[str]] = defaultdict(set)
        self.denied: dict[str, set[str]] = defaultdict(set)

    def allows(self, person: str, category: str) -> bool:
        if category in self.permitted[person]:
            return True
        if category in self.denied[person]:
            return False
        wanted = frozenset({IDENTIFICATION, category})
        verdict = decide_for(self.session, self.register, ACTIVITY_PLAN, person,
                             (self.recipient,), categories=wanted).recipients[0]
        allowed = verdict.verdict == "permit" and verdict.permitted == wanted
        (self.permitted if allowed else self.denied)[person].add(category)
        return allowed


def _category(register: Register, goal: Goal) -> str:
    return register.life_domains[ALL_LISTS.life_domain(goal.domain_system, goal.domain_code)]


def view(session: Session, register: Register, reader: Reader, plan: Plan,
         sources: dict[str, str], everyone: list[str]) -> tuple[View, _Decider]:
    """What ``reader`` sees of ``plan``. ``sources``: who added each item; ``everyone``: the
    household's current members (a goal of the whole household concerns them all)."""
    decider = _Decider(session, register, reader)
    shown: set[str] = set()
    for goal in plan.goals.values():
        category = _category(register, goal)
        own = sources.get(f"Goal/{goal.id}") == reader.unit
        if own or all(decider.allows(p, category) for p in
                      ([goal.member] if goal.member else everyone)):
            shown.add(f"Goal/{goal.id}")
    for action in plan.actions.values():
        goal = plan.goals[action.goal]
        category = _category(register, goal)
        own = sources.get(f"Task/{action.id}") == reader.unit
        if f"Goal/{goal.id}" in shown and (own or decider.allows(action.member, category)):
            shown.add(f"Task/{action.id}")
    shown |= {f"Observation/{s.id}" for s in plan.scores.values() if f"Goal/{s.goal}" in shown}
    keys = {f"Goal/{k}" for k in plan.goals} | {f"Task/{k}" for k in plan.actions} | \
        {f"Observation/{k}" for k in plan.scores}
    return View(frozenset(shown), frozenset(keys - shown)), decider


def log_shown(session: Session, decider: _Decider, plan_id: str, version: int,
              everyone: list[str], kind: str = "read", action: str = "plan.read",
              actor: tuple[str, str] = ("client", "")) -> None:
    """One entry per member: the categories shown (a read, or a disclosure pushed to a
    system); one more where something was withheld. ``actor``: (actor type, id)."""
    for person in everyone:
        permitted, denied = decider.permitted[person], decider.denied[person]
        details = {"resource": f"CarePlan/{plan_id}", "version": version}
        common = {"activity_id": ACTIVITY_PLAN, "actor_type": actor[0],
                  "actor_id": actor[1] or None, "recipient": decider.recipient.organization,
                  "recipient_role": decider.recipient.role, "person_id": person}
        audit.record(session, kind=kind, action=action, categories=frozenset(permitted),
                     details=details, **common)
        if denied:
            audit.record(session, kind="denial", action=action, outcome="denied",
                         details={**details, "withheld": sorted(denied)}, **common)
