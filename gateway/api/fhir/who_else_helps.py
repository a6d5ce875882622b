"""``GET /fhir/Patient/{id}/$who-else-helps``: the organisations involved with a resident, as
a CareTeam whose participants are Organizations (identifier and name only), one per
involvement with its period. Rules: ``gateway.disclosure.who_else_helps``.
``/fhir/OperationDefinition/who-else-helps`` describes the operation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.api.callers import WhoElseHelpsRead
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.disclosure.who_else_helps import (
    Helper,
    who_else_helps,
    who_else_helps_members,
    who_else_helps_resident,
)
from gateway.fhir.render import organization_identifier
from gateway.households import repository as households
from gateway.households.merging import followed
from gateway.platform.errors import BadRequest
from gateway.platform.fhir_json import FhirResponse
from gateway.platform.unit_of_work import UnitOfWorkRoute
from schemas import is_valid_bsn, safe_name, shown

router = APIRouter(prefix="/fhir", tags=["Patient"], route_class=UnitOfWorkRoute)
NAME = "who-else-helps"
DEFINITION = f"https://wijkgateway.nl/fhir/OperationDefinition/{NAME}"
BSN_SYSTEM = "http://fhir.nl/fhir/NamingSystem/bsn"
BOOLEANS = {"true": True, "false": False}
PARAMETERS = frozenset({"ended", "_pretty"})
TYPE_PARAMETERS = PARAMETERS | {"identifier"}
DOCUMENTATION = (
    "Which organisations are involved with the resident (their merge set), not what they do: "
    "a CareTeam whose participants are Organizations (identifier and name), each with the "
    "period of its involvement. Only an organisation involved now gets an answer (403 "
    "otherwise, the same for an unknown id). Veilig Thuis is named only to Veilig Thuis, "
    "sensitive care only with the resident's consent for the asking organisation. On a Group "
    "(household): a Bundle of the answers for the members the caller's organisation helps; "
    "on a Group merged into another, the answers for that one. "
    f"On Patient without an id (a GP's system holds none): identifier={BSN_SYSTEM}|<BSN>.")


@router.get(f"/Patient/${NAME}", response_class=FhirResponse)
def resident_who_else_helps(request: Request, caller: WhoElseHelpsRead, session: DbSession,
                            runtime: RuntimeDep) -> FhirResponse:
    """The same question by the resident's BSN (``identifier=system|value``), for a system
    that knows the resident by BSN only, as a GP's does after a referral."""
    given = _parameters(request, TYPE_PARAMETERS)
    bsn = _bsn(given.get("identifier"))
    person_id, helpers = who_else_helps_resident(session, runtime.register, caller, bsn,
                                                 ended=_ended(given))
    return FhirResponse(render_care_team(person_id, helpers))


@router.get(f"/Patient/{{patient_id}}/${NAME}", response_class=FhirResponse)
def patient_who_else_helps(patient_id: str, request: Request, caller: WhoElseHelpsRead,
                           session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    """The organisations involved with a resident your organisation helps; ``ended=true``
    adds involvements that have ended. Anyone else: 403, the same whether known or not."""
    ended = _ended(_parameters(request, PARAMETERS))
    helpers = who_else_helps(session, runtime.register, caller, patient_id, ended=ended)
    return FhirResponse(render_care_team(patient_id, helpers))


@router.get(f"/Group/{{group_id}}/${NAME}", response_class=FhirResponse)
def group_who_else_helps(group_id: str, request: Request, caller: WhoElseHelpsRead,
                         session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    """A household: a Bundle with the answer for each member (present or past) your
    organisation helps now; the others are left out. None: 403, as for an unknown Group. A
    household merged into another answers for that one (its members moved there)."""
    ended = _ended(_parameters(request, PARAMETERS))
    members = [m.person_id for m in households.members(session, followed(session, group_id))]
    answers = who_else_helps_members(session, runtime.register, caller, members, ended=ended)
    return FhirResponse({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": render_care_team(person_id, helpers)}
        for person_id, helpers in answers.items()]})


def render_care_team(patient_id: str, helpers: tuple[Helper, ...]) -> dict[str, Any]:
    return {
        "resourceType": "CareTeam", "status": "active", "name": "Who else helps",
        "subject": {"reference": f"Patient/{patient_id}"},
        "participant": [{"member": _organization(h), "period": _period(h)} for h in helpers]}


def _period(helper: Helper) -> dict[str, str]:
    period = {"start": helper.start.isoformat()}
    if helper.end:
        period["end"] = helper.end.isoformat()
    return period


def definition(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationDefinition", "id": NAME, "url": DEFINITION,
        "name": "WhoElseHelps", "title": "Who else helps", "status": "active",
        "kind": "operation", "code": NAME, "description": DOCUMENTATION,
        "resource": ["Patient", "Group"], "system": False, "type": True, "instance": True,
        "affectsState": False,
        "parameter": [
            {"name": "identifier", "use": "in", "min": 0, "max": "1", "type": "token",
             "documentation": f"On Patient without an id only: {BSN_SYSTEM}|<BSN>."},
            {"name": "ended", "use": "in", "min": 0, "max": "1", "type": "boolean",
             "documentation": "true: also involvements that have ended (default false)."},
            {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Resource",
             "documentation": "On Patient a CareTeam whose participants are Organizations; "
             "on Group a Bundle (collection) of such CareTeams, one per member the caller's "
             f"organisation helps. See {base_url}/docs."}]}


def _organization(helper: Helper) -> dict[str, Any]:
    """A logical reference: the organisation's identifier and name, nothing of its work."""
    return {"type": "Organization", "identifier": organization_identifier(helper.organization),
            "display": helper.name}


def _parameters(request: Request, supported: frozenset[str]) -> dict[str, str]:
    """Each supported parameter once; anything else is a 400 naming it (never its value)."""
    given: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in supported:
            raise BadRequest(f"unsupported parameter {shown(name)} of ${NAME}; supported: "
                             f"{', '.join(sorted(supported - {'_pretty'}))}",
                             expression=safe_name(name[:40]))
        if name in given:
            raise BadRequest("give each parameter once", expression=name)
        given[name] = value
    return given


def _ended(given: dict[str, str]) -> bool:
    for name in ("ended", "_pretty"):
        if given.get(name, "false") not in BOOLEANS:
            raise BadRequest(f"{name} takes true or false", expression=name)
    return BOOLEANS[given.get("ended", "false")]


def _bsn(token: str | None) -> str:
    """``http://fhir.nl/fhir/NamingSystem/bsn|<BSN>``: the only identifier asked by."""
    if token is None:
        raise BadRequest(f"give the resident as identifier={BSN_SYSTEM}|<BSN>, or ask on "
                         f"Patient/{{id}}/${NAME}", expression="identifier")
    system, bar, value = token.partition("|")
    if not bar or system != BSN_SYSTEM:
        raise BadRequest(f"identifier must be {BSN_SYSTEM}|<BSN>", expression="identifier")
    if not is_valid_bsn(value):
        raise BadRequest("not a valid BSN (9 digits passing the elfproef)",
                         expression="identifier")
    return value
