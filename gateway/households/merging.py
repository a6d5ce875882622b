"""Merging two households found to be one home, and undoing it (docs/households.md).

Unlike a person merge (``gateway.identity.merging``), which moves nothing, a household merge
moves rows, so the same-household rule, ``member`` search and parental authority need no
merge-aware queries: the merged household's memberships and source ids go to the survivor
(a resident the survivor has already keeps the survivor's role and period, as when a
registration joins a household), and the merged household is left empty and gone (a read is
410 naming the survivor). ``household_merges.moved`` records the merged household as it was,
so an undo restores it: its memberships (the same rows where they are still the survivor's),
roles, periods and order, and its source ids. Both households get a new version each time.

Merges stay stars, as person merges do: a household merged away is not merged again, and
nothing is merged into it, until the merge is undone. Merge and undo are logged under every
member of both households, with the households' and the merge's ids. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.households import repository
from gateway.households.service import group_of, new_version, visible_household
from gateway.identity.merges import canonical_id
from gateway.identity.merging import ACTIVITY_IDENTITY, actor, claim_undo, locked_pair
from gateway.platform.db.models import (
    HouseholdIdentifier,
    HouseholdMember,
    HouseholdMerge,
    HouseholdRow,
    IdentityReview,
)
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Conflict, Gone
from gateway.platform.logging import get_logger

log = get_logger()


def merge(session: Session, caller: Caller | None, *, survivor_id: str, merged_id: str,
          by: str, review_id: str | None = None, comment: str | None = None,
          expressions: tuple[str, str] = ("survivor", "merged")) -> HouseholdMerge:
    """``merged``'s members and source ids move to ``survivor``. Refused (422/409 naming
    ``expressions``' element, nothing changed): an unknown household, a household with
    itself, one merged away already, a survivor merged away, or a merged household that
    others are merged into. Both household rows are locked for the check (PostgreSQL)."""
    survivor_expr, merged_expr = expressions
    survivor, merged = locked_pair(session, HouseholdRow, survivor_id, merged_id, expressions,
                                   "household")
    if (into := repository.survivor_of(session, merged_id)) is not None:
        raise Conflict(f"this household is merged into Group/{into} already; undo that merge "
                       "first", expression=merged_expr)
    if (into := repository.survivor_of(session, survivor_id)) is not None:
        raise Conflict(f"this household is merged into Group/{into}; merge into that one",
                       expression=survivor_expr)
    if repository.has_merged_into_it(session, merged_id):
        raise Conflict("other households are merged into this one; merge the other way round",
                       expression=merged_expr)
    before = group_of(session, survivor), group_of(session, merged)
    row = HouseholdMerge(survivor_id=survivor_id, merged_id=merged_id, review_id=review_id,
                         merged_by=by, merged_at=utcnow(), comment=comment,
                         moved=_move(session, survivor_id, merged_id))
    session.add(row)
    new_version(session, survivor, before[0])
    new_version(session, merged, before[1])
    _logged(session, caller, by, "household.merged", row)
    return row


def merge_reviewed(session: Session, caller: Caller | None, review: IdentityReview,
                   by: str) -> str | None:
    """A household review resolved as one home: the new household (``claimed_value``) is
    merged into the known one (``known_value``), each as the household it is now (the
    survivor, should it have been merged since). Should the new one have absorbed another
    already (a registration reviewed against two candidates), the known one joins it
    instead. None when the two are one household already. The merge's id."""
    assert review.known_value is not None and review.claimed_value is not None
    survivor, merged = (followed(session, h) for h in (review.known_value,
                                                        review.claimed_value))
    if survivor == merged:
        return None
    if repository.has_merged_into_it(session, merged) and \
            not repository.has_merged_into_it(session, survivor):
        survivor, merged = merged, survivor
    return merge(session, caller, survivor_id=survivor, merged_id=merged, by=by,
                 review_id=review.id, expressions=("id", "id")).id


def undo(session: Session, caller: Caller | None, merge_id: str, by: str,
         comment: str) -> HouseholdMerge:
    """The merged household as it was, from now on; the merge stays on record. Once (404 for
    an unknown merge, 409 for one undone already, both naming ``id``)."""
    row = claim_undo(session, HouseholdMerge, merge_id, by, comment)
    households = {hid: session.get(HouseholdRow, hid, with_for_update=True)
                  for hid in sorted((row.survivor_id, row.merged_id))}
    survivor, merged = households[row.survivor_id], households[row.merged_id]
    assert survivor is not None and merged is not None
    before = group_of(session, survivor), group_of(session, merged)
    _restore(session, row)
    new_version(session, survivor, before[0])
    new_version(session, merged, before[1])
    _logged(session, caller, by, "household.unmerged", row)
    return row


