"""``/identity/reviews``: the queue of conflicting identity facts, probable matches and
ambiguous households; ``/identity/merges``: merged persons, and ``/identity/household-merges``:
merged households, and undoing a merge; for administrators."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.callers import IdentityReviewer
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.auth.bearer import Caller
from gateway.households import merging as households
from gateway.households.repository import merges_of as household_merges_of
from gateway.identity.merges import merges_of
from gateway.identity.merging import merge, merge_json, undo
from gateway.identity.repository import reviews
from gateway.identity.service import (
    MAX_COMMENT_LENGTH,
    RESOLUTIONS,
    resolve,
    review_json,
)
from gateway.pipeline.reviews import settle
from gateway.platform.unit_of_work import UnitOfWorkRoute

PATIENT = r"^Patient/[A-Za-z0-9\-.]{1,64}$"
GROUP = r"^Group/[A-Za-z0-9\-.]{1,64}$"
GROUP_OR_ID = r"^(Group/)?[A-Za-z0-9\-.]{1,64}$"

router = APIRouter(prefix="/identity", tags=["identity"], route_class=UnitOfWorkRoute)


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Literal["known-is-right", "claimed-is-right", "different-person", "merge",
                        "keep-apart", "same-household", "different-households",
                        "holds-authority", "no-authority"] = Field(
        description="; ".join(f"`{k}`: {v}" for k, v in RESOLUTIONS.items()))
    comment: str = Field(min_length=5, max_length=MAX_COMMENT_LENGTH,
                         description="Why, for the log.")


@router.get("/reviews")
def list_reviews(caller: IdentityReviewer, session: DbSession,
                 status: Literal["open", "resolved"] | None = "open") -> JSONResponse:
    """Open reviews first in, first out (``status=resolved`` for the settled ones)."""
    return JSONResponse({"reviews": [review_json(r) for r in reviews(session, status)]})


@router.post("/reviews/{review_id}/resolve")
def resolve_review(review_id: str, body: ResolutionIn, caller: IdentityReviewer,
                   session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    review, outcome = resolve(session, caller, runtime.register, review_id, body.resolution,
                              body.comment, _by(caller), settle,
                              merge_households=households.merge_reviewed)
    return JSONResponse({**review_json(review), **outcome})


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    survivor: str = Field(pattern=PATIENT, description="`Patient/{id}` the resident stays.")
    merged: str = Field(pattern=PATIENT, description="`Patient/{id}` that joins it.")
    comment: str = Field(min_length=5, max_length=MAX_COMMENT_LENGTH,
                         description="Why, for the log.")


class UndoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=5, max_length=MAX_COMMENT_LENGTH,
                         description="Why, for the log.")


@router.get("/merges")
def list_merges(caller: IdentityReviewer, session: DbSession,
                patient: str = Query(pattern=PATIENT)) -> JSONResponse:
    """Every merge, in force or undone, the person was part of."""
    return JSONResponse({"merges": [merge_json(m) for m in merges_of(
        session, patient.removeprefix("Patient/"))]})


@router.post("/merges")
def merge_persons(body: MergeIn, caller: IdentityReviewer, session: DbSession) -> JSONResponse:
    """Merge two persons known to be one resident (without a review; reversible)."""
    row = merge(session, caller, survivor_id=body.survivor.removeprefix("Patient/"),
                merged_id=body.merged.removeprefix("Patient/"), by=_by(caller),
                comment=body.comment)
    return JSONResponse(merge_json(row), status_code=201)


@router.post("/merges/{merge_id}/undo")
def undo_merge(merge_id: str, body: UndoIn, caller: IdentityReviewer,
               session: DbSession) -> JSONResponse:
    """Two residents again: later decisions, deliveries and reports see each on its own."""
    return JSONResponse(merge_json(undo(session, caller, merge_id, _by(caller), body.comment)))


class HouseholdMergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    survivor: str = Field(pattern=GROUP, description="`Group/{id}` the household stays.")
    merged: str = Field(pattern=GROUP, description="`Group/{id}` that joins it (its members "
                                                   "and ids move; a read of it is then 410).")
    comment: str = Field(min_length=5, max_length=MAX_COMMENT_LENGTH,
                         description="Why, for the log.")


@router.get("/household-merges")
def list_household_merges(caller: IdentityReviewer, session: DbSession,
                          group: str = Query(pattern=GROUP_OR_ID)) -> JSONResponse:
    """Every merge, in force or undone, the household (``Group/{id}`` or its id) was part
    of."""
    return JSONResponse({"merges": [merge_json(m, "Group") for m in household_merges_of(
        session, group.removeprefix("Group/"))]})


@router.post("/household-merges")
def merge_households(body: HouseholdMergeIn, caller: IdentityReviewer,
                     session: DbSession) -> JSONResponse:
    """Merge two households known to be one home (without a review; reversible)."""
    row = households.merge(session, caller, survivor_id=body.survivor.removeprefix("Group/"),
                           merged_id=body.merged.removeprefix("Group/"), by=_by(caller),
                           comment=body.comment)
    return JSONResponse(merge_json(row, "Group"), status_code=201)


@router.post("/household-merges/{merge_id}/undo")
def undo_household_merge(merge_id: str, body: UndoIn, caller: IdentityReviewer,
                         session: DbSession) -> JSONResponse:
    """The merged household back as it was (its members and ids); the merge stays on
    record."""
    return JSONResponse(merge_json(households.undo(session, caller, merge_id, _by(caller),
                                                   body.comment), "Group"))


def _by(caller: Caller) -> str:
    return caller.actor.id if caller.actor else caller.client_id
