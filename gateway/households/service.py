"""Households: registered from a source system's claim (adapters) or a client's Group (as the
gp-referral adapter parsed it), replaced by a Group (PUT). Never commits.

The same-household rule ("one home, one household"), in order (docs/households.md):

1. same source id: a household id (``Group.identifier``) the gateway holds is that household;
2. same adults: else, if the registration's current adult members (parent, partner) are all
   current adult members of exactly one household, it is that household;
3. ambiguous: if they are together in more than one, or in one the registering system may
   not see (it neither registered it nor helps a member), never a guess: a new household,
   and an identity review (fact ``household``) per candidate;
4. else a new household.

Joining a household adds the registration's ids and new members to it; a membership it has
keeps its role and period (changing one is a PUT of the Group). Every change is a version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.fhir.resource_versions import keep
from gateway.households import repository
from gateway.households.render import render_group
from gateway.identity.matching import Identified, identify_all
from gateway.identity.merges import canonical_ids, merge_sets, person_ids
from gateway.identity.service import queue_conflict
from gateway.involvements.access import require_involved
from gateway.platform.db.driver import DriverInsert
from gateway.platform.db.inserts import insert_loaded
from gateway.platform.db.models import HouseholdIdentifier, HouseholdMember, HouseholdRow, Person
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Conflict, Forbidden, NotFound, Unprocessable
from gateway.platform.logging import get_logger
from schemas import GroupClaim, GroupMemberClaim, Identifier, PersonClaim
from schemas.household import (
    ADULT_ROLES,
    HouseholdClaim,
    MemberRole,
)

log = get_logger()
_MEMBERS = DriverInsert(HouseholdMember.__table__)
_IDENTIFIERS = DriverInsert(HouseholdIdentifier.__table__)
SOURCE_REF = "Group"  # what identity matching names as the message a member came in


@dataclass(frozen=True)
class Membership:
    """A member as registered: a person, a role, a period by the day (end: the last day);
    ``new``: a person identity matching created in this transaction, so in no merge set and
    no household yet (nothing to read about them)."""

    person_id: str
    role: MemberRole
    start: date | None = None
    end: date | None = None
    new: bool = False

    def current(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Registered:
    household: HouseholdRow
    created: bool  # False: the registration joined a household the gateway had


def register_household(session: Session, caller: Caller, claim: HouseholdClaim,
                       persons: Mapping[PersonClaim, Identified] | None = None) -> HouseholdRow:
    """A source system's household (adapters): members identified by identity matching
    (``persons``: as the caller identified them already), then the same-household rule. 422
    naming ``Group.member[i]...`` for a bad member."""
    group = GroupClaim(identifiers=(claim.local,) if claim.local else (), members=tuple(
        GroupMemberClaim(person=m.person, role=m.role, start=m.start, end=m.end)
        for m in claim.members))
    return _register(session, caller, list(group.identifiers),
                     _memberships(session, caller, group, frozenset(), persons)).household


def register_group(session: Session, caller: Caller, group: GroupClaim) -> Registered:
    """``POST /fhir/Group``: as ``register_household``; a ``Patient/{id}`` member must be a
    person the caller's organisation helps (403 else, the same for an unknown one)."""
    return _register(session, caller, list(group.identifiers),
                     _memberships(session, caller, group, frozenset()))


def replace_group(session: Session, caller: Caller, household: HouseholdRow,
                  group: GroupClaim) -> HouseholdRow:
    """``PUT /fhir/Group/{id}``: the members, roles and periods become those given (a
    member leaves by a period end, or by being left out); ids given are added, and the ids
    other systems gave are kept. A new version when anything changed."""
    old = {m.person_id: m for m in repository.members(session, household.id)}
    members = _memberships(session, caller, group, frozenset(old))
    _check_unique(_residents(session, members))
    held = repository.holders(session, group.identifiers)
    _check_holders(held, group.identifiers, household.id)
    before = group_of(session, household)
    added = []
    for position, member in enumerate(members):
        row = old.pop(member.person_id, None)
        if row is None:
            added.append((position, member))
            continue
        changed = (row.role, row.period_start, row.period_end) != (member.role, member.start,
                                                                   member.end)
        row.position, row.role = position, member.role
        row.period_start, row.period_end = member.start, member.end
        if changed:
            _audit(session, caller, "household.member_changed", household.id, member)
    for row in old.values():
        session.delete(row)
        audit.record(session, kind="write", action="household.member_removed",
                     actor_id=caller.client_id, person_id=row.person_id,
                     details={"household": household.id})
    _add_members(session, caller, household.id, added)
    _add_identifiers(session, caller, household.id, group.identifiers, held)
    new_version(session, household, before)
    return household


