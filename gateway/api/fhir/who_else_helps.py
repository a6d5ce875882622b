"""``GET /fhir/Patient/{id}/$who-else-helps``: the organisations involved with a resident, as
a CareTeam whose participants are Organizations (identifier and name only), one per
involvement with its period. Rules: ``gateway.disclosure.who_else_helps``.
``/fhir/OperationDefinition/who-else-helps`` describes the operation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from gateway.api.callers import WhoElseHelpsRead
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.disclosure.who_else_helps import Helper, who_else_helps, who_else_helps_members
from gateway.fhir.base_url import public_base
from gateway.fhir.render import fhir_identifier
from gateway.households import repository as households
from gateway.platform.errors import BadRequest, NotFound
from gateway.platform.fhir_json import FhirResponse
from gateway.platform.unit_of_work import UnitOfWorkRoute
from schemas import safe_name, shown

router = APIRouter(prefix="/fhir", tags=["Patient"], route_class=UnitOfWorkRoute)
NAME = "who-else-helps"
DEFINITION = f"https://wijkgateway.nl/fhir/OperationDefinition/{NAME}"
TEAM_SYSTEM = "https://wijkgateway.nl/fhir/NamingSystem/team"
CLIENT_SYSTEM = "https://wijkgateway.nl/fhir/NamingSystem/client"
BOOLEANS = {"true": True, "false": False}
PARAMETERS = frozenset({"ended", "_pretty"})
DOCUMENTATION = (
    "Which organisations are involved with the resident (their merge set), not what they do: "
    "a CareTeam whose participants are Organizations (identifier and name), each with the "
    "period of its involvement. Only an organisation involved now gets an answer (403 "
    "otherwise, the same for an unknown id). Veilig Thuis is named only to Veilig Thuis, "
    "sensitive care only with the resident's consent for the asking organisation. On a Group "
    "(household): a Bundle of the answers for the members the caller's organisation helps.")


@router.get(f"/Patient/{{patient_id}}/${NAME}", response_class=FhirResponse)
def patient_who_else_helps(patient_id: str, request: Request, caller: WhoElseHelpsRead,
                           session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    """The organisations involved with a resident your organisation helps; ``ended=true``
    adds involvements that have ended. Anyone else: 403, the same whether known or not."""
    ended = _ended(request)
    helpers = who_else_helps(session, runtime.register, caller, patient_id, ended=ended)
    return FhirResponse(render_care_team(patient_id, helpers))


@router.get(f"/Group/{{group_id}}/${NAME}", response_class=FhirResponse)
def group_who_else_helps(group_id: str, request: Request, caller: WhoElseHelpsRead,
                         session: DbSession, runtime: RuntimeDep) -> FhirResponse:
    """A household: a Bundle with the answer for each member (present or past) your
    organisation helps now; the others are left out. None: 403, as for an unknown Group."""
    ended = _ended(request)
    members = [m.person_id for m in households.members(session, group_id)]
    answers = who_else_helps_members(session, runtime.register, caller, members, ended=ended)
    return FhirResponse({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": render_care_team(person_id, helpers)}
        for person_id, helpers in answers.items()]})


@router.get("/OperationDefinition/{operation_id}", response_class=FhirResponse)
def read_operation_definition(operation_id: str, request: Request) -> FhirResponse:
    """What ``$who-else-helps`` takes and answers (public, as ``/fhir/metadata`` is)."""
    if operation_id != NAME:
        raise NotFound(f"no such OperationDefinition; this gateway defines {NAME}",
                       expression="OperationDefinition.id")
    return FhirResponse(definition(public_base(request)))


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
        "resource": ["Patient", "Group"], "system": False, "type": False, "instance": True,
        "affectsState": False,
        "parameter": [
            {"name": "ended", "use": "in", "min": 0, "max": "1", "type": "boolean",
             "documentation": "true: also involvements that have ended (default false)."},
            {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Resource",
             "documentation": "On Patient a CareTeam whose participants are Organizations; "
             "on Group a Bundle (collection) of such CareTeams, one per member the caller's "
             f"organisation helps. See {base_url}/docs."}]}


def _organization(helper: Helper) -> dict[str, Any]:
    """A logical reference: the organisation's identifier and name, nothing of its work."""
    kind, _, value = helper.organization.partition(":")
    identifier = (fhir_identifier(helper.organization) if kind in ("agb", "ura")
                  else {"system": CLIENT_SYSTEM, "value": value} if kind == "client"
                  else {"system": TEAM_SYSTEM, "value": helper.organization})
    return {"type": "Organization", "identifier": identifier, "display": helper.name}


def _ended(request: Request) -> bool:
    """The one parameter (``_pretty`` aside): each once, ``ended`` true or false."""
    given: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in PARAMETERS:
            raise BadRequest(f"unsupported parameter {shown(name)} of ${NAME}; supported: "
                             "ended", expression=safe_name(name[:40]))
        if name in given:
            raise BadRequest("give each parameter once", expression=name)
        given[name] = value
    for name in ("ended", "_pretty"):
        if given.get(name, "false") not in BOOLEANS:
            raise BadRequest(f"{name} takes true or false", expression=name)
    return BOOLEANS[given.get("ended", "false")]
