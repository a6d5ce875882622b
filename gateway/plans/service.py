"""The household plan's rules applied (docs/household-plan.md): drafting one per household,
changes merged three-way item by item, the household's agreement and the leaders' approvals,
and each read decided per member and per life domain. Never commits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from adapters.base import InvalidMessage, Issue
from consent import Register
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.fhir.resource_versions import keep, kept
from gateway.households.service import visible_household, visible_ids
from gateway.identity.repository import person_by_reference
from gateway.plans import fhir, repository, rules
from gateway.plans.merge import MergeConflict, three_way
from gateway.plans.present import Household, age, household_of, nameable, stored, view_of
from gateway.plans.sharing import share_plan
from gateway.plans.visibility import ALL_LISTS, log_shown, reader_of, view
from gateway.platform.db.models import CarePlanRow, HouseholdRow, new_id
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from schemas import is_valid_bsn, kind_of_system
from schemas.events import ACTIVITY_PLAN
from schemas.plan_domains import DomainLists
from schemas.plans import Part, Plan


def _member_of(session: Session, allowed: frozenset[str]) -> fhir.Members:
    """The resolver ``fhir.parse`` calls: a member named by ``Patient/{id}`` or BSN, who must
    be one the plan may name (``present.nameable``); 422 naming the element otherwise. Each
    reference is looked up once: a plan names its few members in every goal and action (a
    member's ``Patient/{id}`` not even once: the membership row names the person)."""
    found = {f"Patient/{person}": person for person in allowed}

    def resolve(reference: dict[str, Any], expr: str) -> str | None:
        identifier = reference.get("identifier") or {}
        text = reference.get("reference") or (
            identifier.get("value") if kind_of_system(identifier.get("system")) == "bsn"
            else None)
        if isinstance(text, str) and text in found:
            return found[text]
        person = person_by_reference(session, text) if isinstance(text, str) and (
            text.startswith("Patient/") or is_valid_bsn(text)) else None
        if person is None or person.id not in allowed:
            raise InvalidMessage([Issue(expr, "names a member of the plan's household: "
                                        "Patient/{id} or a BSN of someone in the Group "
                                        "today", "value")])
        found[str(text)] = person.id
        return person.id
    return resolve


def create(session: Session, register: Register, caller: Caller, lists: DomainLists,
           document: dict[str, Any]) -> CarePlanRow:
    """A new draft (a CarePlan) for a household the caller can read (422 naming
    ``CarePlan.subject`` else)."""
    reference = (document.get("subject") or {}).get("reference")
    household_id = reference.removeprefix("Group/") if isinstance(reference, str) else ""
    try:
        household_row = visible_household(session, caller, household_id)
    except NotFound:
        raise InvalidMessage([Issue("CarePlan.subject", "the subject is a household you can "
                                    "read: Group/{id}", "value")]) from None
    household = household_of(session, household_row.id, utcnow().date())
    plan = fhir.parse(document, household.id, lists,
                      _member_of(session, nameable(household, None)))
    return draft(session, register, caller, household, plan)


def draft(session: Session, register: Register, caller: Caller, household: Household,
          plan: Plan) -> CarePlanRow:
    """A new draft of ``household``'s plan; 409 when it has an open plan (change that)."""
    if (open_plan := repository.open_plan_of(session, household.id)) is not None:
        raise Conflict(f"this household has a plan: CarePlan/{open_plan.id}; change that one "
                       "(one household, one plan)", expression="CarePlan.subject")
    rules.check_new(plan)
    rules.check_change(replace(plan, goals={}), plan, caller.role)  # mandatory goals' owner
    now = utcnow()
    row = CarePlanRow(id=new_id(), household_id=household.id, status=plan.status,
                      version_id=1, content_version=1, client_id=caller.client_id,
                      agreement={}, approvals={},
                      sources={key: reader_of(caller).unit for key in _keys(plan)},
                      created_at=now, updated_at=now)
    row.resource = _render(row, plan)
    session.add(row)
    session.flush()
    _log_change(session, caller, row, plan, household, "plan.drafted")
    repository.remember_base(session, row.id, caller.client_id, row.version_id, _keys(plan))
    share_plan(session, register, row, caller.client_id)
    return row


def _keys(plan: Plan) -> set[str]:
    return {f"Goal/{k}" for k in plan.goals} | {f"Task/{k}" for k in plan.actions} | \
        {f"Observation/{k}" for k in plan.scores}


def _render(row: CarePlanRow, plan: Plan) -> dict[str, Any]:
    return fhir.render(plan, row.id, ALL_LISTS, [], {
        "versionId": str(row.version_id), "lastUpdated": row.updated_at.isoformat()})


def change(session: Session, register: Register, caller: Caller, lists: DomainLists,
           row: CarePlanRow, document: dict[str, Any], base_version: int | None
           ) -> CarePlanRow:
    """``document`` (a CarePlan) as a change of the plan (:func:`change_plan`)."""
    household = household_of(session, row.household_id, utcnow().date())
    allowed = nameable(household, stored(row.resource))
    incoming = fhir.parse(document, row.household_id, lists, _member_of(session, allowed))
    return change_plan(session, register, caller, row, household, incoming, base_version)


def change_plan(session: Session, register: Register, caller: Caller, row: CarePlanRow,
                household: Household, incoming: Plan, base_version: int | None
                ) -> CarePlanRow:
    """``incoming``, made on ``base_version`` (If-Match; else the version this system last
    read or wrote; else none: all it sends is new), merged with the current plan."""
    current = stored(row.resource)
    seen, _ = view(session, register, reader_of(caller), current, row.sources,
                   household.current)
    tracked = repository.base_of(session, row.id, caller.client_id)
    seen_version = base_version or (tracked.version_id if tracked else None)
    base = Plan(household=row.household_id, status=current.status)
    if seen_version:  # what the system saw of it: an item it did not see, it did not remove
        saw = tracked.seen["items"] if tracked and tracked.version_id == seen_version \
            else seen.shown
        base = _only(_version(session, row, seen_version), frozenset(saw))
    try:
        merged = three_way(base, current, incoming, seen.hidden)
    except MergeConflict as conflict:
        if conflict.hidden:
            raise InvalidMessage([Issue("CarePlan.contained", f"{', '.join(conflict.hidden)}: "
                                        "these ids are taken by items withheld from your "
                                        "system; choose other ids", "business-rule")],
                                 status=409) from None
        raise PreconditionFailed(
            f"{', '.join(conflict.keys)} changed both in the current version "
            f"{row.version_id} and in this change, made on version "
            f"{seen_version or 'none (first change by this system)'}: read the plan again "
            "and redo the change", expression="CarePlan.contained") from None
    return _apply(session, register, caller, row, current, merged, household, seen.hidden)


def _only(plan: Plan, keys: frozenset[str]) -> Plan:
    """The plan with only these of its goals, actions and scores."""
    return replace(plan, goals={k: g for k, g in plan.goals.items() if f"Goal/{k}" in keys},
                   actions={k: a for k, a in plan.actions.items() if f"Task/{k}" in keys},
                   scores={k: o for k, o in plan.scores.items()
                           if f"Observation/{k}" in keys})


def open_plan(session: Session, household_id: str) -> CarePlanRow | None:
    """The household's draft or active plan, locked until the change commits."""
    row = repository.open_plan_of(session, household_id)
    return locked(session, row) if row is not None else None


def _version(session: Session, row: CarePlanRow, version_id: int) -> Plan:
    return stored(resource_at(session, row, version_id))


def resource_at(session: Session, row: CarePlanRow, version_id: int) -> dict[str, Any]:
    """The stored version ``version_id`` of the plan; 412 naming If-Match when there is none."""
    if version_id == row.version_id:
        return row.resource
    for resource in kept(session, "CarePlan", row.id):
        if int(resource["meta"]["versionId"]) == version_id:
            return resource
    raise PreconditionFailed(f"no version {version_id} of this plan; the current one is "
                             f"{row.version_id}", expression="If-Match")


def _apply(session: Session, register: Register, caller: Caller, row: CarePlanRow,
           current: Plan, merged: Plan, household: Household,
           hidden: frozenset[str]) -> CarePlanRow:
    rules.check_change(current, merged, caller.role)
    if merged == current:
        repository.remember_base(session, row.id, caller.client_id, row.version_id,
                                 _keys(current) - hidden)
        return row
    part_of = rules.parts(current, household.minors, ALL_LISTS) | \
        rules.parts(merged, household.minors, ALL_LISTS)
    substantive = rules.changed_parts(current, merged, part_of)
    if substantive and merged.status in ("draft", "active"):
        merged = replace(merged, status="draft")
        row.content_version = row.version_id + 1
        row.agreement, row.approvals = {}, {}
    row.sources = {**row.sources, **_new_sources(row, current, merged, reader_of(caller).unit)}
    _new_version(session, row, merged)
    _log_change(session, caller, row, merged, household, "plan.changed")
    if _regie(current) != _regie(merged):
        _log_change(session, caller, row, merged, household, "plan.regie-transferred")
    repository.remember_base(session, row.id, caller.client_id, row.version_id,
                             _keys(merged) - hidden)
    share_plan(session, register, row, caller.client_id)
    return row


def _new_sources(row: CarePlanRow, current: Plan, merged: Plan, unit: str) -> dict[str, str]:
    """The writer of each item the change adds. An id once used stays its first writer's,
    in every version (what an old version shows is decided by it): another unit's id is a
    409, even for an item removed since."""
    added = _keys(merged) - _keys(current)
    if taken := sorted(k for k in added if row.sources.get(k, unit) != unit):
        raise InvalidMessage([Issue("CarePlan.contained", f"{', '.join(taken)}: these ids were "
                                    "used in this plan by another unit; choose other ids",
                                    "business-rule")], status=409)
    return {k: unit for k in added}


def _regie(plan: Plan) -> set[Any]:
    return {r.party for r in plan.roles if r.role == "regiehouder"}


def _new_version(session: Session, row: CarePlanRow, plan: Plan) -> None:
    keep(session, row.resource)
    row.version_id += 1
    row.updated_at = utcnow()
    row.status = plan.status
    row.resource = _render(row, plan)


def _log_change(session: Session, caller: Caller, row: CarePlanRow, plan: Plan,
                household: Household, action: str) -> None:
    """A change is processing of every member's data in the plan: one entry each."""
    for person in household.current:
        audit.record(session, kind="write", action=action, activity_id=ACTIVITY_PLAN,
                     actor_id=caller.client_id, recipient=caller.organization,
                     person_id=person, details={"resource": f"CarePlan/{row.id}",
                                                "version": row.version_id,
                                                "status": plan.status})


def agree(session: Session, register: Register, caller: Caller, row: CarePlanRow,
          who: str) -> CarePlanRow:
    """The household agreed to the plan as it is now: ``who`` (``Patient/{id}``) is a member
    of 16 or older (422 naming ``who`` else)."""
    _require_draft(row)
    household = household_of(session, row.household_id, utcnow().date())
    person = person_by_reference(session, who) if who.startswith("Patient/") else None
    if person is None or person.id not in household.present or (
            age(person.birth_date, utcnow().date()) < 16 if person.birth_date
            else person.id in household.minors):  # no birth date: a child or the unborn
        raise InvalidMessage([Issue("Parameters.parameter[who]", "who agreed is a member of "
                                    "the household aged 16 or over: Patient/{id}", "value")])
    row.agreement = {"by": person.id, "at": utcnow().isoformat(),
                     "version": row.content_version}
    return _settle(session, register, caller, row, household, "plan.agreed")


def approve(session: Session, register: Register, caller: Caller, row: CarePlanRow
            ) -> CarePlanRow:
    """The acting team leader signs off the part of the plan their unit has authority over
    (youth or adult); 403 naming the part when the actor is not a leader of it, 422 when
    the plan has no such part or the leader cannot see all of it."""
    _require_draft(row)
    actor = caller.actor
    if actor is None or actor.role != "team-leader" or actor.unit not in ("youth", "adult"):
        raise Forbidden("a plan is approved by a team leader of the youth or adult unit: "
                        "exchange a token naming the acting team leader (docs/acting-person.md)")
    household = household_of(session, row.household_id, utcnow().date())
    plan = stored(row.resource)
    part: Part = "youth" if actor.unit == "youth" else "adult"
    goals = {g for g, p in rules.parts(plan, household.minors, ALL_LISTS).items() if p == part}
    if not goals:
        raise InvalidMessage([Issue("CarePlan.goal", f"this plan has no {part} part for a "
                                    f"{part} team leader to approve", "business-rule")])
    seen, _ = view(session, register, reader_of(caller), plan, row.sources, household.current)
    actions = {f"Task/{a.id}" for a in plan.actions.values() if a.goal in goals}
    if any(f"Goal/{g}" in seen.hidden for g in goals) or actions & seen.hidden:
        raise InvalidMessage([Issue("CarePlan.goal", f"the {part} part holds goals or actions "
                                    "withheld from your team: it can approve only what it can "
                                    "read", "business-rule")])
    row.approvals = {**row.approvals, part: {"leader": actor.id, "client": caller.client_id,
                                             "at": utcnow().isoformat(),
                                             "version": row.content_version}}
    return _settle(session, register, caller, row, household, "plan.approved")


def _require_draft(row: CarePlanRow) -> None:
    if row.status != "draft":
        raise InvalidMessage([Issue("CarePlan.status", f"this plan is {row.status}; the "
                                    "household agrees and leaders approve a draft",
                                    "business-rule")], status=409)


def _settle(session: Session, register: Register, caller: Caller, row: CarePlanRow,
            household: Household, action: str) -> CarePlanRow:
    """A new version recording the agreement or approval; active once the household agreed
    and each part is approved, all on the current content."""
    plan = stored(row.resource)
    needed = set(rules.parts(plan, household.minors, ALL_LISTS).values())
    agreed = row.agreement.get("version") == row.content_version
    approved = {p for p, a in row.approvals.items() if a["version"] == row.content_version}
    if agreed and needed <= approved:
        plan = replace(plan, status="active")
    _new_version(session, row, plan)
    _log_change(session, caller, row, plan, household, action)
    share_plan(session, register, row, caller.client_id)
    return row


def shown(session: Session, register: Register, caller: Caller, row: CarePlanRow,
          resource: dict[str, Any] | None = None, today: date | None = None) -> dict[str, Any]:
    """The plan (or an older version, ``resource``) as ``caller`` may see it: items withheld
    from it left out (``meta.security`` says something was), the gateway's facts as
    extensions, the read logged per member, and this version remembered as the system's
    base for its next change."""
    resource = resource or row.resource
    plan = stored(resource)
    household = household_of(session, row.household_id, utcnow().date())
    seen, decider = view(session, register, reader_of(caller), plan, row.sources, household.current)
    version = int(resource["meta"]["versionId"])
    log_shown(session, decider, row.id, version, household.current,
              actor=("client", caller.client_id))
    if resource is row.resource:
        repository.remember_base(session, row.id, caller.client_id, row.version_id, seen.shown)
    return view_of(row, plan, seen, resource["meta"], household, today or utcnow().date())


def plan_of(session: Session, caller: Caller, plan_id: str) -> CarePlanRow:
    """A plan of a household the caller can read; 404 else, as for an unknown one."""
    row = session.get(CarePlanRow, plan_id)
    if row is None:
        raise NotFound("no such CarePlan", expression="CarePlan.id")
    try:
        visible_household(session, caller, row.household_id)
    except NotFound:
        raise NotFound("no such CarePlan", expression="CarePlan.id") from None
    return row


def locked(session: Session, row: CarePlanRow) -> CarePlanRow:
    """Locked (PostgreSQL) until the request commits, so two changes queue and merge."""
    session.refresh(row, with_for_update=True)
    return row


def search_query(session: Session, caller: Caller, households: list[str] | None,
                 members: list[str] | None, statuses: list[str] | None
                 ) -> Select[tuple[CarePlanRow]]:
    """Plans of households the caller can read, by household, member and status."""
    visible = visible_ids(session, caller, members)
    if households is not None:
        visible = visible.where(HouseholdRow.id.in_(households))
    return repository.search(visible, statuses)
