"""``/identity/reviews``: the queue of conflicting identity facts, for administrators."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.auth.callers import IdentityReviewer
from gateway.identity.repository import reviews
from gateway.identity.service import (
    MAX_COMMENT_LENGTH,
    RESOLUTIONS,
    resolve,
    review_json,
)
from gateway.referrals.service import settle_identity
from gateway.runtime import DbSession, RuntimeDep
from gateway.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/identity", tags=["identity"], route_class=UnitOfWorkRoute)


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Literal["known-is-right", "claimed-is-right", "different-person"] = Field(
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
                              body.comment, caller.actor.id if caller.actor else
                              caller.client_id, settle_identity)
    return JSONResponse({**review_json(review), **outcome})
