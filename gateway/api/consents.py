"""``POST /consent/decisions``: ask the engine before sharing, outside the gateway's own flows.
A meldrecht override is stored for a privacy officer's review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from consent import DecisionError, Override, Recipient
from gateway.api.callers import ConsentRead
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.consents import repository
from gateway.consents.decisions import decide_for, decision_json
from gateway.persons import involved_person
from gateway.platform.db.models import OverrideRow, Person
from gateway.platform.db.types import UtcInstant, utcnow
from gateway.platform.errors import BadRequest
from gateway.platform.logging import get_logger
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/consent", tags=["consent"], route_class=UnitOfWorkRoute)
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,63}$")]
log = get_logger()


class RecipientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organization: Slug
    role: Slug


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    justification: str = Field(min_length=20, max_length=4000,
                               description="Why the report cannot wait for consent.")
    meldcode_step: int = Field(ge=1, le=5, description="The step of the meldcode reached.")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity: Slug
    patient: str = Field(max_length=80, description="'Patient/{id}' or the person's BSN.")
    recipients: list[RecipientIn] = Field(min_length=1, max_length=50)
    categories: list[Slug] | None = Field(None, max_length=20,
                                          description="Default: every category of the activity.")
    at: UtcInstant | None = Field(None, description="Default: now.")
    override: OverrideIn | None = None


@router.post("/decisions")
def consent_decision(body: DecisionIn, caller: ConsentRead, session: DbSession,
                     runtime: RuntimeDep) -> JSONResponse:
    """Permit or deny per recipient, the fields each may receive, the rules and records that
    decided, and a one-line explanation."""
    person = involved_person(session, caller, body.patient, "consent.decision_refused")
    at = body.at or utcnow()
    override = Override(body.override.justification, body.override.meldcode_step) \
        if body.override else None
    try:
        decision = decide_for(
            session, runtime.register, body.activity, person.id,
            tuple(Recipient(r.organization, r.role) for r in body.recipients), at=at,
            categories=frozenset(body.categories) if body.categories is not None else None,
            override=override)
    except DecisionError as error:
        raise BadRequest(str(error), expression=error.field_name) from None
    answer: dict[str, Any] = {**decision_json(decision), "at": at.isoformat()}
    _hide_others_records(session, caller, answer)
    if override is not None:
        answer["override"] = _store_override(session, caller, person, answer, override)
    audit.record(session, kind="override" if override else "read",
                 action="consent.meldrecht_override" if override else "consent.decided",
                 outcome="ok" if answer["decision"] == "permit" else "denied",
                 activity_id=decision.activity_id, actor_id=caller.client_id,
                 person_id=person.id, categories=frozenset().union(
                     *(d.permitted for d in decision.recipients)),
                 details={"recipients": [f"{d.recipient.organization} ({d.verdict})"
                                         for d in decision.recipients],
                          **({"override": answer["override"]["id"],
                              "meldcode_step": override.meldcode_step} if override else {})})
    log.info("consent_decided", activity_id=decision.activity_id, decision=answer["decision"],
             client_id=caller.client_id, override=override is not None)
    return JSONResponse(answer)


def _hide_others_records(session: DbSession, caller: Caller, answer: dict[str, Any]) -> None:
    """Name only the records the caller may read; count the others (recorded by other teams'
    systems), so the caller knows they weighed without learning which they are."""
    cited = {r for d in answer["recipients"] for r in d["records"]}
    readable = repository.visible_ids(session, caller, cited)
    for recipient in answer["recipients"]:
        recipient["records_of_others"] = sum(r not in readable for r in recipient["records"])
        recipient["records"] = [r for r in recipient["records"] if r in readable]


def _store_override(session: DbSession, caller: Caller, person: Person, answer: dict[str, Any],
                    override: Override) -> dict[str, str]:
    row = OverrideRow(activity_id=answer["activity"], person_id=person.id,
                      client_id=caller.client_id, decision=answer,
                      justification=override.justification,
                      meldcode_step=override.meldcode_step)
    session.add(row)
    session.flush()
    return {"id": row.id, "review_status": row.review_status}
