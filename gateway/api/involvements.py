"""``/involvements``: administrators register that an organisation helps a resident (a team's
first contact before any referral, a GP practice by its AGB or URA). No team or GP client
holds the scope: an organisation cannot make itself involved."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gateway.api.callers import InvolvementAdmin
from gateway.api.runtime import DbSession
from gateway.involvements.service import (
    end_involvement,
    involvement_json,
    list_involvements,
    register_by_admin,
)
from gateway.platform.db.types import UtcInstant
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/involvements", tags=["involvements"], route_class=UnitOfWorkRoute)
_ORGANIZATION = re.compile(r"(?:agb|ura):[0-9]{8}|client:[A-Za-z0-9.\-]{1,57}|"
                           r"[a-z0-9][a-z0-9\-]{0,63}")


def _organization(value: str) -> str:
    if not _ORGANIZATION.fullmatch(value):
        raise ValueError("a team id (e.g. wijkteam-noord), agb:<8 digits>, ura:<8 digits> or "
                         "client:<client id>")
    return value


Organization = Annotated[str, AfterValidator(_organization)]


class InvolvementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organization: Organization
    patient: str = Field(max_length=80, description="'Patient/{id}' or the person's BSN.")
    start: UtcInstant | None = Field(None, description="Default: now.")
    end: UtcInstant | None = None


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    end: UtcInstant | None = Field(None, description="Default: now.")


@router.post("", status_code=201)
def register_involvement(body: InvolvementIn, caller: InvolvementAdmin,
                         session: DbSession) -> JSONResponse:
    """A resident unknown to the gateway (by BSN) is added, so a team can record their
    consent before a referral arrives."""
    row = register_by_admin(session, caller, body.organization, body.patient, body.start,
                            body.end)
    return JSONResponse(involvement_json(row), status_code=201)


@router.get("")
def search_involvements(caller: InvolvementAdmin, session: DbSession,
                        patient: str | None = None) -> JSONResponse:
    """The newest registrations first (at most 100), or every involvement of ``patient``."""
    return JSONResponse({"involvements": [involvement_json(r) for r in
                                          list_involvements(session, patient)]})


@router.post("/{involvement_id}/end")
def end(involvement_id: str, body: EndIn, caller: InvolvementAdmin,
        session: DbSession) -> JSONResponse:
    return JSONResponse(involvement_json(end_involvement(session, caller, involvement_id,
                                                         body.end)))