def visible_household(session: Session, caller: Caller, household_id: str,
                      to_change: bool = False) -> HouseholdRow:
    """A household the caller registered (or gave an id of), or whose members its
    organisation helps; 404 else, the same as for an unknown one. To change it the caller
    must have registered it (403 else), and it is locked (PostgreSQL) until the request
    commits, so two updates queue."""
    row = repository.visible(session, caller, household_id)
    if row is None:
        raise NotFound("no such Group", expression="Group.id")
    if to_change:
        if not repository.is_registered_by(session, caller, household_id):
            raise Forbidden("only a system that registered this household (or gave an id of "
                            "it) may change it; register yours with POST to join it")
        session.refresh(row, with_for_update=True)
    return row


def search_query(session: Session, caller: Caller, member_ids: list[str] | None,
                 identifier: ColumnElement[bool] | None) -> Select[tuple[HouseholdRow]]:
    """The households the caller may see, with these members (any record of a merged
    resident), or a matching source id."""
    return repository.search(caller, None if member_ids is None else
                             [i for m in member_ids for i in person_ids(session, m)],
                             identifier)


def shown(session: Session, caller: Caller, group: dict[str, Any]) -> dict[str, Any]:
    """A Group as read by ``caller``, the read logged once per member it shows, so each
    member's access report lists who read their household."""
    for member in group["member"]:
        audit.record(session, kind="read", action="household.read", actor_id=caller.client_id,
                     recipient=caller.organization,
                     person_id=member["entity"]["reference"].removeprefix("Patient/"),
                     details={"resource": f"Group/{group['id']}",
                              "version": group["meta"]["versionId"]})
    return group


def group_of(session: Session, household: HouseholdRow) -> dict[str, Any]:
    """The household as it is now, as FHIR."""
    return render_group(household, repository.members(session, household.id),
                        repository.identifiers(session, household.id))


def _register(session: Session, caller: Caller, identifiers: list[Identifier],
              members: list[Membership]) -> Registered:
    sets = merge_sets(session, [m.person_id for m in members if not m.new])
    sets.update((m.person_id, (m.person_id,)) for m in members if m.new)
    residents = [sets[m.person_id][0] for m in members]
    _check_unique(residents)
    held = repository.holders(session, identifiers)
    household, rule, candidates = _same_household(session, caller, held, members, sets)
    before = group_of(session, household) if household is not None else None
    if household is None:
        household = HouseholdRow(client_id=caller.client_id)
        insert_loaded(session, household)
    had = repository.members(session, household.id) if before is not None else []
    known = set(canonical_ids(session, [m.person_id for m in had]).values())
    new = [member for member, resident in zip(members, residents, strict=True)
           if resident not in known]
    _add_members(session, caller, household.id, list(enumerate(new, start=len(had))))
    _add_identifiers(session, caller, household.id, identifiers, held)
    if before is not None:
        new_version(session, household, before)
    for candidate in candidates:  # rule 3: for a person to decide
        queue_conflict(session, person_id=_current_adults(members)[0].person_id, fact="household",
                       known=candidate, claimed=household.id,
                       source_ref=f"Group/{household.id}", client_id=caller.client_id)
    log.info("household_registered", resource_id=household.id, rule=rule,
             client_id=caller.client_id)
    return Registered(household, before is None)


def _same_household(session: Session, caller: Caller, held_ids: dict[Identifier, str],
                    members: list[Membership], sets: dict[str, tuple[str, ...]]
                    ) -> tuple[HouseholdRow | None, str, list[str]]:
    """The same-household rule: the household it is (or None: a new one), the rule that
    said so, and the candidates a new one is to be reviewed against.

    A registration joins only a household the caller may see already (registered it, gave
    an id of it, or helps a member now): knowing a parent's BSN or another system's id is
    not enough to read or change a household. An id held by one it cannot see is a 409
    that shows nothing of it; same adults in one it cannot see is for review (rule 3).
    ``held_ids``: the household holding each of the registration's ids (those held);
    ``sets``: each member's merge set."""
    held = set(held_ids.values())
    if len(held) > 1:
        raise Conflict("these household ids belong to different households: give ids of one",
                       expression="Group.identifier")
    if held:
        household = repository.visible(session, caller, held.pop())
        if household is None:
            raise Conflict("a household id given is held by another system's registration; "
                           "give your own system's id", expression="Group.identifier")
        return household, "source-id", []
    adults = _current_adults(members)
    # a new person is in no household: then no household has all these adults
    candidates = repository.households_with_adults(
        session, [sets[m.person_id] for m in adults], _today()) \
        if adults and not any(m.new for m in adults) else []
    if len(candidates) == 1 and (household := repository.visible(session, caller,
                                                                 candidates[0])) is not None:
        return household, "same-adults", []
    return None, "ambiguous" if candidates else "new", candidates


