"""Merging two person records into one resident, and undoing it. A merge moves no rows: it
records that ``merged`` is ``survivor`` (``gateway.identity.merges`` answers the set for
every later decision, delivery, audit search and access report), so undoing it is setting
``undone_at``. Both are logged under both persons. ``locked_pair``, ``claim_undo``,
``merge_json`` and ``actor`` serve household merges too (``gateway.households.merging``).
Never commits."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.identity.merges import canonical_id, person_ids
from gateway.platform.db.models import (
    HouseholdMerge,
    HouseholdRow,
    IdentityReview,
    Person,
    PersonMerge,
)
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Conflict, NotFound, Unprocessable
from gateway.platform.logging import get_logger

ACTIVITY_IDENTITY = "identity-matching"  # the register's activity for matching and merging
log = get_logger()


def merge(session: Session, caller: Caller | None, *, survivor_id: str, merged_id: str,
          by: str, review_id: str | None = None, comment: str | None = None,
          expressions: tuple[str, str] = ("survivor", "merged")) -> PersonMerge:
    """``merged`` becomes part of ``survivor``'s set. Sets stay stars: the survivor must not
    be merged itself, the merged one must neither be merged nor have others merged into it,
    and two persons with different BSNs are two residents. ``expressions`` name the two
    elements in the errors. Both person rows are locked for the check (PostgreSQL)."""
    survivor_expr, merged_expr = expressions
    survivor, merged = locked_pair(session, Person, survivor_id, merged_id, expressions,
                                   "person")
    if (into := canonical_id(session, merged_id)) != merged_id:
        raise Conflict(f"this person is merged into Patient/{into} already; undo that merge "
                       "first", expression=merged_expr)
    if (into := canonical_id(session, survivor_id)) != survivor_id:
        raise Conflict(f"this person is merged into Patient/{into}; merge into that one",
                       expression=survivor_expr)
    if len(person_ids(session, merged_id)) > 1:
        raise Conflict("other persons are merged into this one; merge the other way round",
                       expression=merged_expr)
    if survivor.bsn and merged.bsn and survivor.bsn != merged.bsn:
        raise Conflict("the two persons have different BSNs: they are two residents",
                       expression=merged_expr)
    row = PersonMerge(survivor_id=survivor_id, merged_id=merged_id, review_id=review_id,
                      merged_by=by, merged_at=utcnow(), comment=comment)
    session.add(row)
    session.flush()
    _logged(session, caller, by, "identity.merged", row, review=review_id)
    return row


def merge_reviewed(session: Session, caller: Caller | None, review: IdentityReview,
                   by: str) -> PersonMerge:
    """A probable match resolved as one resident: the review's new person joins the set of
    the known one (its canonical person, should the candidate have been merged since)."""
    assert review.candidate_id is not None
    return merge(session, caller, survivor_id=canonical_id(session, review.candidate_id),
                 merged_id=review.person_id, by=by, review_id=review.id,
                 expressions=("id", "id"))


def undo(session: Session, caller: Caller | None, merge_id: str, by: str,
         comment: str) -> PersonMerge:
    """Two residents again, from now on; the merge stays on record. Once (a conditional
    update: of two at the same time one gets 409)."""
    row = claim_undo(session, PersonMerge, merge_id, by, comment)
    _logged(session, caller, by, "identity.unmerged", row)
    return row


MergeRow = TypeVar("MergeRow", PersonMerge, HouseholdMerge)
Merged = TypeVar("Merged", Person, HouseholdRow)


def locked_pair(session: Session, model: type[Merged], survivor_id: str, merged_id: str,
                expressions: tuple[str, str], noun: str) -> tuple[Merged, Merged]:
    """The two records of a merge, locked in id order (PostgreSQL: two merges of one pair
    wait for each other, never deadlock); an unknown one, or a record merged with itself,
    is a 422 naming its element in ``expressions`` (survivor, merged)."""
    rows = {row_id: session.get(model, row_id, with_for_update=True)
            for row_id in sorted({survivor_id, merged_id})}
    for row_id, expr in zip((survivor_id, merged_id), expressions, strict=True):
        if rows[row_id] is None:
            raise Unprocessable(f"no such {noun}", expression=expr)
    if survivor_id == merged_id:
        raise Unprocessable(f"a {noun} cannot be merged with itself",
                            expression=expressions[1])
    survivor, merged = rows[survivor_id], rows[merged_id]
    assert survivor is not None and merged is not None
    return survivor, merged


def claim_undo(session: Session, model: type[MergeRow], merge_id: str, by: str,
               comment: str) -> MergeRow:
    """Mark a merge (of persons or of households) undone, once: an unknown one is 404, one
    undone already 409, both naming ``id``; of two undos at the same time one gets 409."""
    row = session.get(model, merge_id)
    if row is None:
        raise NotFound("no such merge", expression="id")
    undone = session.execute(update(model).where(
        model.id == merge_id, model.undone_at.is_(None)).values(
        undone_at=utcnow(), undone_by=by, undo_comment=comment))
    if undone.rowcount != 1:
        raise Conflict("this merge is undone already", expression="id")
    session.refresh(row)
    return row


def merge_json(row: PersonMerge | HouseholdMerge, resource: str = "Patient") -> dict[str, Any]:
    """A merge as the API shows it; ``resource`` names what was merged (Patient, Group)."""
    return {"id": row.id, "survivor": f"{resource}/{row.survivor_id}",
            "merged": f"{resource}/{row.merged_id}", "review": row.review_id,
            "merged_by": row.merged_by, "merged_at": row.merged_at.isoformat(),
            "undone_by": row.undone_by,
            "undone_at": row.undone_at.isoformat() if row.undone_at else None,
            "status": "undone" if row.undone_at else "in-force"}


def actor(caller: Caller | None, by: str) -> dict[str, str]:
    """Who a review or merge entry names: the client, or the console's officer."""
    return {"actor_type": "client" if caller else "officer",
            "actor_id": caller.client_id if caller else by}


def _logged(session: Session, caller: Caller | None, by: str, action: str, row: PersonMerge,
            **details: str | None) -> None:
    """Under both persons' pseudonyms, so each one's log and access report shows it."""
    for person_id in (row.survivor_id, row.merged_id):
        audit.record(session, kind="review", action=action, activity_id=ACTIVITY_IDENTITY,
                     **actor(caller, by), person_id=person_id,
                     details={"merge": row.id, "survivor": row.survivor_id,
                              "merged": row.merged_id,
                              **{k: v for k, v in details.items() if v}})
    log.info(action.replace(".", "_"), resource_id=row.id)