def live_household(session: Session, caller: Caller, household_id: str,
                   to_change: bool = False) -> HouseholdRow:
    """``service.visible_household``, but a household merged away is 410 naming
    ``Group.id``, its diagnostics the survivor's ``Group/{id}``, to whoever may see the
    survivor (to anyone else, 404 as for any household it may not see)."""
    survivor = repository.survivor_of(session, household_id)
    if survivor is not None and repository.visible(session, caller, survivor) is not None:
        raise Gone(f"this household is merged into Group/{survivor}; read and change that one",
                   expression="Group.id")
    return visible_household(session, caller, household_id, to_change)


def followed(session: Session, household_id: str) -> str:
    """The household to answer for: the survivor of a household merged away, else itself."""
    return repository.survivor_of(session, household_id) or household_id


def _move(session: Session, survivor_id: str, merged_id: str) -> dict[str, Any]:
    """Move ``merged``'s memberships (a resident the survivor has already: dropped, the
    survivor's stands) and source ids to the survivor; what ``merged`` was, for the undo."""
    had = repository.members(session, survivor_id)
    residents = {canonical_id(session, m.person_id) for m in had}
    position = max((m.position for m in had), default=-1) + 1
    members = []
    for member in repository.members(session, merged_id):
        members.append({"id": member.id, "person": member.person_id,
                        "position": member.position, "role": member.role,
                        "start": _day(member.period_start), "end": _day(member.period_end)})
        resident = canonical_id(session, member.person_id)
        if resident in residents:
            session.delete(member)
            continue
        residents.add(resident)
        member.household_id, member.position = survivor_id, position
        position += 1
    identifiers = []
    for identifier in repository.identifiers(session, merged_id):
        identifiers.append({"system": identifier.system, "value": identifier.value})
        identifier.household_id = survivor_id
    session.flush()
    return {"members": members, "identifiers": identifiers}


def _restore(session: Session, row: HouseholdMerge) -> None:
    """The merged household's memberships and ids back from the survivor, as they were. A
    membership the survivor still has (by row) moves back; one it no longer has (dropped at
    the merge as a resident it had, or removed since) is made again."""
    moved = row.moved
    ids = [m["id"] for m in moved["members"]]
    existing = {m.id: m for m in session.scalars(
        select(HouseholdMember).where(HouseholdMember.id.in_(ids)))} if ids else {}
    for saved in moved["members"]:
        member = existing.get(saved["id"])
        if member is None:
            member = HouseholdMember(id=saved["id"], person_id=saved["person"])
            session.add(member)
        elif member.household_id != row.survivor_id:
            continue  # not the survivor's: nothing of the merge's to take back
        member.household_id, member.position, member.role = (
            row.merged_id, saved["position"], saved["role"])
        member.period_start, member.period_end = _date(saved["start"]), _date(saved["end"])
    for saved in moved["identifiers"]:
        identifier = session.get(HouseholdIdentifier, (saved["system"], saved["value"]))
        if identifier is not None and identifier.household_id == row.survivor_id:
            identifier.household_id = row.merged_id
    session.flush()


def _logged(session: Session, caller: Caller | None, by: str, action: str,
            row: HouseholdMerge) -> None:
    """Under every member of both households (pseudonymised), so each one's log and access
    report shows their household was merged or restored; ids only in the details."""
    persons = {m.person_id for hid in (row.survivor_id, row.merged_id)
               for m in repository.members(session, hid)}
    persons |= {m["person"] for m in row.moved["members"]}
    for person_id in sorted(persons):
        audit.record(session, kind="review", action=action, activity_id=ACTIVITY_IDENTITY,
                     **actor(caller, by), person_id=person_id,
                     details={"merge": row.id, "survivor": f"Group/{row.survivor_id}",
                              "merged": f"Group/{row.merged_id}",
                              **({"review": row.review_id} if row.review_id else {})})
    log.info(action.replace(".", "_"), resource_id=row.id)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