def _current_adults(members: list[Membership]) -> list[Membership]:
    return [m for m in members if m.role in ADULT_ROLES and m.current(_today())]


def _today() -> date:
    return utcnow().date()


def _memberships(session: Session, caller: Caller, group: GroupClaim, known: frozenset[str],
                 persons: Mapping[PersonClaim, Identified] | None = None) -> list[Membership]:
    """Each ``Group.member`` as a person: ``Patient/{id}`` a member already, or one the
    caller's organisation helps (403 else); an identifier through identity matching, all at
    once (unless the caller did: ``persons``)."""
    if persons is None:
        persons = _identified(session, caller, group)
    members = []
    for i, entry in enumerate(group.members):
        new = False
        if entry.person is not None:
            person, new = persons[entry.person].person, persons[entry.person].created
        elif entry.person_id in known:
            person = cast(Person, session.get(Person, entry.person_id))
        else:
            person = require_involved(session, caller, session.get(Person, entry.person_id),
                                      None, "household.refused")
        members.append(_unborn_checked(i, person, Membership(person.id, entry.role,
                                                             entry.start, entry.end, new)))
    return members


def _identified(session: Session, caller: Caller,
                group: GroupClaim) -> dict[PersonClaim, Identified]:
    claims = [entry.person for entry in group.members if entry.person is not None]
    return identify_all(session, claims, client_id=caller.client_id, source_ref=SOURCE_REF)


def _unborn_checked(i: int, person: Person, member: Membership) -> Membership:
    """An unborn child has no BSN and no birth date yet: a person with either is born."""
    if member.role == "unborn" and (person.bsn or person.birth_date):
        raise Unprocessable("an unborn child has no BSN or birth date; once born, give the "
                            "role 'child'", expression=f"Group.member[{i}].extension")
    return member


def _residents(session: Session, members: list[Membership]) -> list[str]:
    """The resident (merge set's canonical id) each member is."""
    canonical = canonical_ids(session, [m.person_id for m in members])
    return [canonical[m.person_id] for m in members]


def _check_unique(residents: list[str]) -> None:
    """Each resident once (two records of one merged resident are one)."""
    seen: dict[str, int] = {}
    for i, resident in enumerate(residents):
        if resident in seen:
            raise Unprocessable(f"this person is Group.member[{seen[resident]}] already: "
                                "give each member once", expression=f"Group.member[{i}].entity")
        seen[resident] = i


def _check_holders(held: dict[Identifier, str], identifiers: tuple[Identifier, ...],
                   household_id: str) -> None:
    for i, identifier in enumerate(identifiers):
        if held.get(identifier, household_id) != household_id:
            raise Conflict("another household has this id", expression=f"Group.identifier[{i}]")


def _add_members(session: Session, caller: Caller, household_id: str,
                 added: list[tuple[int, Membership]]) -> None:
    """New members (each at its ``Group.member`` position), in one statement, each logged."""
    if not added:
        return
    _MEMBERS.run(session.connection(), [
        {"household_id": household_id, "person_id": member.person_id, "position": position,
         "role": member.role, "period_start": member.start, "period_end": member.end}
        for position, member in added])
    for _, member in added:
        _audit(session, caller, "household.member_added", household_id, member)


def _add_identifiers(session: Session, caller: Caller, household_id: str,
                     identifiers: tuple[Identifier, ...] | list[Identifier],
                     held: dict[Identifier, str]) -> None:
    """The ids not held yet (``held``: by which household each held one is)."""
    new = [identifier for identifier in dict.fromkeys(identifiers) if identifier not in held]
    if new:
        _IDENTIFIERS.run(session.connection(), [
            {"system": identifier.system, "value": identifier.value,
             "household_id": household_id, "client_id": caller.client_id}
            for identifier in new])


def _audit(session: Session, caller: Caller, action: str, household_id: str,
           member: Membership) -> None:
    audit.record(session, kind="write", action=action, actor_id=caller.client_id,
                 person_id=member.person_id,
                 details={"household": household_id, "role": member.role})


def new_version(session: Session, household: HouseholdRow, before: dict[str, Any]) -> None:
    """Keep ``before`` and count a version, if the household changed since."""
    session.flush()
    after = group_of(session, household)
    if {**after, "meta": None} != {**before, "meta": None}:
        keep(session, before)
        household.version_id += 1
        household.updated_at = utcnow()


def visible_ids(session: Session, caller: Caller, member_ids: list[str] | None
                ) -> Select[tuple[str]]:
    """The ids of the households ``search_query`` finds (for a search by household)."""
    return search_query(session, caller, member_ids, None).with_only_columns(HouseholdRow.id)
